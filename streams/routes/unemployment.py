"""Routes of K2 unemployment_insurance and K3 unemployment_assistance (§18).

K3 cases are opened by K2 cases, never by an input event; both take the re-employment signals
of their person. (K3's membership in the shared-fact fan-out is declared by
`streams/routes/unemployment_assistance.py`, one module per kind.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import unemployment
from policy.pack import PolicyPack
from streams.routes.commands import Command, FanOut, Handler, Ignore, Reject, SignalCase, StartCase

KIND = kinds.UNEMPLOYMENT_INSURANCE
HOLDS_SHARED_FACTS = True
# Re-employment facts still correct a closed K2 case in its `ledger.correction_days` window.
LATE_FACTS = ("employment.registered", "contract.signed", "contribution.paid")
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)


def _open_of_person(open_cases: list[OpenCase], person_id: str, kinds: tuple[str, ...]) -> list[OpenCase]:
    key = f"person/{person_id}"
    seen: set[str] = set()
    found = []
    for c in open_cases:
        if c.kind in kinds and c.key == key and c.case_id not in seen:
            seen.add(c.case_id)
            found.append(c)
    return found


def claim_filed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`ui.claim.filed` opens a K2 case; a second claim while one runs cannot be taken."""
    d = event.data
    new_id = kinds.unemployment_insurance_case_id(d["person_id"], d["claim_on"])
    running = [c.case_id for c in _open_of_person(open_cases, d["person_id"], (KIND,)) if c.case_id != new_id]
    if running:
        return [Reject(f"ui.claim.filed: person/{d['person_id']} already has an open claim {running[0]}", case_id=running[0])]
    return [
        StartCase(
            kind=KIND,
            case_id=new_id,
            city=d["city"],
            keys=[f"person/{d['person_id']}"],
            match={"claim_on": d["claim_on"]},
        )
    ]


def reemployment(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """`employment.registered` / `contract.signed`: every open K2 or K3 case of the person, and
    the closed K2 cases still listening (the case judges the date)."""
    cases = _open_of_person([*open_cases, *listening], event.data["person_id"], (KIND, kinds.UNEMPLOYMENT_ASSISTANCE))
    return [SignalCase(c.case_id) for c in cases] or [Ignore("no open unemployment case for this person")]


def contribution_paid(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """An employer's contribution for a month after the claim is a sign of re-employment (to an
    open case, or a closed K2 case still listening).

    Almost every contribution is about someone without an unemployment case, so this decides
    from the open cases alone, without calling Temporal: flexible-employment contributions (no
    employer), and those for the claim's own month or before, are ignored here."""
    d = event.data
    if not d.get("employer_id"):
        return [Ignore("flexible-employment contribution: no sign of re-employment")]
    commands: list[Command] = []
    for c in _open_of_person([*open_cases, *listening], d["person_id"], (KIND, kinds.UNEMPLOYMENT_ASSISTANCE)):
        claim_on = c.match.get("claim_on")
        if c.kind == KIND and isinstance(claim_on, str) and not unemployment.contribution_after(d["month"], date.fromisoformat(claim_on)):
            continue
        commands.append(SignalCase(c.case_id))
    return commands or [Ignore("no open unemployment case this contribution is news for")]


def price_linkage(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """§18 价格联动: stored as a shared fact of the city and delivered to its open K2 cases; a K2
    case that starts later reads it in its context."""
    return [FanOut((KIND,), event.data["city"])]


ROUTES: dict[str, Handler] = {
    "ui.claim.filed": claim_filed,
    "employment.registered": reemployment,
    "contract.signed": reemployment,
    "contribution.paid": contribution_paid,
    "policy.price_linkage.triggered": price_linkage,
}
