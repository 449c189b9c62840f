"""Routes of K9 unemployed_followup (§20): one case per unemployment registration.

The intake stores every type K12 reads (`policy.difficult.PERSON_FACT_TYPES`) as facts about
their persons, so the case (and K4/K5/K15) can build the person's profile with `load_facts`.
"""

from __future__ import annotations

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy.difficult import PERSON_FACT_TYPES
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, SignalCase, StartCase

KIND = kinds.UNEMPLOYED_FOLLOWUP
HOLDS_SHARED_FACTS = True  # followup.grace_days, trainee.* and difficult.* may change
FACT_TYPES: tuple[str, ...] = PERSON_FACT_TYPES


def _open_of_person(open_cases: list[OpenCase], person_id: str) -> list[str]:
    key = f"person/{person_id}"
    return sorted({c.case_id for c in open_cases if c.kind == KIND and c.key == key})


def registered(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`unemployment.registered` opens the registration's case. A new registration while an
    earlier one is still open (its deregistration never reached us) also reaches the earlier
    case, which closes: a person has one registration at a time. Never a dead letter, so other
    kinds' inputs are not lost over a follow-up detail."""
    d = event.data
    new_id = kinds.followup_case_id(d["person_id"], d["registered_on"])
    earlier: list[Command] = [SignalCase(c) for c in _open_of_person(open_cases, d["person_id"]) if c != new_id]
    return earlier + [
        StartCase(kind=KIND, case_id=new_id, city=d["city"], keys=[f"person/{d['person_id']}"], match={"registered_on": d["registered_on"]})
    ]


def to_open_case(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """Follow-ups, referrals, deregistration and employment reach the person's open case."""
    cases = _open_of_person(open_cases, event.data["person_id"])
    return [SignalCase(c) for c in cases] or [Ignore("no open unemployment registration for this person")]


ROUTES: dict[str, Handler] = {
    "unemployment.registered": registered,
    "unemployment.deregistered": to_open_case,
    "employment.registered": to_open_case,
    "followup.recorded": to_open_case,
    "referral.recorded": to_open_case,
}
