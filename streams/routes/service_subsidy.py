"""Routes of K18 employment_service_subsidy (就业创业服务补助, §20): one case per agency and year."""

from __future__ import annotations

from datetime import date

from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import service_subsidy as k18
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, StartCase

KIND = "employment_service_subsidy"
HOLDS_SHARED_FACTS = True  # a change of the per-service amounts applies to the quarters after it
# The employments that confirm a placement, read by the case when the quarter is settled.
FACT_TYPES = tuple(sorted(k18.CONFIRMING_FACTS))


def delivered(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """Every service reaches its agency's case of the service's year (the first one opens it)."""
    d = event.data
    year = date.fromisoformat(d["on"]).year
    return [StartCase(kind=KIND, case_id=k18.case_id(d["agency_id"], year), city=d["city"], keys=[k18.payee(d["agency_id"])])]


ROUTES: dict[str, Handler] = {"service.delivered": delivered}
