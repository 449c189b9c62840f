"""End to end on the real stack, POLICY.md part 2 "late facts across topics": a K5 placement
reaches the intake (Kafka → streams → Temporal) before the person's registration, which travels
on another topic; the case is rejected as not difficult to employ, listens for
`intake.late_fact_days`, and when the registration arrives it is judged again as if it had come
first: it reopens and pays the months completed since its original start, with their original
due dates, into the PostgreSQL ledger.

Dates are real: the post started months before today, so the decision is taken today and the
registration comes well within the window.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts import kinds
from policy import welfare_post
from policy.calendar import add_months
from policy.subsidy_period import completed_months
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.e2e.test_flexible_welfare_e2e import CITY, Registrant, ledger

pytestmark = pytest.mark.e2e


async def case_row(system: System, case_id: str) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, opened_on, closed_on FROM cases WHERE case_id = $1", case_id)
    assert row is not None, f"no read-model row for {case_id} yet"
    return dict(row)


async def test_welfare_post_rejected_before_the_registration_reopens_when_it_arrives(system: System) -> None:
    p = Registrant(system, "L")
    params = system.pack.parameters(CITY)
    starts = add_months(p.today, -3)
    post = f"POST{system.tag}L"
    case_id = kinds.welfare_post_case_id(p.id, post, starts)
    placed = p.event("welfare_post.placed", starts, {
        "person_id": p.id, "post_id": post, "city": CITY, "kind": "regular", "starts_on": starts.isoformat(),
    })
    await system.emit([placed])

    async def rejected() -> dict[str, Any]:
        row = await case_row(system, case_id)
        assert row["status"] == "rejected", row
        return row

    row = await assert_eventually(rejected, timeout=120)
    assert row["closed_on"] == starts
    listening = await system.pool.fetch("SELECT open, listening_until FROM case_keys WHERE case_id = $1", case_id)
    assert [(r["open"], r["listening_until"] is not None) for r in listening] == [(False, True)]

    # The registration (dated a year before the post) arrives now, on the registrations topic.
    await system.emit([p.registered(add_months(p.today, -12), ["zero_employment_household"])], name="registration.jsonl")
    months = completed_months(welfare_post.placement_period("regular", None, starts, None, params), p.today)
    assert months == 3

    async def paid() -> list[dict[str, Any]]:
        rows = await ledger(system, case_id)
        assert len(rows) == 2 * months, rows
        return rows

    rows = await assert_eventually(paid, timeout=120)
    assert sorted((r["program"], r["period"], r["amount_fen"], r["due_on"]) for r in rows) == sorted(
        (program, f"month-{n}", amount, add_months(starts, n))
        for n in range(1, months + 1)
        for program, amount in welfare_post.monthly_payments(add_months(starts, n - 1), params)
    )
    row = await case_row(system, case_id)
    assert (row["status"], row["opened_on"], row["closed_on"]) == ("active", starts, None)
    keys = await system.pool.fetch("SELECT open, listening_until FROM case_keys WHERE case_id = $1", case_id)
    assert [(r["open"], r["listening_until"]) for r in keys] == [(True, None)]
