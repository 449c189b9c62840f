"""Routes of K5 public_welfare_post (公益性岗位, §17)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import welfare_post
from policy.difficult import PERSON_FACT_TYPES
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, signal_listening, signal_open

KIND = kinds.PUBLIC_WELFARE_POST
HOLDS_SHARED_FACTS = True
# The case judges K12 on the facts about the person stored before the placement arrived.
FACT_TYPES = tuple(PERSON_FACT_TYPES)
# A placement rejected for want of a K12 fact is judged again when one arrives late (POLICY.md
# part 2 "late facts across topics"): the K12 facts about the person reach its listening case.
K12_LATE_FACTS = tuple(t for t in PERSON_FACT_TYPES if t != "welfare_post.placed")
# Leaving the post and a stable contract reach a closed case still listening too: one rejected
# holds them (a late K12 fact may reopen it, and it must then end where the person left, not pay
# on), one that paid is corrected by them (POLICY.md part 2: facts correct a case for
# ledger.correction_days after it closed). Before, both went to open cases only, so a leaving
# sent right after a late registration was dead-lettered and the reopened case paid on.
CORRECTING_FACTS = welfare_post.OFF_POST_EVENTS
LATE_FACTS = K12_LATE_FACTS + CORRECTING_FACTS


def placed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    params = pack.parameters(d["city"])
    starts_on = date.fromisoformat(d["starts_on"])
    if d["kind"] == "temporary" and not welfare_post.temporary_months_valid(d.get("months"), params, starts_on):
        return [
            Reject(
                f"welfare_post.placed: a temporary post needs months in "
                f"{params.get('welfare_post.temporary_months_min', starts_on)}.."
                f"{params.get('welfare_post.temporary_months_max', starts_on)}, got {d.get('months')}"
            )
        ]
    running = [c.case_id for c in open_cases if c.kind == KIND]
    if running:
        # One post at a time; a new placement comes after the last one closed (§17 再次安置).
        return [Reject(f"welfare_post.placed: {d['person_id']} is still placed ({running[0]})", case_id=running[0])]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.welfare_post_case_id(d["person_id"], d["post_id"], d["starts_on"]),
            city=d["city"],
            keys=[f"person/{d['person_id']}"],
            match={"post_id": d["post_id"]},
        )
    ]


def left(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    post = event.data["post_id"]
    return signal_open([*open_cases, *listening], KIND, post_id=post) or [
        Reject(f"welfare_post.left: no open or listening welfare-post case for {event.subject} at post {post}")
    ]


def contract(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    return signal_open([*open_cases, *listening], KIND) or [Ignore("no open or listening welfare-post case for this person")]


def late_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: list[OpenCase]) -> list[Command]:
    return signal_listening(listening, KIND) or [Ignore("no rejected welfare-post case of this person is listening")]


ROUTES: dict[str, Handler] = {
    "welfare_post.placed": placed,
    "welfare_post.left": left,
    "contract.signed": contract,
    **{t: late_fact for t in K12_LATE_FACTS},
}
