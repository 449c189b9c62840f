"""Routes of K14 vocational_training_subsidy (职业培训补贴, §1, §11, §13, §14, §15)."""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import training_subsidy
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase, signal_open

KIND = kinds.VOCATIONAL_TRAINING_SUBSIDY
HOLDS_SHARED_FACTS = True  # a backdated change of trainee.living_allowance applies to its months
# The person's registration, groups and contributions judged on the start date.
FACT_TYPES = training_subsidy.FACT_TYPES
# The facts that can put a person in a group (POLICY.md part 2 "late facts across topics"): an
# enrolment rejected without them takes one within intake.late_fact_days, and holds its own
# completion or drop meanwhile. Not an own contribution: it counts from the day it is reported
# (policy/training_subsidy.py is_flexible_worker), so one learnt after the start never does.
REGISTRATIONS = ("unemployment.registered", "employment.registered")
LATE_FACTS = ("training.completed", "training.dropped", *REGISTRATIONS)


def enrolled(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """An enrolment opens its case, found by the enrolment and by the person (for a late fact)."""
    d = event.data
    keys = [training_subsidy.enrolment_key(d["enrolment_id"]), f"person/{d['person_id']}"]
    return [StartCase(kind=KIND, case_id=kinds.training_case_id(d["enrolment_id"]), city=d["city"], keys=keys)]


def progress(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A completion or a drop names its enrolment: it reaches that enrolment's open case (or the
    rejected one still listening, which holds it)."""
    key = training_subsidy.enrolment_key(event.data["enrolment_id"])
    return signal_open([c for c in [*open_cases, *listening] if c.key == key], KIND) or [Ignore(f"no open training case for {key}")]


def registration(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """An unemployment registration or a flexible employment of the person reaches their
    enrolments still listening (each judges whether it was rejected for want of it)."""
    d = event.data
    if event.type == "employment.registered" and d.get("kind") != training_subsidy.FLEXIBLE_KIND:
        return [Ignore("not a flexible employment: puts the person in no training group")]
    key = f"person/{d['person_id']}"
    return signal_open([c for c in listening if c.key == key], KIND) or [Ignore(f"no enrolment of {key} is listening")]


ROUTES: dict[str, Handler] = {
    "training.enrolled": enrolled,
    "training.completed": progress,
    "training.dropped": progress,
    **{t: registration for t in REGISTRATIONS},
}
