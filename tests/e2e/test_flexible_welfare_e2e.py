"""End to end on the real stack for K4 flexible_employment_subsidy and K5 public_welfare_post:
CloudEvents produced to Kafka by `jiuye emit` go through the intake (which stores the
person's K12 facts), Temporal and the worker into the PostgreSQL ledger and read model.

Dates are real: the application and the placement lie months before today, so what fell due
is paid as soon as each case has gathered its backlog, with no waiting on timers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from contracts import kinds
from policy import flexible, welfare_post
from policy.calendar import add_months, month_of
from policy.subsidy_period import completed_months
from tests.e2e.conftest import System
from tests.e2e.helpers import Person, assert_eventually

pytestmark = pytest.mark.e2e

CITY = "2101"


class Registrant(Person):
    """A person unique to the test who registers as unemployed with city 2101's employment service."""

    def __init__(self, system: System, suffix: str):
        super().__init__(f"E2E{system.tag}{suffix}", f"es/{CITY}-e2e")

    def registered(self, on: date, categories: list[str]) -> bytes:
        return self.event("unemployment.registered", on, {
            "person_id": self.id, "city": CITY, "registered_on": on.isoformat(), "birth_date": "1980-01-01",
            "retirement_date": "2045-01-01", "categories": categories,
        })


async def opened_case(system: System, case_id: str) -> None:
    assert await system.pool.fetchval("SELECT 1 FROM cases WHERE case_id = $1", case_id), f"{case_id} not opened yet"


async def closed_case(system: System, case_id: str) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, closed_on, summary FROM cases WHERE case_id = $1", case_id)
    assert row is not None, f"no read-model row for {case_id} yet"
    assert row["closed_on"] is not None, f"case still {row['status']}"
    return dict(row)


async def ledger(system: System, case_id: str) -> list[dict[str, Any]]:
    rows = await system.pool.fetch(
        "SELECT program, period, amount_fen, payee, fund, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on, program",
        case_id)
    return [dict(r) for r in rows]


async def test_flexible_employment_subsidy_paid_until_stable_employment(system: System) -> None:
    """K4: a difficult-to-employ person's own contributions are subsidised at 2/3 per month
    until an open-ended contract ends the case `employed`."""
    p = Registrant(system, "F")
    params = system.pack.parameters(CITY)
    applied = add_months(p.today, -6)
    months = [month_of(add_months(applied, i)) for i in range(3)]
    case_id = kinds.flexible_employment_case_id(p.id, applied)
    contributions = [
        p.event("contribution.paid", add_months(applied, i) + timedelta(days=1) if i else applied, {
            "person_id": p.id, "month": m, "base": 300000, "employer_amount": 60000, "employee_amount": 24001,
            "insurances": ["pension"],
        })
        for i, m in enumerate(months)
    ]
    contract = p.event("contract.signed", p.today, {
        "person_id": p.id, "employer_id": f"E{system.tag}", "signed_on": p.today.isoformat(),
        "starts_on": p.today.isoformat(), "term_months": None,
    })
    application = p.event("application.submitted", applied, {
        "program": flexible.PROGRAM, "applicant": p.id, "on": applied.isoformat(), "details": {},
    })
    # The registration travels on another topic than the application: K12 reads it from the
    # store when the case opens, so it must have been handled first (as in production, where it
    # precedes the application by months). Contributions on yet another topic may race the
    # application either way: the case picks up those stored before it opened.
    await system.emit([p.registered(add_months(p.today, -14), ["disabled"])], name="registration.jsonl")
    await system.settled()
    await system.emit([contributions[0], application])
    # The contract (labor.contracts) must not overtake the application (employment.service):
    # Kafka orders a subject's events only within one topic, so it is sent once the case is open.
    await assert_eventually(lambda: opened_case(system, case_id), timeout=120)
    await system.emit([*contributions[1:], contract])

    closed = await assert_eventually(lambda: closed_case(system, case_id), timeout=120)
    assert closed["status"] == "employed" and closed["closed_on"] == p.today
    rows = await ledger(system, case_id)
    # 2/3 × 84001 = 56000.67 → 56000 fen a month, rounded down.
    expected = flexible.subsidy(84001, months[0], params)
    assert expected == 56000
    assert [(r["period"], r["amount_fen"], r["fund"], r["payee"]) for r in rows] == [
        (m, expected, "employment_subsidy_fund", p.subject) for m in months
    ]


async def test_welfare_post_pays_completed_months_and_ends_on_leaving(system: System) -> None:
    """K5: each completed month pays the post and the social-insurance subsidy (two rows);
    leaving ends the case `ended`; a temporary post of 9 months is a dead letter."""
    p = Registrant(system, "W")
    params = system.pack.parameters(CITY)
    starts = add_months(p.today, -8)
    post = f"POST{system.tag}"
    case_id = kinds.welfare_post_case_id(p.id, post, starts)
    placed = p.event("welfare_post.placed", starts, {
        "person_id": p.id, "post_id": post, "city": CITY, "kind": "regular", "starts_on": starts.isoformat(),
    })
    left = p.event("welfare_post.left", p.today, {"person_id": p.id, "post_id": post, "on": p.today.isoformat()})
    bad = p.event("welfare_post.placed", p.today, {
        "person_id": p.id, "post_id": f"T{system.tag}", "city": CITY, "kind": "temporary", "months": 9,
        "starts_on": p.today.isoformat(),
    })
    await system.emit([p.registered(add_months(p.today, -14), ["zero_employment_household"])], name="registration.jsonl")
    await system.settled()
    await system.emit([placed, left, bad])

    closed = await assert_eventually(lambda: closed_case(system, case_id), timeout=120)
    assert closed["status"] == "ended" and closed["closed_on"] == p.today
    period = welfare_post.placement_period("regular", None, starts, None, params)
    months = completed_months(period, p.today)
    assert months == 8
    rows = await ledger(system, case_id)
    assert sorted((r["program"], r["period"], r["amount_fen"], r["fund"]) for r in rows) == sorted(
        (program, f"month-{n}", amount, "employment_subsidy_fund")
        for n in range(1, months + 1)
        for program, amount in welfare_post.monthly_payments(add_months(starts, n - 1), params)
    )
    assert {r["due_on"] for r in rows} == {add_months(starts, n) for n in range(1, months + 1)}

    async def dead_lettered() -> str:
        found = [dict(r.headers) for r in system.tail.of("events.dlq") if r.value == bad]
        assert found, "the 9-month temporary post is not in events.dlq yet"
        return found[0]["dlq.reason"].decode()

    reason = await assert_eventually(dead_lettered, timeout=60)
    assert "3..6" in reason and "got 9" in reason
