"""K10 dibao_taper on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway), time driven by `env.sleep`; the caseworker's decision is the
base class's `decide` update.

Expected values by hand from POLICY.md K10 with the shipped parameters: 3..12 months, 6 when
no decision comes within 15 days of the employment; the 低保 monthly_amount is paid on the
1st of each taper month, from the calendar month after the employment date; the case closes
`completed` on the first day after the last taper month.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from contracts.cases import TaskDecision
from tests.workflow.harness import World, at, world

KIND = kinds.DIBAO_TAPER
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
AMOUNT = 60000


async def grant(h: World, person: str, from_month: str = "2020-01", amount: int = AMOUNT, on: date = date(2020, 1, 3)) -> str:
    data = {"person_id": person, "household_id": f"H{person}", "city": "2101", "monthly_amount": amount, "from_month": from_month}
    await h.send("dibao.granted", data, at(on), subject=f"person/{person}", source="ca/2101")
    return kinds.dibao_taper_case_id(person, from_month)


async def employ(h: World, person: str, on: date, kind: str = "employee") -> None:
    await h.send("employment.registered", {"person_id": person, "city": "2101", "on": on.isoformat(), "kind": kind}, at(on), source="re/2101")


def paid(h: World, case: str) -> list[tuple[str, int, str, str]]:
    return [(p.period, p.amount, p.fund, p.due_on.isoformat()) for p in h.payments(case)]


def decision_task(h: World, case: str) -> dict[str, Any]:
    return next(t for t in h.tasks(case) if t["kind"] == "taper_decision")


def taper(months: list[str], amount: int = AMOUNT) -> list[tuple[str, int, str, str]]:
    return [(m, amount, "dibao_fund", f"{m}-01") for m in months]


async def test_k10_valid_decision_sets_the_months_paid_from_the_month_after_employment(env: WorkflowEnvironment) -> None:
    # Employed 2020-03-10; decided 4 months on 03-12 → 2020-04..2020-07 on the 1st; completed 2020-08-01.
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D101")
        await employ(h, "D101", date(2020, 3, 10))
        task = decision_task(h, case)
        assert task["state"] == "open" and task["due_on"] == "2020-03-25"
        await h.advance_to_day(date(2020, 3, 12))
        await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="caseworker-7", decision={"months": 4}))
        view = await h.view(case)
        assert view.details["taper_months"] == 4 and view.details["decided_by"] == "caseworker-7"
        assert decision_task(h, case)["state"] == "decided"
        await h.advance_to_day(date(2020, 8, 2))
        assert paid(h, case) == taper(["2020-04", "2020-05", "2020-06", "2020-07"])
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2020, 8, 1)


@pytest.mark.parametrize(
    "person, decision", [("D1021", {"months": 13}), ("D1022", {"months": 2}), ("D1023", {"months": "six"}), ("D1024", {"weeks": 6})]
)
async def test_k10_decision_outside_3_to_12_months_is_rejected_and_the_case_unchanged(
    env: WorkflowEnvironment, person: str, decision: dict[str, Any]
) -> None:
    # Workflow ids are business keys and never reused: one person per parameter.
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, person)
        await employ(h, person, date(2020, 3, 10))
        task = decision_task(h, case)
        before = await h.view(case)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="caseworker-7", decision=decision))
        assert "3..12" in str(failed.value.cause)
        after = await h.view(case)
        assert after.details == before.details and after.details["taper_months"] is None
        assert len(after.timeline) == len(before.timeline)
        assert decision_task(h, case)["state"] == "open"


async def test_k10_default_six_months_when_no_decision_within_15_days(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D103")
        await employ(h, "D103", date(2020, 3, 10))
        await h.advance_to_day(date(2020, 3, 24))
        assert (await h.view(case)).details["taper_months"] is None
        await h.advance_to_day(date(2020, 3, 25))
        view = await h.view(case)
        assert view.details["taper_months"] == 6 and view.details["decided_by"] == "default"
        task = decision_task(h, case)
        assert task["state"] == "expired"
        # Too late: the task is no longer open.
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="caseworker-7", decision={"months": 12}))
        assert "not open" in str(failed.value.cause)
        await h.advance_to_day(date(2020, 10, 2))
        assert paid(h, case) == taper(["2020-04", "2020-05", "2020-06", "2020-07", "2020-08", "2020-09"])
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2020, 10, 1)


async def test_k10_the_minimum_months_are_paid_on_time_before_the_decision(env: WorkflowEnvironment) -> None:
    # Employed 2020-03-28: April's payment is due 04-01, before the decision deadline (04-12);
    # every decision gives ≥ 3 months, so it is paid on time; a decision of 3 then ends it there.
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D104", amount=45000)
        await employ(h, "D104", date(2020, 3, 28), kind="self_employed")
        await h.advance_to_day(date(2020, 4, 1))
        assert paid(h, case) == taper(["2020-04"], 45000)
        await h.decide(case, TaskDecision(task_id=decision_task(h, case)["task_id"], decided_by="cw", decision={"months": 3}))
        await h.advance_to_day(date(2020, 7, 2))
        assert paid(h, case) == taper(["2020-04", "2020-05", "2020-06"], 45000)
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2020, 7, 1)


async def test_k10_dibao_ended_before_employment_closes_without_payment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D105")
        await h.send("dibao.ended", {"person_id": "D105", "on": "2020-02-29"}, at(date(2020, 2, 29)), source="ca/2101")
        assert h.status(case) == "ended" and h.record(case).closed_on == date(2020, 2, 29)
        await employ(h, "D105", date(2020, 3, 10))
        assert h.payments(case) == [] and h.tasks(case) == []


async def test_k10_dibao_ended_after_employment_does_not_stop_the_taper(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D106")
        await employ(h, "D106", date(2020, 3, 10))
        await h.send("dibao.ended", {"person_id": "D106", "on": "2020-03-31"}, at(date(2020, 3, 31)), source="ca/2101")
        await h.advance_to_day(date(2020, 10, 2))
        assert len(paid(h, case)) == 6 and h.status(case) == "completed"


async def test_k10_pays_the_latest_grant_amount(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3)) as h:
        case = await grant(h, "D107")
        await grant(h, "D107", from_month="2020-02", amount=70000, on=date(2020, 2, 2))
        await employ(h, "D107", date(2020, 3, 10))
        await h.advance_to_day(date(2020, 10, 2))
        assert {a for _, a, _, _ in paid(h, case)} == {70000} and len(paid(h, case)) == 6


async def test_k10_across_continue_as_new_pays_each_month_once(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 3), history_limit=25) as h:
        case = await grant(h, "D108")
        await employ(h, "D108", date(2020, 3, 10))
        await h.advance_to_day(date(2020, 3, 20))
        await h.decide(case, TaskDecision(task_id=decision_task(h, case)["task_id"], decided_by="cw", decision={"months": 12}))
        await h.advance_to_day(date(2021, 4, 2))
        months = [f"2020-{m:02d}" for m in range(4, 13)] + ["2021-01", "2021-02", "2021-03"]
        assert paid(h, case) == taper(months)
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2021, 4, 1)
        assert h.record(case).summary["generation"] >= 1


async def test_k10_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k10_dibao_taper.jsonl through `simulate`; expected derived by hand (its "_how")."""
    expected = json.loads((SCENARIOS / "k10_dibao_taper.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k10_dibao_taper.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert [(p["case_id"], p["payee"], p["period"], p["amount"], p["fund"], p["due_on"]) for p in result["payments"] if p["kind"] == KIND] == [
        tuple(p) for p in expected["payments"]
    ]
    case_ids = {c["case_id"] for c in expected["cases"]}
    assert [t for t in result["tasks"] if t["case_id"] in case_ids] == expected["tasks"]
    assert result["dead_letters"] == expected["dead_letters"]
