"""K7 job_retention_refund on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway); the enterprise's facts are sent first and stored by the intake.

Amounts by hand from POLICY.md K7 with the shipped parameters (ui.monthly_benefit 150000 fen,
6 benefit months for affected industries, SME 100% / large 50% of prior-year UI premiums)."""

from __future__ import annotations

import json
from datetime import date, datetime
from itertools import count
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from streams.intake import Outcome
from tests.workflow.harness import World, at, world

KIND = kinds.JOB_RETENTION_REFUND
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
_ids = count(1)


async def send(h: World, type_: str, data: dict[str, Any], subject: str, when: datetime, source: str = "si/2101") -> Outcome:
    """One CloudEvent about `subject`, from the social insurance unless `source` says otherwise."""
    return await h.send(type_, data, when, subject=subject, source=source)


async def enterprise(h: World, e: str, industry: str, size: str, staff: int, day: date) -> None:
    await send(h, "enterprise.registered", {"enterprise_id": e, "city": "2101", "industry": industry, "size": size}, f"enterprise/{e}", at(day), "re/2101")
    for i in range(1, staff + 1):
        await send(h, "insured.enrolled", {"person_id": f"{e}P{i}", "employer_id": e, "on": day.isoformat()}, f"person/{e}P{i}", at(day))


async def apply(h: World, e: str, on: date, year: int) -> Outcome:
    data = {"program": "job_retention", "applicant": e, "on": on.isoformat(), "details": {"year": year}}
    return await send(h, "application.submitted", data, f"enterprise/{e}", at(on), "es/2101")


async def test_k7_refund_from_facts_stored_before_the_case(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await enterprise(h, "W1", "catering", "small", 3, date(2019, 10, 2))
        contribution = {"person_id": "W1P1", "month": "2019-11", "employer_id": "W1", "base": 300000,
                        "employer_amount": 1000, "employee_amount": 500, "insurances": ["unemployment"]}
        await send(h, "contribution.paid", contribution, "person/W1P1", at(date(2019, 11, 20)))
        await apply(h, "W1", date(2020, 3, 10), 2020)
        case = "retention/W1/2020"
        assert h.status(case) == "refunded"
        # Catering: 6 × 150000 × 3 = 2700000 > 100% × 1500.
        [paid] = h.payments(case)
        assert (paid.payee, paid.program, paid.period, paid.amount, paid.fund, paid.due_on) == (
            "enterprise/W1", "job_retention", "once", 2700000, "ui_fund", date(2020, 3, 10))
        view = await h.view(case)
        assert view.details["insured_headcount"] == 3 and view.details["formula"] == "affected_industry"
        assert "6 × 150000 × 3 insured = 2700000" in (view.timeline[-1].rule or "")
        # Once per enterprise and year: a second application reaches the same case, closed and
        # listening for corrections (ledger.correction_days); it pays nothing more.
        again = await apply(h, "W1", date(2020, 5, 1), 2020)
        assert again.status == "applied" and case in again.detail and len(h.payments(case)) == 1
        assert h.status(case) == "refunded"


async def test_k7_rejected_over_the_layoff_rate_with_the_figures(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await enterprise(h, "W2", "manufacturing", "large", 4, date(2019, 10, 2))
        await send(h, "insured.left", {"person_id": "W2P4", "employer_id": "W2", "on": "2020-01-15", "reason": "layoff"}, "person/W2P4", at(date(2020, 1, 15)))
        await apply(h, "W2", date(2020, 3, 10), 2020)
        case = "retention/W2/2020"
        assert h.status(case) == "rejected" and h.payments(case) == []
        # Jan 31: 3, Feb 29: 3 → average 3; 1/3 = 33.33% > 20% (3 insured ≤ 30).
        rule = (await h.view(case)).timeline[-1].rule or ""
        assert "layoff rate 1/3 = 33.33%" in rule and "limit 20%" in rule


async def test_k7_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k7_retention.jsonl through `simulate`; the expected file was derived by
    hand (its "_how" says how)."""
    expected = json.loads((SCENARIOS / "k7_retention.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k7_retention.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert [
        [p["case_id"], p["payee"], p["period"], p["amount"], p["fund"], p["due_on"]] for p in result["payments"] if p["kind"] == KIND
    ] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
