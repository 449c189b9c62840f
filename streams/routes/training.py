"""Routes of K14 vocational_training_subsidy (职业培训补贴, §1, §11, §13, §14, §15)."""

from __future__ import annotations

from activities.store import OpenCase
from contracts.events import CloudEvent
from policy import training_subsidy as k14
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase, signal_open

KIND = "vocational_training_subsidy"
HOLDS_SHARED_FACTS = True  # a backdated change of trainee.living_allowance applies to its months
# The person's registration, groups and contributions judged on the start date.
FACT_TYPES = k14.FACT_TYPES


def enrolled(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    return [StartCase(kind=KIND, case_id=k14.case_id(d["enrolment_id"]), city=d["city"], keys=[k14.enrolment_key(d["enrolment_id"])])]


def progress(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """A completion or a drop names its enrolment: it reaches that enrolment's open case."""
    key = k14.enrolment_key(event.data["enrolment_id"])
    return signal_open([c for c in open_cases if c.key == key], KIND) or [Ignore(f"no open training case for {key}")]


ROUTES: dict[str, Handler] = {
    "training.enrolled": enrolled,
    "training.completed": progress,
    "training.dropped": progress,
}
