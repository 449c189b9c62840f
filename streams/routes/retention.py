"""Routes of K7 job_retention_refund (稳岗返还, §1).

The case judges at once on the enterprise's stored facts, so the facts it reads are stored here
(FACT_TYPES); once refunded it listens for `ledger.correction_days` and those facts, reported
late, reach it (LATE_FACTS) and may correct the refund; rejected for want of one (the enterprise
not on file, nobody insured) it listens `intake.late_fact_days` for it and may reopen. One refund per enterprise and year: the
case id is that business key, so a second application reaches the same case.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent, city_of_source
from policy import enterprise_profile, retention
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, Reject, StartCase, signal_open

KIND = kinds.JOB_RETENTION_REFUND
# Decided on the day it opens; a backdated parameter change reaches it while it listens.
HOLDS_SHARED_FACTS = True
# Registration, enrolments, separations and contributions: the enterprise's profile.
FACT_TYPES = enterprise_profile.ENTERPRISE_FACT_TYPES
LATE_FACTS = FACT_TYPES
# Its contribution handler only reaches this kind's cases of the event's keys (streams/routes/kind_route.py).
CASE_ONLY = ("contribution.paid",)


def late_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """An enterprise fact reported late reaches the enterprise's cases still listening, refunded
    or rejected for want of a fact (the case keeps only those that bear on its assessment)."""
    enterprise = event.data.get("enterprise_id") or event.data.get("employer_id")
    key = f"enterprise/{enterprise}"
    return signal_open([c for c in listening if c.key == key], KIND) or [Ignore("no refund listening for this enterprise")]


def application(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`application.submitted` program `job_retention` (applicant = enterprise id) opens
    `retention/<E>/<year>`; a bad `details.year` is bad input."""
    d = event.data
    if d["program"] != retention.PROGRAM:
        return [Ignore(f"program {d['program']} is not {retention.PROGRAM}")]
    try:
        year = retention.parse_year(d.get("details") or {})
    except ValueError as exc:
        return [Reject(f"application.submitted ({retention.PROGRAM}): {exc}")]
    enterprise = d["applicant"]
    case_id = kinds.job_retention_case_id(enterprise, year)
    if any(c.case_id == case_id for c in open_cases):
        return [Reject(f"application.submitted ({retention.PROGRAM}): {enterprise} already applied for {year} ({case_id} is open)", case_id=case_id)]
    return [StartCase(kind=KIND, case_id=case_id, city=_city_of(event), keys=[f"enterprise/{enterprise}"])]


def _city_of(event: CloudEvent) -> str | None:
    """The application carries no city; the case reads the enterprise's registration. Until
    then: details.city, else the producing system's city (`es/2101`)."""
    city = (event.data.get("details") or {}).get("city")
    if isinstance(city, str):
        return city
    return city_of_source(event.source)


ROUTES: dict[str, Handler] = {"application.submitted": application, **{t: late_fact for t in LATE_FACTS}}
