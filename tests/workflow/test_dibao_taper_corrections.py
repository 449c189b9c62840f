"""K10 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a taper states what it owes per taper month, and a grant restating the 低保 the
person received when employed, or a backdated change of the default months the taper took, adds
rows to its ledger, never edits one.

K10's other facts give no correction path: a caseworker's decision is taken once on an open task
(no fact changes it), and EVENTS.md has no event that corrects an employment registration (a
second one is another job; tests/workflow/test_dibao_taper.py keeps that behaviour).

Amounts derived by hand from the shipped defaults: no decision within dibao.decision_days 15 days
→ dibao.taper_default_months 6; the 低保 amount on the 1st of each taper month from the month
after the employment; recovery.max_deduction_ratio 50/100. Every case: 低保 60000 fen from
2020-01, employed 2020-03-10 → taper months 2020-04..2020-09, completed 2020-10-01.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app.simulate import simulate
from contracts import kinds
from policy.dibao import RULE_NOT_OWED, RULE_PAYMENT
from tests.workflow.harness import World, event_key, world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TAPER = "dibao_taper"
EMPLOYED = date(2020, 3, 10)


async def granted(w: World, person: str, from_month: str, amount: int, day: date) -> str:
    outcome = await w.send("dibao.granted", {"person_id": person, "household_id": f"H{person}", "city": "2101",
                                             "monthly_amount": amount, "from_month": from_month}, day)
    return event_key(outcome)


async def taper_case(w: World, person: str) -> str:
    await granted(w, person, "2020-01", 60000, date(2020, 1, 3))
    await w.employment(person, EMPLOYED)
    return kinds.dibao_taper_case_id(person, "2020-01")


def months(*numbers: int) -> list[str]:
    return [f"2020-{m:02d}" for m in numbers]


async def test_k10_restated_amount_raised_pays_arrears_for_the_months_paid(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 2)) as w:
        case = await taper_case(w, "T1")
        # A grant from a month after the employment is civil affairs' business: no correction.
        await granted(w, "T1", "2020-05", 50000, date(2020, 5, 5))
        await w.advance_to_day(date(2020, 6, 10))
        assert w.originals(case, TAPER) == [(m, 60000, date(2020, int(m[5:]), 1)) for m in months(4, 5, 6)]
        assert w.ledger_rows(case) == []
        # A grant from 2020-03 (covering the employment date) restates the 低保 received then.
        cause = await granted(w, "T1", "2020-03", 70000, date(2020, 6, 10))
        assert w.ledger_rows(case) == [(TAPER, m, "arrears", 10000, date(2020, 6, 10), m, cause) for m in months(4, 5, 6)]
        assert {p.rule for p in w.payments(case) if p.entry == "arrears"} == {RULE_PAYMENT}
        await w.advance_to_day(date(2020, 10, 2))
        assert w.originals(case, TAPER)[3:] == [(m, 70000, date(2020, int(m[5:]), 1)) for m in months(7, 8, 9)]
        assert w.worth(case) == {(TAPER, m): 70000 for m in months(4, 5, 6, 7, 8, 9)}
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        assert [t["kind"] for t in w.tasks(case)] == ["taper_decision"]
        assert all(p.fund == "dibao_fund" for p in w.payments(case))


async def test_k10_restated_amount_cut_is_deducted_from_later_months_and_the_rest_raised(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 2)) as w:
        case = await taper_case(w, "T2")
        await w.advance_to_day(date(2020, 8, 10))
        # The grant from 2020-01 sent again with 40000: each of 2020-04..08 overpaid by 20000;
        # 2020-09 pays 40000 and carries a deduction of at most half of it, oldest first.
        cause = await granted(w, "T2", "2020-01", 40000, date(2020, 8, 10))
        await w.advance_to_day(date(2020, 10, 2))
        assert w.ledger_rows(case) == [
            *[(TAPER, m, "overpayment", 20000, date(2020, 8, 10), m, cause) for m in months(4, 5, 6, 7, 8)],
            (TAPER, "2020-09", "deduction", 20000, date(2020, 9, 1), "2020-04", cause),
        ]
        assert w.originals(case, TAPER)[-1] == ("2020-09", 40000, date(2020, 9, 1))
        assert w.worth(case) == {(TAPER, m): 40000 for m in months(4, 5, 6, 7, 8, 9)}
        assert (await w.view(case)).paid_fen == 5 * 60000 + 40000 - 20000
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        recovery = [t for t in w.tasks(case) if t["kind"] == "overpayment_recovery"]
        assert [(t["state"], t["due_on"], t["details"]["amount"], t["details"]["periods"]) for t in recovery] == [
            ("open", "2020-10-01", 80000, months(4, 5, 6, 7, 8))
        ]


async def test_k10_backdated_shorter_default_overpays_the_months_beyond_it(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 2)) as w:
        case = await taper_case(w, "T3")
        await w.advance_to_day(date(2020, 8, 10))
        assert [p for p, _, _ in w.originals(case, TAPER)] == months(4, 5, 6, 7, 8)
        change = event_key(await w.parameter("dibao.taper_default_months", 4, effective=date(2020, 1, 1), day=date(2020, 8, 10)))
        assert w.ledger_rows(case) == [(TAPER, "2020-08", "overpayment", 60000, date(2020, 8, 10), "2020-08", change)]
        assert {p.rule for p in w.payments(case) if p.entry == "overpayment"} == {RULE_NOT_OWED}
        assert w.worth(case) == {**{(TAPER, m): 60000 for m in months(4, 5, 6, 7)}, (TAPER, "2020-08"): 0}
        # Four months end on 2020-08-01; nothing more to pay, so the overpayment is a task.
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 8, 1))
        recovery = [t for t in w.tasks(case) if t["kind"] == "overpayment_recovery"]
        assert [(t["due_on"], t["details"]["amount"], t["details"]["periods"]) for t in recovery] == [
            ("2020-08-10", 60000, ["2020-08"])
        ]


async def test_k10_backdated_longer_default_pays_the_months_added(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 2)) as w:
        case = await taper_case(w, "T4")
        await w.advance_to_day(date(2020, 8, 10))
        await w.parameter("dibao.taper_default_months", 8, effective=date(2020, 3, 1), day=date(2020, 8, 10))
        await w.advance_to_day(date(2020, 12, 2))
        assert w.ledger_rows(case) == []
        assert w.originals(case, TAPER) == [(m, 60000, date(2020, int(m[5:]), 1)) for m in months(4, 5, 6, 7, 8, 9, 10, 11)]
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 12, 1))


async def test_k10_restated_grant_arriving_after_the_taper_completed_corrects_it_a_new_grant_opens_a_case(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: facts still correct a case up to ledger.correction_days after it closed.
    The taper completed on 10-01 at 60000 a month; on 10-20 a grant of 70000 from 2020-02 (it
    covers the employment) is delivered: it reaches the listening taper, which pays 10000 arrears
    for each of its six months. A grant from 2020-11 (after the employment) is a new 低保
    period: it opens a new waiting case and leaves the taper as it is."""
    async with world(env, date(2020, 1, 2)) as w:
        case = await taper_case(w, "T9")
        await w.advance_to_day(date(2020, 10, 20))
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        cause = await granted(w, "T9", "2020-02", 70000, date(2020, 10, 20))
        assert w.ledger_rows(case) == [(TAPER, m, "arrears", 10000, date(2020, 10, 20), m, cause) for m in months(4, 5, 6, 7, 8, 9)]
        assert w.worth(case) == {(TAPER, m): 70000 for m in months(4, 5, 6, 7, 8, 9)}
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 10, 1))
        await granted(w, "T9", "2020-11", 50000, date(2020, 11, 3))
        assert w.status("dibao/T9/2020-11") == "active"
        assert w.ledger_rows(case) == [(TAPER, m, "arrears", 10000, date(2020, 10, 20), m, cause) for m in months(4, 5, 6, 7, 8, 9)]


async def test_k10_corrections_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k10_corrections.jsonl through `simulate` (its "_derivation" says how)."""
    expected = json.loads((SCENARIOS / "k10_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k10_corrections.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])
