"""K11 hubei_graduate_grant on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway).

Expected values by hand from POLICY.md K11 with the shipped parameters: a 2020 graduate of a
Liaoning (21) institution with Hubei (42) household registration gets hubei_grant.amount =
150000 fen once (period "once", employment_subsidy_fund, due on the application date).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from tests.workflow.harness import World, at, world

KIND = kinds.HUBEI_GRADUATE_GRANT
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
ELIGIBLE = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}


async def apply(h: World, person: str, on: date, details: dict[str, Any]) -> Any:
    data = {"program": "hubei_graduate_grant", "applicant": person, "on": on.isoformat(), "details": details}
    return await h.send("application.submitted", data, at(on), subject=f"person/{person}")


async def test_k11_eligible_graduate_is_paid_the_grant_once(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "H101", date(2020, 4, 1), ELIGIBLE)
        case = "hubei_grant/H101"
        assert h.status(case) == "paid" and h.record(case).closed_on == date(2020, 4, 1)
        assert [(p.payee, p.program, p.period, p.amount, p.fund, p.due_on) for p in h.payments(case)] == [
            ("person/H101", "hubei_graduate_grant", "once", 150000, "employment_subsidy_fund", date(2020, 4, 1))
        ]


async def test_k11_second_application_reaches_the_same_closed_case_and_cannot_pay_twice(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "H102", date(2020, 4, 1), ELIGIBLE)
        outcome = await apply(h, "H102", date(2020, 6, 1), ELIGIBLE)
        # The closed case listens for corrections (ledger.correction_days): the same details change nothing.
        assert outcome.status == "applied" and "hubei_grant/H102" in outcome.detail
        assert h.status("hubei_grant/H102") == "paid"
        assert [p.amount for p in h.store.ledger.values() if p.payee == "person/H102"] == [150000]


async def test_k11_not_eligible_is_rejected_with_the_reason(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "H103", date(2020, 4, 2), {**ELIGIBLE, "hukou_province": "41", "graduation_year": 2019})
        case = "hubei_grant/H103"
        assert h.status(case) == "rejected" and h.payments(case) == []
        reason = h.record(case).summary["reason"]
        assert "2019" in reason and "湖北籍" in reason
        assert any("湖北籍" in (t.rule or "") for t in (await h.view(case)).timeline)


async def test_k11_bad_details_are_a_dead_letter_and_open_no_case(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        outcome = await apply(h, "H104", date(2020, 4, 2), {"hukou_province": "42", "institution_province": "21"})
        assert outcome.status == "dead_letter" and "graduation_year" in outcome.detail
        assert "hubei_grant/H104" not in h.store.cases


async def test_k11_amount_in_force_on_the_application_date(env: WorkflowEnvironment) -> None:
    # A province-wide change of hubei_grant.amount to 200000 from 2020-05-01 (a shared fact the
    # case reads in its context): an application on 05-02 gets the new amount.
    async with world(env, date(2020, 4, 1)) as h:
        change = {"city": None, "name": "hubei_grant.amount", "value": 200000, "effective_on": "2020-05-01"}
        await h.send("policy.parameter.changed", change, at(date(2020, 4, 20)), subject="person/H000", source="policy/21")
        await apply(h, "H105", date(2020, 4, 30), ELIGIBLE)
        await apply(h, "H106", date(2020, 5, 2), ELIGIBLE)
        assert [p.amount for p in h.payments("hubei_grant/H105")] == [150000]
        assert [p.amount for p in h.payments("hubei_grant/H106")] == [200000]


async def test_k11_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k11_hubei_grant.jsonl through `simulate`; expected derived by hand (its "_how")."""
    expected = json.loads((SCENARIOS / "k11_hubei_grant.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k11_hubei_grant.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert [(p["case_id"], p["payee"], p["period"], p["amount"], p["fund"], p["due_on"]) for p in result["payments"] if p["kind"] == KIND] == [
        tuple(p) for p in expected["payments"]
    ]
    assert result["dead_letters"] == expected["dead_letters"]
