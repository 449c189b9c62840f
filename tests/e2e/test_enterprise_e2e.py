"""End to end on the real stack for K7 job_retention_refund and K15 enterprise_si_subsidy:
the enterprise's (and the person's) facts are emitted first and stored by the intake, then
the application or the contract; Temporal and the worker write the PostgreSQL ledger and read
model.

Dates are real: K7 applications are dated 2020 (within retention.until) and K15's hire lies more
than three years back, so each case decides or runs its whole period as soon as it opens.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import kinds
from policy.calendar import add_months, month_of
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"


class Events:
    """Unique ids for one test's events."""

    def __init__(self, system: System, suffix: str):
        self.tag = f"E2E{system.tag}{suffix}"
        self.n = 0

    def event(self, type_: str, subject: str, on: date, data: dict[str, Any], source: str = f"si/{CITY}-e2e") -> bytes:
        self.n += 1
        return line(cloud_event(source=source, id=f"{self.tag}-{self.n}", type=type_, subject=subject, on=on, data=data))

    def registered(self, e: str, industry: str, size: str, on: date) -> bytes:
        return self.event("enterprise.registered", f"enterprise/{e}", on,
                          {"enterprise_id": e, "city": CITY, "industry": industry, "size": size})

    def enrolled(self, e: str, p: str, on: date) -> bytes:
        return self.event("insured.enrolled", f"person/{p}", on, {"person_id": p, "employer_id": e, "on": on.isoformat()})

    def contribution(self, e: str, p: str, month: str, on: date, employer: int, employee: int, insurances: list[str]) -> bytes:
        return self.event("contribution.paid", f"person/{p}", on, {
            "person_id": p, "month": month, "employer_id": e, "base": 300000, "employer_amount": employer,
            "employee_amount": employee, "insurances": insurances})


async def closed_case(system: System, case_id: str) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, closed_on FROM cases WHERE case_id = $1", case_id)
    assert row is not None, f"no read-model row for {case_id} yet"
    assert row["closed_on"] is not None, f"case still {row['status']}"
    return dict(row)


async def ledger(system: System, case_id: str) -> list[tuple[Any, ...]]:
    rows = await system.pool.fetch(
        "SELECT program, period, amount_fen, payee, fund, due_on FROM ledger WHERE case_id = $1 ORDER BY period", case_id)
    return [tuple(r.values()) for r in rows]


async def test_job_retention_refund_from_stored_enterprise_facts(system: System) -> None:
    """K7: a catering enterprise with 3 insured and no layoffs gets 6 × 150000 × 3 = 2700000 fen
    (larger than 100% of its 1500 fen prior-year UI premiums); an enterprise that laid off 1 of
    4 (rate 1/3 > 20%) is rejected."""
    ev = Events(system, "K7")
    good, bad = f"{ev.tag}A", f"{ev.tag}B"
    start = date(2019, 10, 2)
    facts = [
        ev.registered(good, "catering", "small", start),
        *[ev.enrolled(good, f"{good}P{i}", start) for i in range(1, 4)],
        ev.contribution(good, f"{good}P1", "2019-11", date(2019, 11, 20), 1000, 500, ["unemployment"]),
        ev.registered(bad, "manufacturing", "large", start),
        *[ev.enrolled(bad, f"{bad}P{i}", start) for i in range(1, 5)],
        ev.event("insured.left", f"person/{bad}P4", date(2020, 1, 15),
                 {"person_id": f"{bad}P4", "employer_id": bad, "on": "2020-01-15", "reason": "layoff"}),
    ]
    await system.emit(facts, name="facts.jsonl")
    await system.settled()
    applied = date(2020, 3, 10)
    applications = [
        ev.event("application.submitted", f"enterprise/{e}", applied,
                 {"program": "job_retention", "applicant": e, "on": applied.isoformat(), "details": {"year": 2020}},
                 source=f"es/{CITY}-e2e")
        for e in (good, bad)
    ]
    await system.emit(applications)

    refunded = await assert_eventually(lambda: closed_case(system, kinds.job_retention_case_id(good, 2020)), timeout=120)
    assert refunded == {"status": "refunded", "closed_on": applied}
    assert await ledger(system, kinds.job_retention_case_id(good, 2020)) == [
        ("job_retention", "once", 2700000, f"enterprise/{good}", "ui_fund", applied)]
    rejected = await assert_eventually(lambda: closed_case(system, kinds.job_retention_case_id(bad, 2020)), timeout=120)
    assert rejected == {"status": "rejected", "closed_on": applied}
    assert await ledger(system, kinds.job_retention_case_id(bad, 2020)) == []


async def test_enterprise_si_subsidy_postponed_by_fee_exemption_then_completed(system: System) -> None:
    """K15: a disabled registered person hired on an open-ended contract; the employer's fees are
    exempted in counted months 2-3, so the 36 counted months run from month 1 to month 38 of the
    calendar; month 1 and month 38 are paid (employer share), month 2 (exempted) and month 39
    (after the period) are not; the case closes `completed` on the first day of month 40."""
    ev = Events(system, "K15")
    employer, person = f"{ev.tag}E", f"{ev.tag}P"
    today = business_today()
    starts = add_months(today.replace(day=1), -44)
    months = [month_of(add_months(starts, i)) for i in range(40)]
    signed = add_months(starts, -1)
    facts = [
        ev.event("unemployment.registered", f"person/{person}", add_months(starts, -3), {
            "person_id": person, "city": CITY, "registered_on": add_months(starts, -3).isoformat(),
            "birth_date": "1980-01-01", "retirement_date": "2045-01-01", "categories": ["disabled"]},
            source=f"ru/{CITY}-e2e"),
        ev.event("si.fee_exemption", f"enterprise/{employer}", add_months(starts, -2),
                 {"enterprise_id": employer, "from_month": months[1], "to_month": months[2]}),
        ev.contribution(employer, person, months[0], add_months(starts, 0).replace(day=20), 51000, 20000, ["pension"]),
        ev.contribution(employer, person, months[1], add_months(starts, 1).replace(day=20), 0, 20000, ["pension"]),
        ev.contribution(employer, person, months[37], add_months(starts, 37).replace(day=20), 53000, 20000, ["pension"]),
        ev.contribution(employer, person, months[38], add_months(starts, 38).replace(day=20), 53000, 20000, ["pension"]),
    ]
    await system.emit(facts, name="facts.jsonl")
    await system.settled()
    contract = ev.event("contract.signed", f"person/{person}", signed, {
        "person_id": person, "employer_id": employer, "signed_on": signed.isoformat(), "starts_on": starts.isoformat(),
        "term_months": None}, source=f"lc/{CITY}-e2e")
    await system.emit([contract])

    case_id = f"enterprise_si/{employer}/{person}/{signed.isoformat()}"
    closed = await assert_eventually(lambda: closed_case(system, case_id), timeout=120)
    assert closed == {"status": "completed", "closed_on": add_months(starts, 39)}
    payee = f"enterprise/{employer}"
    assert await ledger(system, case_id) == [
        ("enterprise_si", months[0], 51000, payee, "employment_subsidy_fund", add_months(starts, 0).replace(day=20)),
        ("enterprise_si", months[37], 53000, payee, "employment_subsidy_fund", add_months(starts, 37).replace(day=20)),
    ]
