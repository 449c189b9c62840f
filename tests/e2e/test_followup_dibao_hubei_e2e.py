"""End to end on the real stack for K9 unemployed_followup, K10 dibao_taper and K11
hubei_graduate_grant: CloudEvents produced to Kafka by `jiuye emit` go through the intake,
Temporal and the worker into the PostgreSQL read model, tasks table and ledger.

Dates are real and lie in the past, so what fell due (escalations, the taper default and its
first payments) happens as soon as each case has gathered its backlog, with no waiting on timers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from contracts import kinds
from contracts.cases import TaskDecision
from policy import dibao, followup, hubei
from policy.calendar import add_months
from tests.e2e.conftest import System
from tests.e2e.helpers import Person, assert_eventually

pytestmark = pytest.mark.e2e

CITY = "2101"


def person(system: System, suffix: str) -> Person:
    """A person unique to the test, whose events come from city 2101's employment service."""
    return Person(f"E2E{system.tag}{suffix}", f"es/{CITY}-e2e")


async def case_row(system: System, case_id: str) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, closed_on, summary FROM cases WHERE case_id = $1", case_id)
    assert row is not None, f"no read-model row for {case_id} yet"
    return dict(row)


async def tasks_of(system: System, case_id: str) -> list[dict[str, Any]]:
    rows = await system.pool.fetch("SELECT task_id, kind, due_on, state FROM tasks WHERE case_id = $1 ORDER BY due_on", case_id)
    return [dict(r) for r in rows]


async def ledger(system: System, case_id: str) -> list[dict[str, Any]]:
    rows = await system.pool.fetch(
        "SELECT program, period, amount_fen, payee, fund, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on", case_id
    )
    return [dict(r) for r in rows]


async def test_followup_escalates_missed_months_and_closes_on_deregistration(system: System) -> None:
    """K9: registered 3 months and 10 days ago with a contact in month 1 only: months 2 and 3
    are escalated (their grace ran out 3 and ~33 days ago); a deregistration closes the case and
    withdraws them."""
    p = person(system, "K9")
    params = system.pack.parameters(CITY)
    registered_on = add_months(p.today, -3) - timedelta(days=10)
    case_id = kinds.followup_case_id(p.id, registered_on)
    await system.emit([
        p.event("unemployment.registered", registered_on, {
            "person_id": p.id, "city": CITY, "registered_on": registered_on.isoformat(), "birth_date": "1980-01-01",
            "retirement_date": "2045-01-01", "categories": [],
        }),
    ], name="registration.jsonl")
    # Registrations and follow-ups travel on different topics: the case must exist before the
    # contact reaches it (in production the registration precedes it by days).
    await system.settled()
    await system.emit([
        p.event("followup.recorded", registered_on + timedelta(days=3), {
            "person_id": p.id, "on": (registered_on + timedelta(days=3)).isoformat(), "channel": "visit",
        }),
    ])
    expected = [
        (followup.due_date(registered_on, n), "open") for n in (2, 3) if followup.escalation_date(registered_on, n, params) <= p.today
    ]
    assert len(expected) == 2

    async def escalated() -> list[dict[str, Any]]:
        found = await tasks_of(system, case_id)
        assert [(t["due_on"], t["state"]) for t in found] == expected
        return found

    await assert_eventually(escalated, timeout=120)
    row = await case_row(system, case_id)
    assert row["status"] == "active"

    await system.emit([p.event("unemployment.deregistered", p.today, {"person_id": p.id, "on": p.today.isoformat(), "reason": "employed"})])

    async def closed() -> None:
        row = await case_row(system, case_id)
        assert row["status"] == "closed" and row["closed_on"] == p.today
        assert {t["state"] for t in await tasks_of(system, case_id)} == {"withdrawn"}

    await assert_eventually(closed, timeout=120)


async def test_dibao_taper_default_pays_from_the_month_after_employment(system: System) -> None:
    """K10: employed ~2 months ago while receiving 低保 → no decision within 15 days → 6 months;
    the taper months that have started by today are paid at their first day."""
    p = person(system, "K10")
    params = system.pack.parameters(CITY)
    granted = add_months(p.today, -8).replace(day=1)
    employed = add_months(p.today, -2) - timedelta(days=5)
    case_id = kinds.dibao_taper_case_id(p.id, granted.strftime('%Y-%m'))
    await system.emit([
        p.event("dibao.granted", granted, {
            "person_id": p.id, "household_id": f"H{p.id}", "city": CITY, "monthly_amount": 61000, "from_month": granted.strftime("%Y-%m"),
        }),
    ], name="dibao.jsonl")
    await system.settled()  # another topic than the employment's: the grant's case must exist first
    await system.emit([
        p.event("employment.registered", employed, {"person_id": p.id, "city": CITY, "on": employed.isoformat(), "kind": "employee"}),
    ])
    months = dibao.default_months(params, employed)
    due = [k for k in range(1, months + 1) if dibao.payment_due(employed, k) <= p.today]
    assert len(due) >= 2

    async def paid() -> None:
        rows = await ledger(system, case_id)
        assert [(r["period"], r["amount_fen"], r["fund"], r["payee"], r["due_on"]) for r in rows] == [
            (dibao.taper_month(employed, k), 61000, "dibao_fund", p.subject, dibao.payment_due(employed, k)) for k in due
        ]
        assert [(t["kind"], t["state"]) for t in await tasks_of(system, case_id)] == [("taper_decision", "expired")]

    await assert_eventually(paid, timeout=120)
    assert (await case_row(system, case_id))["summary"]["taper_months"] == months


async def test_dibao_taper_caseworker_decision_through_the_update(system: System) -> None:
    """K10: the decision arrives as the `decide` update; one outside 3..12 is refused and
    changes nothing, a valid one sets the months."""
    p = person(system, "K10D")
    granted = add_months(p.today, -3).replace(day=1)
    employed = p.today - timedelta(days=2)
    case_id = kinds.dibao_taper_case_id(p.id, granted.strftime('%Y-%m'))
    await system.emit([
        p.event("dibao.granted", granted, {
            "person_id": p.id, "household_id": f"H{p.id}", "city": CITY, "monthly_amount": 50000, "from_month": granted.strftime("%Y-%m"),
        }),
    ], name="dibao.jsonl")
    await system.settled()  # another topic than the employment's: the grant's case must exist first
    await system.emit([
        p.event("employment.registered", employed, {"person_id": p.id, "city": CITY, "on": employed.isoformat(), "kind": "flexible"}),
    ])

    async def raised() -> str:
        found = await tasks_of(system, case_id)
        assert [(t["kind"], t["state"]) for t in found] == [("taper_decision", "open")]
        return str(found[0]["task_id"])

    task_id = await assert_eventually(raised, timeout=120)
    handle = system.client.get_workflow_handle(case_id)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("decide", TaskDecision(task_id=task_id, decided_by="cw-e2e", decision={"months": 13}))
    assert "3..12" in str(refused.value.cause)
    assert [t["state"] for t in await tasks_of(system, case_id)] == ["open"]
    await handle.execute_update("decide", TaskDecision(task_id=task_id, decided_by="cw-e2e", decision={"months": 9}))

    async def decided() -> None:
        assert [t["state"] for t in await tasks_of(system, case_id)] == ["decided"]
        summary = (await case_row(system, case_id))["summary"]
        assert summary["taper_months"] == 9 and summary["decided_by"] == "cw-e2e"

    await assert_eventually(decided, timeout=60)


async def test_hubei_graduate_grant_paid_once_per_person(system: System) -> None:
    """K11: an eligible application pays hubei_grant.amount once; a second application of the
    same person cannot pay again; an ineligible one is rejected; bad details go to events.dlq."""
    p = person(system, "K11")
    q = person(system, "K11R")
    params = system.pack.parameters(CITY)
    eligible = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}

    def application(person: Person, on: date, details: dict[str, Any]) -> bytes:
        return person.event("application.submitted", on, {"program": hubei.PROGRAM, "applicant": person.id, "on": on.isoformat(), "details": details})

    first_on = p.today - timedelta(days=2)
    bad = application(q, p.today, {"hukou_province": "42"})
    await system.emit([
        application(p, first_on, eligible),
        application(p, p.today, eligible),
        application(q, p.today, {**eligible, "hukou_province": "41"}),
        bad,
    ])

    async def settled() -> None:
        row = await case_row(system, kinds.hubei_grant_case_id(p.id))
        assert row["status"] == "paid"
        rejected = await case_row(system, kinds.hubei_grant_case_id(q.id))
        assert rejected["status"] == "rejected" and "湖北籍" in rejected["summary"]["reason"]
        assert any(r.value == bad for r in system.tail.of("events.dlq"))

    await assert_eventually(settled, timeout=120)
    await system.settled()
    rows = await system.pool.fetch("SELECT case_id, period, amount_fen, fund, due_on FROM ledger WHERE payee = $1", p.subject)
    assert [dict(r) for r in rows] == [
        {"case_id": kinds.hubei_grant_case_id(p.id), "period": "once", "amount_fen": hubei.grant_amount(params, first_on),
         "fund": "employment_subsidy_fund", "due_on": first_on}
    ]
