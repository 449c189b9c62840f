"""K3 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a K3 case states what it owes per assistance month, and a re-employment dated
before months already paid or a backdated change of `ui.monthly_benefit` or `ua.ratio` adds rows
to its ledger, never edits one.

Amounts derived by hand from the shipped defaults: ua.ratio 80/100 × ui.monthly_benefit 150000 =
120000 at the start of each of ua.months 6 months from the day the case opens,
recovery.max_deduction_ratio 50/100. Each case is a claim with too few insured months (K2
ineligible → K3 opens on the claim day, 2020-04-01: months start 04-01, 05-01, 06-01, 07-01...).
Each test asserts the exact rows and that, for every period, the original plus its corrections
is what the facts known now give.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from app.simulate import simulate
from contracts import kinds
from tests.workflow.harness import World, event_key, world
from workflows.unemployment_assistance import RULE_ASSISTANCE, RULE_NOT_OWED

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
UA = "unemployment_assistance"
OPENS = date(2020, 4, 1)


def month(n: int) -> str:
    return f"month-{n}"


async def assistance_case(w: World, person: str) -> str:
    await w.claim(person, OPENS, insured=8)
    return kinds.unemployment_assistance_case_id(person, OPENS)


async def reemployed_by(w: World, person: str, how: str, day: date) -> str:
    """A re-employment fact delivered on `day`, dated 2020-05-10 (an employer's contribution:
    for 2020-06, so re-employed from 2020-06-01); returns its event key."""
    if how == "employment.registered":
        outcome = await w.send(how, {"person_id": person, "city": "2101", "on": "2020-05-10", "kind": "employee",
                                     "employer_id": "E7"}, day)
    elif how == "contract.signed":
        outcome = await w.send(how, {"person_id": person, "employer_id": "E7", "signed_on": day.isoformat(),
                                     "starts_on": "2020-05-10", "term_months": 12}, day)
    else:
        outcome = await w.contribution(person, "2020-06", day)
    return event_key(outcome)


@pytest.mark.parametrize("person, how, reemployed_on, overpaid", [
    ("R1A", "employment.registered", date(2020, 5, 10), (3, 4)),
    ("R1B", "contract.signed", date(2020, 5, 10), (3, 4)),  # signed 07-10, started 05-10
    ("R1C", "contribution.paid", date(2020, 6, 1), (4,)),  # the 06-01 month starts that day: still owed
])
async def test_k3_backdated_reemployment_overpays_the_months_after_it_and_raises_recovery(
    env: WorkflowEnvironment, person: str, how: str, reemployed_on: date, overpaid: tuple[int, ...]
) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        case = await assistance_case(w, person)
        await w.advance_to_day(date(2020, 7, 10))
        assert w.originals(case, UA) == [(month(n), 120000, date(2020, n + 3, 1)) for n in (1, 2, 3, 4)]
        cause = await reemployed_by(w, person, how, date(2020, 7, 10))
        # No later payment to deduct from: the case closes, the overpayment becomes a task.
        assert w.ledger_rows(case) == [(UA, month(n), "overpayment", 120000, date(2020, 7, 10), month(n), cause) for n in overpaid]
        assert {p.rule for p in w.payments(case) if p.entry == "overpayment"} == {RULE_NOT_OWED}
        assert w.worth(case) == {(UA, month(n)): 0 if n in overpaid else 120000 for n in (1, 2, 3, 4)}
        assert (w.status(case), w.closed_on(case)) == ("reemployed", reemployed_on)
        assert [(t["kind"], t["state"], t["due_on"], t["details"]["amount"], t["details"]["periods"]) for t in w.tasks(case)] == [
            ("overpayment_recovery", "open", "2020-07-10", 120000 * len(overpaid), [month(n) for n in overpaid])
        ]


async def test_k3_backdated_benefit_raise_pays_arrears_for_the_months_since(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        case = await assistance_case(w, "R2")
        await w.advance_to_day(date(2020, 6, 10))
        change = event_key(await w.parameter("ui.monthly_benefit", 160000, effective=date(2020, 5, 1), day=date(2020, 6, 10)))
        await w.advance_to_day(date(2020, 7, 2))
        # 80% of 160000 = 128000 for the months starting on or after 05-01: 8000 more each.
        assert w.ledger_rows(case) == [
            (UA, month(2), "arrears", 8000, date(2020, 6, 10), month(2), change),
            (UA, month(3), "arrears", 8000, date(2020, 6, 10), month(3), change),
        ]
        assert {p.rule for p in w.payments(case) if p.entry == "arrears"} == {RULE_ASSISTANCE}
        assert w.ledger_rows(case, ("payment",))[-1] == (UA, month(4), "payment", 128000, date(2020, 7, 1), None, None)
        assert w.worth(case) == {(UA, month(1)): 120000, **{(UA, month(n)): 128000 for n in (2, 3, 4)}}
        assert (await w.view(case)).paid_fen == 120000 + 3 * 128000


async def test_k3_backdated_ratio_cut_is_recovered_from_later_payments(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        case = await assistance_case(w, "R3")
        await w.advance_to_day(date(2020, 5, 10))
        cut = event_key(await w.parameter("ua.ratio", [70, 100], effective=date(2020, 4, 1), day=date(2020, 5, 10)))
        await w.advance_to_day(date(2020, 10, 2))
        # 70% of 150000 = 105000: months 1 and 2 overpaid by 15000 each; month 3 (105000) carries
        # deductions of at most half of it, oldest overpayment first: both fit.
        assert w.ledger_rows(case) == [
            (UA, month(1), "overpayment", 15000, date(2020, 5, 10), month(1), cut),
            (UA, month(2), "overpayment", 15000, date(2020, 5, 10), month(2), cut),
            (UA, month(3), "deduction", 15000, date(2020, 6, 1), month(1), cut),
            (UA, month(3), "deduction", 15000, date(2020, 6, 1), month(2), cut),
        ]
        assert w.originals(case, UA)[2:] == [(month(n), 105000, date(2020, n + 3, 1)) for n in (3, 4, 5, 6)]
        assert w.worth(case) == {(UA, month(n)): 105000 for n in range(1, 7)}
        assert (await w.view(case)).paid_fen == 2 * 120000 + 4 * 105000 - 30000
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        assert w.tasks(case) == []


async def test_k3_corrections_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k3_corrections.jsonl through `simulate` (its "_derivation" says how)."""
    expected = json.loads((SCENARIOS / "k3_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k3_corrections.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])
