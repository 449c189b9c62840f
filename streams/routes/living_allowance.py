"""Routes of K17 temporary_living_allowance (临时生活补助, §18)."""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import living_allowance
from policy.difficult import PERSON_FACT_TYPES
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, application_city, signal_open

KIND = kinds.TEMPORARY_LIVING_ALLOWANCE
HOLDS_SHARED_FACTS = True  # a change of tla.monthly applies to the months starting after it
# The case judges eligibility on the facts about the person stored before the application.
FACT_TYPES = tuple(sorted(PERSON_FACT_TYPES))
# A closed allowance still takes, within ledger.correction_days, a re-employment dated before
# months it paid; one rejected for want of a registration or a hardship fact takes that fact
# within intake.late_fact_days.
REEMPLOYMENT = ("employment.registered", "contract.signed", "contribution.paid")
LATE_FACTS = tuple(sorted(set(REEMPLOYMENT) | set(PERSON_FACT_TYPES)))
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)


def application(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    if d["program"] != living_allowance.PROGRAM:
        return [Ignore(f"application for {d['program']}: not a temporary-living-allowance application")]
    applicant = d["applicant"]
    running = [c.case_id for c in open_cases if c.kind == KIND]
    if running:
        return [Reject(f"application.submitted: {applicant} already has an open temporary-living-allowance case {running[0]}", case_id=running[0])]
    return [StartCase(kind=KIND, case_id=kinds.living_allowance_case_id(applicant, d["on"]), city=application_city(event), keys=[f"person/{applicant}"])]


def reemployment(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """`employment.registered`, `contract.signed`, an employer's `contribution.paid`: the open
    case of the person (or a closed one still listening) judges whether and from when it is
    re-employment."""
    if event.type == "contribution.paid" and not event.data.get("employer_id"):
        return [Ignore("flexible-employment contribution: no sign of re-employment")]
    return signal_open([*open_cases, *listening], KIND) or [Ignore("no open temporary-living-allowance case for this person")]


def late_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """A fact about the person reaches their closed allowance cases still listening (one rejected
    for want of it is judged again)."""
    return signal_open(list(listening), KIND) or [Ignore("no temporary-living-allowance case of this person is listening")]


ROUTES: dict[str, Handler] = {
    "application.submitted": application,
    **{t: late_fact for t in LATE_FACTS},
    **{t: reemployment for t in REEMPLOYMENT},
}
