"""Routes of K10 dibao_taper (低保渐退, §18).

POLICY.md: the taper opens when a person receiving 低保 registers employment. Routing is pure
and sees only open cases, not stored facts, so it cannot tell from an `employment.registered`
alone whether the person receives 低保; opening a case for every employment to look it up would
open millions of empty cases. Instead `dibao.granted` opens a waiting case per person: it
learns the amount, waits for the employment (then the taper proper begins: decision, payments)
and closes `ended` without payment if `dibao.ended` comes first. A later grant for the same
person while the case waits reaches it (the amount changes).

After the taper closed it still listens for corrections (POLICY.md part 2, ledger.correction_days):
a grant that covers the employment the closed taper began on (from its month or earlier) speaks of
the 低保 the person received when employed, so it goes to that case, which judges whether it
restates the taper's amount (`policy.dibao.restates_amount`) and corrects the months paid. A grant
from a month after that employment is a new 低保 period (POLICY.md K10: a taper opens when a
person receiving 低保 registers employment, so only a later employment tapers it): it opens a new
waiting case, as does any grant once no taper of the person listens. The employment is read from
the stored facts: the first `employment.registered` the grant of the closed case covers, as the
case itself took it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent
from policy import dibao
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, SignalCase, StartCase

KIND = kinds.DIBAO_TAPER
HOLDS_SHARED_FACTS = True  # dibao.taper_* and dibao.decision_days may change
EMPLOYMENT = "employment.registered"
# A grant reaches a closed taper still listening when it covers the employment the taper began on.
LATE_FACTS = ("dibao.granted",)
ROUTE_FACTS = {"dibao.granted": {"person": (EMPLOYMENT,)}}


def _open_of_person(open_cases: list[OpenCase], person_id: str) -> list[str]:
    key = f"person/{person_id}"
    return sorted({c.case_id for c in open_cases if c.kind == KIND and c.key == key})


def taper_began_on(listening: OpenCase, facts: Sequence[Fact]) -> date | None:
    """The employment a closed taper began on: the first one its grant (from `from_month`) covers."""
    days = [f.on_date for f in facts if f.type == EMPLOYMENT and f.key == listening.key and f.on_date is not None
            and dibao.receiving_on(listening.match["from_month"], f.on_date)]
    return min(days) if days else None


def granted(
    event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact] = (),
    listening: Sequence[OpenCase] = (),
) -> list[Command]:
    d = event.data
    running = _open_of_person(open_cases, d["person_id"])
    if running:
        return [SignalCase(c) for c in running]
    corrected = _open_of_person(
        [c for c in listening if (on := taper_began_on(c, facts)) is not None and dibao.receiving_on(d["from_month"], on)],
        d["person_id"],
    )
    if corrected:
        return [SignalCase(c) for c in corrected]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.dibao_taper_case_id(d["person_id"], d["from_month"]),
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
