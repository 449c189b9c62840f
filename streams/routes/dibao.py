"""Routes of K10 dibao_taper (低保渐退, §18).

POLICY.md: the taper opens when a person receiving 低保 registers employment. Routing is pure
and sees only open cases, not stored facts, so it cannot tell from an `employment.registered`
alone whether the person receives 低保; opening a case for every employment to look it up would
open millions of empty cases. Instead `dibao.granted` opens a waiting case per person: it
learns the amount, waits for the employment (then the taper proper begins: decision, payments)
and closes `ended` without payment if `dibao.ended` comes first. A later grant for the same
person while the case waits reaches it (the amount changes); after it closed, a new grant
opens a new case.
"""

from __future__ import annotations

from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, SignalCase, StartCase

KIND = "dibao_taper"
HOLDS_SHARED_FACTS = True  # dibao.taper_* and dibao.decision_days may change


def case_id(person_id: str, from_month: str) -> str:
    return f"dibao/{person_id}/{from_month}"


def _open_of_person(open_cases: list[OpenCase], person_id: str) -> list[str]:
    key = f"person/{person_id}"
    return sorted({c.case_id for c in open_cases if c.kind == KIND and c.key == key})


def granted(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    running = _open_of_person(open_cases, d["person_id"])
    if running:
        return [SignalCase(c) for c in running]
    return [
        StartCase(
            kind=KIND,
            case_id=case_id(d["person_id"], d["from_month"]),
            city=d["city"],
            keys=[f"person/{d['person_id']}"],
            match={"from_month": d["from_month"]},
        )
    ]


def to_open_case(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    cases = _open_of_person(open_cases, event.data["person_id"])
    return [SignalCase(c) for c in cases] or [Ignore("no open 低保 case for this person")]


ROUTES: dict[str, Handler] = {
    "dibao.granted": granted,
    "dibao.ended": to_open_case,
    "employment.registered": to_open_case,
}
