"""K3 unemployment_assistance on Temporal's time-skipping server: opened by K2 cases as in
production (Intake → CaseGateway → K2 → K3), the timing of each rule of POLICY.md K3, and the K3
scenario through `simulate` against a hand-derived expectation.

Amounts by hand from POLICY.md: ua.ratio 80% × ui.monthly_benefit 150000 = 120000 per month,
6 months from the day the case opens; ua.window_until 2020-12-31 (the opening date).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app.simulate import simulate
from tests.workflow.harness import world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
UA = "unemployment_assistance"
KINDS = ("unemployment_insurance", UA)


async def test_assistance_pays_ratio_of_benefit_at_start_of_each_month_then_completes(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("Q1", date(2020, 4, 1), insured=40, involuntary=False)  # insured, not eligible
        case = "ua/Q1/2020-04-01"
        await w.advance_to_day(date(2020, 4, 2))
        assert w.paid(case, UA) == [("month-1", 120000, date(2020, 4, 1))]
        await w.advance_to_day(date(2020, 10, 5))
        assert w.paid(case, UA) == [
            (f"month-{n}", 120000, d)
            for n, d in enumerate([date(2020, 4, 1), date(2020, 5, 1), date(2020, 6, 1), date(2020, 7, 1),
                                   date(2020, 8, 1), date(2020, 9, 1)], start=1)
        ]
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        assert all(p.fund == "ui_fund" for p in w.payments(case))


async def test_assistance_period_starts_the_day_the_case_opens_after_exhaustion(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 12, 1)) as w:
        await w.claim("Q2", date(2019, 12, 2), retirement=date(2035, 1, 1))
        await w.advance_to_day(date(2021, 6, 5))
        case = "ua/Q2/2020-12-02"
        assert w.store.cases[case].opened_on == date(2020, 12, 2)
        assert [d for _, _, d in w.paid(case, UA)] == [
            date(2020, 12, 2), date(2021, 1, 2), date(2021, 2, 2), date(2021, 3, 2), date(2021, 4, 2), date(2021, 5, 2)
        ]
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2021, 6, 2))
        view = await w.view(case)
        assert view.details["reason"] == "exhausted" and view.details["ui_case_id"] == "ui/Q2/2019-12-02"


async def test_assistance_reemployment_stops_payment_from_next_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("Q3", date(2020, 4, 1), insured=8)  # too few insured months: K3
        await w.contract("Q3", date(2020, 6, 10), starts=date(2020, 6, 15))
        await w.advance_to_day(date(2020, 8, 1))
        case = "ua/Q3/2020-04-01"
        assert [p for p, _, _ in w.paid(case, UA)] == ["month-1", "month-2", "month-3"]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 10))


async def test_assistance_reemployment_by_employer_contribution(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("Q4", date(2020, 4, 1), insured=8)
        await w.contribution("Q4", "2020-04", date(2020, 4, 20))  # the opening month: no sign
        # Delivered late but dated before the case opened: the job the person left.
        await w.send("employment.registered", {"person_id": "Q4", "city": "2101", "on": "2020-03-20", "kind": "employee"},
                     date(2020, 4, 25))
        await w.contribution("Q4", "2020-06", date(2020, 5, 25))  # employed from 2020-06-01
        await w.advance_to_day(date(2020, 8, 1))
        case = "ua/Q4/2020-04-01"
        # Month 3 starts on the re-employment day (06-01): the month it falls in is still paid.
        assert [p for p, _, _ in w.paid(case, UA)] == ["month-1", "month-2", "month-3"]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 1))


async def test_assistance_not_opened_after_window_until(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 12, 1)) as w:
        await w.claim("Q5", date(2019, 12, 31))  # ends 2020-12-31: the last opening day
        await w.claim("Q6", date(2020, 1, 1))  # ends 2021-01-01: too late
        await w.advance_to_day(date(2021, 1, 2))
        assert w.status("ua/Q5/2020-12-31") == "active"
        assert w.status("ui/Q6/2020-01-01") == "exhausted"
        assert not [c for c in w.store.cases if c.startswith("ua/Q6/")]
        view = await w.view("ui/Q6/2020-01-01")
        assert any("no unemployment assistance" in t.what for t in view.timeline)


async def test_assistance_amount_follows_parameter_change(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("Q7", date(2020, 5, 15), insured=8)
        await w.parameter("ui.monthly_benefit", 160000, effective=date(2020, 7, 1), day=date(2020, 6, 20))
        await w.advance_to_day(date(2020, 8, 20))
        assert [a for _, a, _ in w.paid("ua/Q7/2020-05-15", UA)] == [120000, 120000, 128000, 128000]


async def test_k3_scenario_matches_hand_derived_expectation() -> None:
    # tests/scenarios/k3_window.expected.json was derived by hand from POLICY.md; its
    # "_derivation" list says how.
    expected = json.loads((SCENARIOS / "k3_window.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k3_window.jsonl", date(2021, 7, 31))
    assert [c for c in result["cases"] if c["kind"] in KINDS] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] in KINDS] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
