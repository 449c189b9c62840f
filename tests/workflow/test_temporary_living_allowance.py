"""K17 temporary_living_allowance (临时生活补助, §18) on Temporal's time-skipping server, through
the intake as in production. Each test is named after the POLICY.md rule it guards.

Amounts by hand from the shipped defaults: tla.monthly 60000 fen, tla.months 3,
recovery.max_deduction_ratio 50/100.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

import app.simulate
from policy.corrections import WORTH_SIGN
from streams.intake import Outcome
from tests.workflow.harness import World, world

TLA = "temporary_living_allowance"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
APPLIED = date(2020, 4, 15)


def case_of(person: str, on: date = APPLIED) -> str:
    return f"tla/{person}/{on.isoformat()}"


async def registered(w: World, person: str, on: date = date(2020, 2, 1), categories: list[str] | None = None) -> None:
    data: dict[str, Any] = {"person_id": person, "city": "2101", "registered_on": on.isoformat(),
                            "birth_date": "1980-01-01", "retirement_date": "2040-01-01"}
    if categories:
        data["categories"] = categories
    await w.send("unemployment.registered", data, on)


async def dibao(w: World, person: str, on: date = date(2020, 2, 3)) -> None:
    await w.send("dibao.granted", {"person_id": person, "household_id": f"H-{person}", "city": "2101",
                                   "monthly_amount": 60000, "from_month": "2020-01"}, on)


async def apply(w: World, person: str, on: date = APPLIED) -> Outcome:
    return await w.send("application.submitted", {"program": TLA, "applicant": person, "on": on.isoformat()}, on,
                        subject=f"person/{person}")


async def eligible(w: World, person: str) -> None:
    await registered(w, person)
    await dibao(w, person)


def key(outcome: Outcome) -> str:
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


def net(w: World, case: str) -> dict[str, int]:
    """Original + corrections per period."""
    total: dict[str, int] = {}
    for p in w.payments(case):
        total[p.period] = total.get(p.period, 0) + WORTH_SIGN[p.entry] * p.amount
    return total


async def test_k17_pays_tla_monthly_at_the_start_of_each_of_tla_months_months(env: WorkflowEnvironment) -> None:
    """Pays `tla.monthly` at the start of each of `tla.months` months from the application date
    (a 低保 household member, registered unemployed), else `completed`."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L1")
        await apply(w, "L1")
        await w.advance_to_day(date(2020, 7, 20))
        case = case_of("L1")
        assert w.originals(case, TLA) == [
            ("month-1", 60000, date(2020, 4, 15)), ("month-2", 60000, date(2020, 5, 15)), ("month-3", 60000, date(2020, 6, 15)),
        ]
        assert {p.fund for p in w.payments(case)} == {"employment_subsidy_fund"}
        assert (w.status(case), w.closed_on(case)) == ("completed", date(2020, 7, 15))


async def test_k17_not_in_living_difficulty_is_rejected(env: WorkflowEnvironment) -> None:
    """Eligible on the application date, else `rejected`: registered unemployed and in living
    difficulty (低保 or zero-employment household) — another K12 category is not enough."""
    async with world(env, date(2020, 2, 1)) as w:
        await registered(w, "L2", categories=["disabled"])
        await apply(w, "L2")
        await w.advance_to_day(date(2020, 6, 1))
        case = case_of("L2")
        assert w.status(case) == "rejected"
        assert w.payments(case) == []


async def test_k17_receiving_unemployment_insurance_benefit_is_rejected(env: WorkflowEnvironment) -> None:
    """...and not receiving unemployment-insurance benefit (no open K2 case of the person that pays)."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L3")
        await w.claim("L3", date(2020, 3, 2))
        await apply(w, "L3")
        await w.advance_to_day(date(2020, 6, 1))
        assert w.status("ui/L3/2020-03-02") == "active"
        assert w.status(case_of("L3")) == "rejected"
        assert w.payments(case_of("L3")) == []


async def test_k17_at_most_once_per_person_per_calendar_year(env: WorkflowEnvironment) -> None:
    """At most once per person per calendar year: a second application in the year is `rejected`;
    one in the next year is judged afresh."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L4")
        await apply(w, "L4")
        await w.advance_to_day(date(2020, 8, 1))
        await apply(w, "L4", date(2020, 9, 1))
        await apply(w, "L4", date(2021, 1, 4))
        await w.advance_to_day(date(2021, 1, 10))
        assert w.status(case_of("L4")) == "completed"
        assert w.status(case_of("L4", date(2020, 9, 1))) == "rejected"
        assert w.payments(case_of("L4", date(2020, 9, 1))) == []
        assert w.originals(case_of("L4", date(2021, 1, 4)), TLA) == [("month-1", 60000, date(2021, 1, 4))]


async def test_k17_reemployment_stops_it_from_the_next_month(env: WorkflowEnvironment) -> None:
    """re-employment stops it from the next month (`reemployed`)."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L5")
        await apply(w, "L5")
        await w.employment("L5", date(2020, 5, 20))
        await w.advance_to_day(date(2020, 7, 20))
        case = case_of("L5")
        assert w.originals(case, TLA) == [("month-1", 60000, date(2020, 4, 15)), ("month-2", 60000, date(2020, 5, 15))]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 5, 20))


async def test_k17_backdated_reemployment_makes_an_overpayment_and_a_recovery_task(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2 corrections: a re-employment dated before months already paid → those
    months become an `overpayment` (never an edit); the case has nothing more to pay, so the
    rest is a supervisor task `overpayment_recovery`."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L6")
        await apply(w, "L6")
        await w.advance_to_day(date(2020, 6, 20))
        late = key(await w.employment("L6", date(2020, 5, 2)))
        await w.advance_to_day(date(2020, 7, 20))
        case = case_of("L6")
        assert w.originals(case, TLA) == [
            ("month-1", 60000, date(2020, 4, 15)), ("month-2", 60000, date(2020, 5, 15)), ("month-3", 60000, date(2020, 6, 15)),
        ]
        # Re-employed on 2 May: month 1 (from 15 April) is still owed, months 2 and 3 are not.
        assert [(p.period, p.entry, p.amount, p.corrects, p.cause) for p in w.payments(case) if p.entry != "payment"] == [
            ("month-2", "overpayment", 60000, "month-2", late), ("month-3", "overpayment", 60000, "month-3", late),
        ]
        assert net(w, case) == {"month-1": 60000, "month-2": 0, "month-3": 0}
        assert w.status(case) == "reemployed"
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["details"]["amount"], t["details"]["periods"]) for t in tasks] == [
            ("overpayment_recovery", 120000, ["month-2", "month-3"]),
        ]


async def test_k17_backdated_change_of_tla_monthly_pays_arrears(env: WorkflowEnvironment) -> None:
    """A parameter change effective from a past date: the months since it that were paid get an
    `arrears` row for the difference, due at once; later months pay the new amount."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L7")
        await apply(w, "L7")
        await w.advance_to_day(date(2020, 5, 20))
        change = key(await w.parameter("tla.monthly", 70000, effective=date(2020, 5, 1), day=date(2020, 5, 20)))
        await w.advance_to_day(date(2020, 7, 20))
        case = case_of("L7")
        assert w.originals(case, TLA) == [
            ("month-1", 60000, date(2020, 4, 15)), ("month-2", 60000, date(2020, 5, 15)), ("month-3", 70000, date(2020, 6, 15)),
        ]
        assert w.corrections(case) == [(TLA, "month-2", "arrears", 10000, date(2020, 5, 20), "month-2")]
        assert [p.cause for p in w.payments(case) if p.entry == "arrears"] == [change]
        assert net(w, case) == {"month-1": 60000, "month-2": 70000, "month-3": 70000}


async def test_k17_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k17_living_allowance.jsonl through `simulate` (its "_how" derives every row):
    payments, a backdated parameter change's arrears, a backdated re-employment's overpayment with
    its recovery task, and the once-a-year refusal."""
    expected = json.loads((SCENARIOS / "k17_living_allowance.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / "k17_living_allowance.jsonl", date.fromisoformat(expected["until"]))
    # Other kinds react to the same events (a registration opens a follow-up case, a 低保 grant a
    # taper case): only this kind's are compared.
    assert [c for c in result["cases"] if c["kind"] == TLA] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] == TLA] == expected["payments"]
    assert [[c["case_id"], c["period"], c["entry"], c["cause"]] for c in result["corrections"]
            if c["case_id"].startswith("tla/")] == expected["causes"]
    assert [t for t in result["tasks"] if t["case_id"].startswith("tla/")] == expected["tasks"]
    assert result["dead_letters"] == expected["dead_letters"]


async def test_k17_a_reemployment_learnt_after_the_allowance_completed_still_corrects_it(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: facts still correct a case up to `ledger.correction_days` after it closed —
    a completed allowance whose person was re-employed before its last months gets overpayments
    and, with nothing more to pay, an `overpayment_recovery` task."""
    async with world(env, date(2020, 2, 1)) as w:
        await eligible(w, "L8")
        await apply(w, "L8")
        await w.advance_to_day(date(2020, 8, 1))
        case = case_of("L8")
        assert w.status(case) == "completed"
        late = key(await w.employment("L8", date(2020, 5, 3)))
        assert [(p.period, p.entry, p.amount, p.cause) for p in w.payments(case) if p.entry != "payment"] == [
            ("month-2", "overpayment", 60000, late), ("month-3", "overpayment", 60000, late),
        ]
        assert w.status(case) == "completed"
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["details"]["amount"]) for t in tasks] == [("overpayment_recovery", 120000)]


async def test_k17_a_hardship_fact_learnt_within_late_fact_days_reopens_the_rejected_application(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2, late facts across topics: an application rejected for want of a fact (the
    低保 grant travels on another topic) that receives it within `intake.late_fact_days` is judged
    again as if it had come first, and pays what fell due with the original dates; a fact later
    than that leaves it rejected."""
    async with world(env, date(2020, 2, 1)) as w:
        await registered(w, "L9")
        await registered(w, "L10")
        await apply(w, "L9")
        await apply(w, "L10")
        assert (w.status(case_of("L9")), w.status(case_of("L10"))) == ("rejected", "rejected")
        await dibao(w, "L9", date(2020, 5, 10))  # 25 days after the decision
        await dibao(w, "L10", date(2020, 5, 20))  # 35 days after
        await w.advance_to_day(date(2020, 7, 20))
        assert w.originals(case_of("L9"), TLA) == [
            ("month-1", 60000, date(2020, 4, 15)), ("month-2", 60000, date(2020, 5, 15)), ("month-3", 60000, date(2020, 6, 15)),
        ]
        assert w.status(case_of("L9")) == "completed"
        assert (w.status(case_of("L10")), w.payments(case_of("L10"))) == ("rejected", [])
