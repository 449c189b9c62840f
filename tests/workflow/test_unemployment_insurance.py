"""K2 unemployment_insurance on Temporal's time-skipping server: the timing of each rule of
POLICY.md K2, started as production starts cases (Intake → CaseGateway), plus the K2 scenarios
through `simulate` against hand-derived expectations.

Amounts are derived by hand from POLICY.md's shipped defaults: ui.monthly_benefit 150000,
ui.epidemic_uplift 20000 (months starting in [S, L + 3 months)), ua = 80% × 150000 = 120000.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from app.simulate import simulate
from tests.workflow.harness import world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
UI = "unemployment_insurance"
UPLIFT = "epidemic_uplift"
LINKAGE = "price_linkage"
S = date(2020, 1, 25)


# -- payment and uplift -----------------------------------------------------------------------
async def test_benefit_paid_at_start_of_each_month_with_uplift_until_lift_plus_three_months(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as w:
        await w.declared(S)
        await w.claim("P1", date(2020, 3, 2))
        case = "ui/P1/2020-03-02"
        run_id = (await env.client.get_workflow_handle(case).describe()).run_id
        await w.advance_to_day(date(2020, 4, 20))
        # L unknown so far: the uplift applies.
        assert w.paid(case, UPLIFT) == [("month-1", 20000, date(2020, 3, 2)), ("month-2", 20000, date(2020, 4, 2))]
        await w.lifted(date(2020, 4, 28))  # mid-case: uplift for months starting before 2020-07-28
        await w.advance_to_day(date(2020, 9, 10))
        assert w.paid(case, UI) == [
            (f"month-{n}", 150000, d)
            for n, d in enumerate([date(2020, 3, 2), date(2020, 4, 2), date(2020, 5, 2), date(2020, 6, 2),
                                   date(2020, 7, 2), date(2020, 8, 2), date(2020, 9, 2)], start=1)
        ]
        assert [p for p, _, _ in w.paid(case, UPLIFT)] == ["month-1", "month-2", "month-3", "month-4", "month-5"]
        # The lift date re-aimed the running case: same run, not a restarted one.
        assert (await env.client.get_workflow_handle(case).describe()).run_id == run_id


async def test_corrected_lift_date_pays_owed_uplift_and_overpays_what_is_no_longer_owed(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as w:
        await w.declared(S)
        await w.claim("P1C", date(2020, 3, 2))
        case = "ui/P1C/2020-03-02"
        await w.lifted(date(2020, 4, 28))  # uplift until 2020-07-28
        await w.advance_to_day(date(2020, 8, 5))
        assert [p for p, _, _ in w.paid(case, UPLIFT)] == ["month-1", "month-2", "month-3", "month-4", "month-5"]
        # Corrected to a later day (until 2020-08-20): month 6 (2020-08-02) was paid without the
        # uplift it is now owed; it is paid on the day the correction is known.
        await w.lifted(date(2020, 5, 20), announced=date(2020, 8, 10))
        assert w.paid(case, UPLIFT)[-1] == ("month-6", 20000, date(2020, 8, 10))
        # Corrected again, to an earlier day (until 2020-07-01): months 5 and 6 got an uplift they
        # would not get now: overpaid (POLICY.md part 2), recovered from month 7's benefit at
        # most half of it; later months get none.
        await w.lifted(date(2020, 4, 1), announced=date(2020, 8, 25))
        await w.advance_to_day(date(2020, 10, 10))
        assert [p for p, _, _ in w.originals(case, UPLIFT)] == [f"month-{n}" for n in range(1, 7)]
        assert len(w.originals(case, UI)) == 8
        assert w.corrections(case) == [
            (UPLIFT, "month-5", "overpayment", 20000, date(2020, 8, 25), "month-5"),
            (UPLIFT, "month-6", "overpayment", 20000, date(2020, 8, 25), "month-6"),
            (UI, "month-7", "deduction", 20000, date(2020, 9, 2), "month-5"),
            (UI, "month-7", "deduction", 20000, date(2020, 9, 2), "month-6"),
        ]


async def test_case_started_after_lift_reads_epidemic_dates_from_context(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as w:
        await w.declared(S)
        await w.lifted(date(2020, 4, 28))
        await w.claim("P2", date(2020, 6, 10))
        await w.advance_to_day(date(2020, 8, 15))
        assert [p for p, _, _ in w.paid("ui/P2/2020-06-10", UPLIFT)] == ["month-1", "month-2"]  # 06-10, 07-10 < 07-28
        assert len(w.paid("ui/P2/2020-06-10", UI)) == 3


async def test_no_uplift_without_a_declared_epidemic(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P3", date(2020, 3, 2))
        await w.advance_to_day(date(2020, 5, 10))
        assert w.paid("ui/P3/2020-03-02", UPLIFT) == []
        assert len(w.paid("ui/P3/2020-03-02", UI)) == 3


async def test_parameter_change_applies_to_months_starting_on_or_after_effective_date(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P4", date(2020, 5, 15))
        await w.parameter("ui.monthly_benefit", 160000, effective=date(2020, 7, 1), day=date(2020, 6, 20))
        await w.advance_to_day(date(2020, 8, 20))
        assert [a for _, a, _ in w.paid("ui/P4/2020-05-15", UI)] == [150000, 150000, 160000, 160000]


# -- price linkage ------------------------------------------------------------------------------
async def test_price_linkage_paid_once_to_cases_paying_benefit_in_that_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P5", date(2020, 3, 2))  # month 3 starts 2020-05-02
        await w.claim("P6", date(2020, 3, 2), city="2102")  # another city
        await w.price_linkage("2020-05", 5000, date(2020, 5, 10))
        await w.price_linkage("2020-05", 7000, date(2020, 5, 12))  # again for May: once per case
        await w.claim("P7", date(2020, 5, 20))  # starts after the trigger, month 1 in May
        await w.claim("P8", date(2020, 6, 1))  # first benefit month in June: no May linkage
        await w.price_linkage("2020-07", 6000, date(2020, 6, 25))  # ahead of the month
        await w.advance_to_day(date(2020, 7, 25))
        assert w.paid("ui/P5/2020-03-02", LINKAGE) == [
            ("price-linkage-2020-05", 5000, date(2020, 5, 10)),
            ("price-linkage-2020-07", 6000, date(2020, 7, 2)),
        ]
        assert w.paid("ui/P7/2020-05-20", LINKAGE) == [
            ("price-linkage-2020-05", 5000, date(2020, 5, 20)),
            ("price-linkage-2020-07", 6000, date(2020, 7, 20)),
        ]
        assert w.paid("ui/P8/2020-06-01", LINKAGE) == [("price-linkage-2020-07", 6000, date(2020, 7, 1))]
        assert w.paid("ui/P6/2020-03-02", LINKAGE) == []


# -- re-employment --------------------------------------------------------------------------------
async def test_reemployment_by_employment_registered_stops_from_next_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P9", date(2020, 3, 15))
        await w.employment("P9", date(2020, 5, 20))  # inside month 3 [05-15, 06-15)
        await w.advance_to_day(date(2020, 8, 1))
        case = "ui/P9/2020-03-15"
        assert [p for p, _, _ in w.paid(case, UI)] == ["month-1", "month-2", "month-3"]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 5, 20))
        assert w.store.cases[case].summary["unused_months"] == 9


async def test_reemployment_by_contract_signed_stops_from_next_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P10", date(2020, 3, 15))
        await w.contract("P10", date(2020, 4, 20), starts=date(2020, 5, 1))
        await w.advance_to_day(date(2020, 8, 1))
        case = "ui/P10/2020-03-15"
        assert [p for p, _, _ in w.paid(case, UI)] == ["month-1", "month-2"]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 4, 20))


async def test_reemployment_by_employer_contribution_after_claim_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P11", date(2020, 3, 15))
        outcome = await w.contribution("P11", "2020-03", date(2020, 4, 10))  # the claim's month: old employer
        assert outcome.status == "ignored"
        await w.contribution("P11", "2020-06", date(2020, 5, 10), employer=None)  # flexible: no sign
        await w.advance_to_day(date(2020, 6, 20))
        await w.contribution("P11", "2020-06", date(2020, 7, 10))  # employed from 2020-06-01, known late
        await w.advance_to_day(date(2020, 9, 1))
        case = "ui/P11/2020-03-15"
        # Month 4 [06-15, 07-15) was paid before the contribution told: overpaid, and with no
        # later payment to deduct from, a recovery task (POLICY.md part 2).
        assert [p for p, _, _ in w.originals(case, UI)] == ["month-1", "month-2", "month-3", "month-4"]
        assert w.corrections(case) == [(UI, "month-4", "overpayment", 150000, date(2020, 7, 10), "month-4")]
        assert [t["kind"] for t in w.store.tasks.values() if t["case_id"] == case] == ["overpayment_recovery"]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 1))


async def test_contribution_for_someone_without_a_case_is_ignored(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        outcome = await w.contribution("P99", "2020-04", date(2020, 4, 10))
        assert outcome.status == "ignored"
        assert w.store.cases == {}


# -- carry-over, ineligibility, end of entitlement ----------------------------------------------
async def test_unused_months_of_previous_claim_carried_over_capped(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 5)) as w:
        await w.claim("P12", date(2020, 1, 10), insured=70)  # 18 months
        await w.contract("P12", date(2020, 4, 20))  # months 1..4 paid → 14 unused
        await w.advance_to_day(date(2020, 5, 1))
        assert w.store.cases["ui/P12/2020-01-10"].summary["unused_months"] == 14
        await w.claim("P12", date(2020, 10, 5), insured=14)  # 12 + 14 = 26 → cap 24
        await w.advance_to_day(date(2020, 10, 6))
        view = await w.view("ui/P12/2020-10-05")
        assert (view.details["carried_over_months"], view.details["entitlement_months"]) == (14, 24)


async def test_ineligible_insured_claim_closes_ineligible_and_opens_assistance(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("P13", date(2020, 4, 1), insured=40, involuntary=False)
        await w.claim("P14", date(2020, 4, 2), insured=0)  # never insured: nothing at all
        await w.advance_to_day(date(2020, 4, 3))
        assert w.status("ui/P13/2020-04-01") == "ineligible" and w.paid("ui/P13/2020-04-01", UI) == []
        assert w.status("ua/P13/2020-04-01") == "active"
        assert w.status("ui/P14/2020-04-02") == "ineligible"
        assert not [c for c in w.store.cases if c.startswith("ua/P14/")]


async def test_exhausted_entitlement_opens_assistance(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 12, 1)) as w:
        await w.claim("P15", date(2019, 12, 2), retirement=date(2035, 1, 1))
        await w.advance_to_day(date(2020, 12, 3))
        assert (w.status("ui/P15/2019-12-02"), w.closed_on("ui/P15/2019-12-02")) == ("exhausted", date(2020, 12, 2))
        assert len(w.paid("ui/P15/2019-12-02", UI)) == 12
        assert w.status("ua/P15/2020-12-02") == "active"


async def test_continuation_to_retirement_across_continue_as_new(env: WorkflowEnvironment) -> None:
    # Within a year of retirement when entitlement ends (2021-03-02 → 2021-09-15): benefit goes on
    # monthly up to the month retirement falls in (month 19 starts 2021-09-02), then `retired`.
    # A low history limit makes the case continue as new every few months.
    async with world(env, date(2020, 1, 20), history_limit=40) as w:
        await w.declared(S)
        await w.claim("P16", date(2020, 3, 2), retirement=date(2021, 9, 15))
        case = "ui/P16/2020-03-02"
        first_run = (await env.client.get_workflow_handle(case).describe()).run_id
        await w.advance_to_day(date(2020, 10, 10))
        await w.lifted(date(2020, 9, 1))  # after a few continue-as-new: uplift until 2020-12-01
        await w.price_linkage("2021-01", 5000, date(2020, 12, 20))
        await w.advance_to_day(date(2021, 10, 1))
        assert (w.status(case), w.closed_on(case)) == ("retired", date(2021, 9, 15))
        assert [p for p, _, _ in w.paid(case, UI)] == [f"month-{n}" for n in range(1, 20)]
        assert [p for p, _, _ in w.paid(case, UPLIFT)] == [f"month-{n}" for n in range(1, 10)]  # 03-02..11-02
        assert w.paid(case, LINKAGE) == [("price-linkage-2021-01", 5000, date(2021, 1, 2))]
        # Every payment once (the ledger would absorb a repeat, the case's own sum would not).
        view = await w.view(case)
        assert view.paid_fen == 19 * 150000 + 9 * 20000 + 5000
        assert view.details["continuation"] is True
        assert (await env.client.get_workflow_handle(case).describe()).run_id != first_run


# -- scenarios through simulate --------------------------------------------------------------------
def _mine(result: dict, kinds: tuple[str, ...] = (UI, "unemployment_assistance")) -> dict:
    """The K2/K3 part of a simulate result (other kinds may react to the same events)."""
    return {
        "cases": [c for c in result["cases"] if c["kind"] in kinds],
        "payments": [p for p in result["payments"] if p["kind"] in kinds],
        "dead_letters": result["dead_letters"],
    }


@pytest.mark.parametrize(
    ("name", "until"),
    [
        ("k2_uplift_lift_corrected", "2021-03-31"),
        ("k2_price_linkage", "2020-08-31"),
        ("k2_reemployment", "2020-12-31"),
        ("k2_carry_over", "2023-01-31"),
        ("k2_retirement", "2023-03-31"),
        ("k2_exhaustion", "2021-07-31"),
    ],
)
async def test_k2_scenario_matches_hand_derived_expectation(name: str, until: str) -> None:
    # The expected files were derived by hand from POLICY.md (comments in each scenario's
    # .expected.json "_derivation" list say how); simulate must reproduce them exactly.
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))
    started = time.monotonic()
    result = await simulate(SCENARIOS / f"{name}.jsonl", date.fromisoformat(until))
    elapsed = time.monotonic() - started
    mine = _mine(result)
    assert mine["cases"] == expected["cases"]
    assert mine["payments"] == expected["payments"]
    assert mine["dead_letters"] == expected["dead_letters"]
    assert elapsed < 30, f"{name} took {elapsed:.1f}s"
