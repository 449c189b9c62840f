"""Routes of K11 hubei_graduate_grant (§14): one case per person, ever.

The case id is the person's, so a second application reaches the same case: closed and
listening for corrections (`ledger.correction_days`) it takes the details again (corrected ones
may make it an overpayment), after that the intake reports it late; the grant is never paid twice.
"""

from __future__ import annotations

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import hubei
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase

KIND = kinds.HUBEI_GRADUATE_GRANT
# Decided on the day it opens; a backdated grant amount reaches it while it listens.
HOLDS_SHARED_FACTS = True


def application(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`application.submitted` for this program opens (or reaches) the person's case; details
    that miss a field or have a wrong type are bad input (dead letters)."""
    d = event.data
    if d["program"] != hubei.PROGRAM:
        return [Ignore(f"program {d['program']} is not {hubei.PROGRAM}")]
    details = d.get("details") or {}
    try:
        hubei.parse_details(details)
    except ValueError as exc:
        return [Reject(f"application.submitted ({hubei.PROGRAM}): {exc}")]
    return [
        StartCase(
            kind=KIND,
            case_id=kinds.hubei_grant_case_id(d["applicant"]),
            city=hubei.application_city(event.source, details),
            keys=[f"person/{d['applicant']}"],
        )
    ]


ROUTES: dict[str, Handler] = {"application.submitted": application}
