"""Routes of K8 layoff_plan (经济性裁员, §3, §21): a filed plan opens the enterprise's case; the
union notice, the execution and the settlement reach the enterprise's open plan."""

from __future__ import annotations

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Reject, StartCase, signal_open

KIND = kinds.LAYOFF_PLAN
HOLDS_SHARED_FACTS = True
# Monitoring (streams/monitoring.py) finds the city of a `layoff.executed` (which has none) in
# the enterprise's stored registration or layoff plan.
FACT_TYPES = ("enterprise.registered", "layoff.plan_filed")


def plan_filed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    enterprise = f"enterprise/{d['enterprise_id']}"
    running = [c.case_id for c in open_cases if c.kind == KIND]
    if running:
        # The union notice, execution and settlement name only the enterprise: with two plans
        # open they could not be told apart.
        return [Reject(f"layoff.plan_filed: {enterprise} already has an open layoff plan {running[0]}", case_id=running[0])]
    return [StartCase(kind=KIND, case_id=kinds.layoff_plan_case_id(d["enterprise_id"], d["filed_on"]), city=d["city"], keys=[enterprise])]


def to_open_plan(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    return signal_open(open_cases, KIND) or [
        Reject(f"{event.type}: no layoff plan on file for enterprise/{event.data['enterprise_id']}")
    ]


ROUTES: dict[str, Handler] = {
    "layoff.plan_filed": plan_filed,
    "layoff.union_notified": to_open_plan,
    "layoff.executed": to_open_plan,
    "layoff.obligations_settled": to_open_plan,
}
