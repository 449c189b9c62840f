"""Routes of K1 internship_subsidy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import internship
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, signal_listening, signal_open

KIND = kinds.INTERNSHIP_SUBSIDY
HOLDS_SHARED_FACTS = True
# A completed (or ended, or hired) internship still takes, within ledger.correction_days, a hire,
# interruption or end dated inside it that arrives late (POLICY.md part 2); the case judges the date.
LATE_FACTS = ("contract.signed", "internship.ended", "internship.interrupted", "internship.resumed")


def opening(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    d = event.data
    params = pack.parameters(d["city"])
    starts_on = date.fromisoformat(d["starts_on"])
    if not internship.agreed_months_valid(d["months"], params, starts_on):
        return [
            Reject(
                f"internship.agreement_signed: months {d['months']} outside "
                f"{params.get('internship.months_min', starts_on)}..{params.get('internship.months_max', starts_on)}"
            )
        ]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.internship_case_id(d["person_id"], d["unit_id"], d["starts_on"]),
            city=d["city"],
            keys=[f"person/{d['person_id']}"],
            match={"unit_id": d["unit_id"]},
        )
    ]


def follow_up(
    event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()
) -> list[Command]:
    unit = event.data["unit_id"]
    return signal_open(open_cases, KIND, unit_id=unit) or signal_listening(list(listening), KIND, unit_id=unit) or [
        Reject(f"{event.type}: no open internship case for {event.subject} at unit {unit}")
    ]


def contract_signed(
    event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()
) -> list[Command]:
    unit = event.data["employer_id"]
    return signal_open(open_cases, KIND, unit_id=unit) or signal_listening(list(listening), KIND, unit_id=unit) or [
        Ignore("no open internship at this employer")
    ]


ROUTES: dict[str, Handler] = {
    "internship.agreement_signed": opening,
    "internship.interrupted": follow_up,
    "internship.resumed": follow_up,
    "internship.ended": follow_up,
    "contract.signed": contract_signed,
}
