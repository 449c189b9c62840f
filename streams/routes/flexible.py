"""Routes of K4 flexible_employment_subsidy (灵活就业社会保险补贴, §13, §16)."""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import flexible
from policy.difficult import PERSON_FACT_TYPES
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, application_city, signal_listening, signal_open

KIND = kinds.FLEXIBLE_EMPLOYMENT_SUBSIDY
HOLDS_SHARED_FACTS = True
# The case judges K12 on the facts about the person stored before the application arrived,
# and picks up the contributions paid before it (the application month's is usually among them).
FACT_TYPES = tuple(sorted(set(PERSON_FACT_TYPES) | {"contribution.paid"}))
# An application rejected for want of a K12 fact is judged again when one arrives late (POLICY.md
# part 2 "late facts across topics"): the K12 facts about the person reach its listening case.
K12_LATE_FACTS = tuple(t for t in PERSON_FACT_TYPES if t != "welfare_post.placed")
# A case that paid listens for ledger.correction_days after closing: a corrected contribution
# report or a stable contract dated in the past still corrects it (POLICY.md part 2), like an
# open one. The intake's one look-up of a batch's keys finds the listening cases too.
CORRECTING_FACTS = ("contribution.paid", "contract.signed")
LATE_FACTS = K12_LATE_FACTS + CORRECTING_FACTS
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)


def application(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    if d["program"] != flexible.PROGRAM:
        return [Ignore(f"application for {d['program']}: not a flexible-employment application")]
    applicant = d["applicant"]
    running = [c.case_id for c in open_cases if c.kind == KIND]
    if running:
        # One subsidy period at a time: a second application while one runs is a duplicate.
        return [Reject(f"application.submitted: {applicant} already has an open flexible-employment case {running[0]}", case_id=running[0])]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.flexible_employment_case_id(applicant, d["on"]),
            city=application_city(event),
            keys=[f"person/{applicant}"],
        )
    ]


def contribution(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    if event.data.get("employer_id"):
        return [Ignore("an employer's contribution is not a flexible-employment contribution")]
    return signal_open([*open_cases, *listening], KIND) or [Ignore("no open or listening flexible-employment case for this person")]


def contract(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    return signal_open([*open_cases, *listening], KIND) or [Ignore("no open or listening flexible-employment case for this person")]


def late_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: list[OpenCase]) -> list[Command]:
    return signal_listening(listening, KIND) or [Ignore("no rejected flexible-employment case of this person is listening")]


ROUTES: dict[str, Handler] = {
    "application.submitted": application,
    "contribution.paid": contribution,
    "contract.signed": contract,
    **{t: late_fact for t in K12_LATE_FACTS},
}
