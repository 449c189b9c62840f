"""K16 incubator_subsidy (创业孵化载体补贴, §12) on Temporal's time-skipping server, through the
intake as in production: one case per incubator and year. Each test is named after the
POLICY.md rule it guards. Shipped defaults: incubator.city_share 30/100, city_cap 100,000,000 fen,
provincial_slots 10, provincial_cap 500,000,000 fen, rent_relief_share 50/100, settle_months 6.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

import app.simulate
from contracts.cases import TaskDecision
from streams.intake import Outcome
from tests.workflow.harness import World, world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def send(w: World, type_: str, incubator: str, day: date, data: dict[str, Any]) -> Outcome:
    return await w.send(type_, data, day, subject=f"incubator/{incubator}")


async def accredited(w: World, incubator: str, on: date = date(2019, 12, 1)) -> None:
    await send(w, "incubator.accredited", incubator, on, {"incubator_id": incubator, "city": "2101", "operator": "private",
                                                          "on": on.isoformat()})


async def expenses(w: World, incubator: str, operating: int, public: int, day: date, year: int = 2020) -> Outcome:
    return await send(w, "incubator.expenses_reported", incubator, day, {
        "incubator_id": incubator, "year": year, "operating": operating, "public_services": public, "on": day.isoformat()})


async def apply(w: World, incubator: str, day: date, year: int = 2020) -> Outcome:
    return await send(w, "application.submitted", incubator, day, {
        "program": "incubator_provincial", "applicant": incubator, "on": day.isoformat(), "details": {"year": year}})


async def relief(w: World, incubator: str, month: str, waived: int, day: date) -> Outcome:
    return await send(w, "incubator.rent_relief_reported", incubator, day, {
        "incubator_id": incubator, "month": month, "tenants": 12, "rent_waived": waived, "on": day.isoformat()})


def rows(w: World, case: str) -> list[tuple[str, str, str, int, date]]:
    return [(p.program, p.period, p.entry, p.amount, p.due_on)
            for p in sorted(w.payments(case), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))]


def key(outcome: Outcome) -> str:
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


async def decide(w: World, case: str, task_id: str, approve: bool) -> Any:
    return await w.env.client.get_workflow_handle(case).execute_update(
        "decide", TaskDecision(task_id=task_id, decided_by="province-sup", decision={"approve": approve, "reason": "评审"}))


def task_of(w: World, case: str) -> dict[str, Any]:
    (task,) = [t for t in w.store.tasks.values() if t["case_id"] == case]
    return task


async def test_k16_city_support_is_city_share_of_expenses_and_a_later_report_is_a_correction(env: WorkflowEnvironment) -> None:
    """City support: floor(`incubator.city_share` × (operating + public_services)), at most
    `incubator.city_cap`; program `incubator_city`, period `Y`. A later report for the same year
    replaces the earlier one: the difference is a correction."""
    async with world(env, date(2020, 1, 1)) as w:
        await accredited(w, "I1")
        await expenses(w, "I1", 2_000_000, 1_000_001, date(2021, 2, 1))
        later = key(await expenses(w, "I1", 2_500_000, 1_000_000, date(2021, 3, 1)))
        case = "incubator/I1/2020"
        assert rows(w, case) == [("incubator_city", "2020", "payment", 900_000, date(2021, 2, 1)),
                                 ("incubator_city", "2020", "arrears", 150_000, date(2021, 3, 1))]
        assert [p.cause for p in w.payments(case) if p.entry == "arrears"] == [later]
        assert {p.payee for p in w.payments(case)} == {"incubator/I1"}


async def test_k16_city_support_at_most_city_cap(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as w:
        await expenses(w, "I2", 300_000_000, 100_000_000, date(2021, 2, 1))
        assert rows(w, "incubator/I2/2020") == [("incubator_city", "2020", "payment", 100_000_000, date(2021, 2, 1))]


async def test_k16_provincial_subsidy_for_an_approved_accredited_incubator_once_the_report_is_in(env: WorkflowEnvironment) -> None:
    """An accredited incubator applies; the application is a supervisor task `provincial_selection`
    for a province supervisor; approved → min(`incubator.provincial_cap`, expenses) once the report
    is in. An incubator not accredited cannot apply."""
    async with world(env, date(2020, 1, 1)) as w:
        await accredited(w, "I3")
        await apply(w, "I3", date(2020, 9, 1))
        await apply(w, "I4", date(2020, 9, 1))  # not accredited
        task = task_of(w, "incubator/I3/2020")
        assert (task["kind"], task["city"], task["state"]) == ("provincial_selection", None, "open")
        assert [t for t in w.store.tasks.values() if t["case_id"] == "incubator/I4/2020"] == []
        await decide(w, "incubator/I3/2020", task["task_id"], True)
        await w.advance_to_day(date(2020, 9, 2))
        assert rows(w, "incubator/I3/2020") == []  # nothing before the year's report
        await expenses(w, "I3", 4_000_000, 2_000_000, date(2021, 2, 1))
        assert rows(w, "incubator/I3/2020") == [("incubator_city", "2020", "payment", 1_800_000, date(2021, 2, 1)),
                                                ("incubator_provincial", "2020", "payment", 6_000_000, date(2021, 2, 1))]


async def test_k16_an_approval_beyond_the_provincial_slots_is_refused(env: WorkflowEnvironment) -> None:
    """At most `incubator.provincial_slots` approvals per year, province-wide: an approval beyond
    them is refused (the task stays open, and can be denied)."""
    async with world(env, date(2020, 1, 1)) as w:
        await w.parameter("incubator.provincial_slots", 1, effective=date(2020, 1, 1), day=date(2020, 1, 2), city=None)
        for i in ("I5", "I6"):
            await accredited(w, i)
            await apply(w, i, date(2020, 9, 1))
        await decide(w, "incubator/I5/2020", task_of(w, "incubator/I5/2020")["task_id"], True)
        second = task_of(w, "incubator/I6/2020")["task_id"]
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await decide(w, "incubator/I6/2020", second, True)
        assert "provincial slots of 2020 are taken" in str(refused.value.cause)
        await w.settle()
        assert task_of(w, "incubator/I6/2020")["state"] == "open"
        await decide(w, "incubator/I6/2020", second, False)
        await w.settle()
        assert task_of(w, "incubator/I6/2020")["state"] == "decided"


async def test_k16_rent_relief_for_months_overlapping_the_epidemic_and_a_moved_lift_date_corrects(env: WorkflowEnvironment) -> None:
    """Rent relief: for a month that overlaps the epidemic period [S, L], floor(`rent_relief_share`
    × rent_waived), program `incubator_rent_relief`, fund `incubator.rent_relief_fund`. A lift date
    corrected to an earlier day after a month was paid makes it an overpayment."""
    async with world(env, date(2020, 1, 20)) as w:
        await w.declared(date(2020, 1, 25))
        await relief(w, "I7", "2020-03", 100_001, date(2020, 4, 2))
        await relief(w, "I7", "2020-05", 80_000, date(2020, 6, 2))
        moved = key(await w.lifted(date(2020, 4, 20), announced=date(2020, 6, 10)))
        case = "incubator/I7/2020"
        assert rows(w, case) == [("incubator_rent_relief", "2020-03", "payment", 50_000, date(2020, 4, 2)),
                                 ("incubator_rent_relief", "2020-05", "payment", 40_000, date(2020, 6, 2)),
                                 ("incubator_rent_relief", "2020-05", "overpayment", 40_000, date(2020, 6, 10))]
        assert [p.cause for p in w.payments(case) if p.entry == "overpayment"] == [moved]
        assert {p.fund for p in w.payments(case)} == {"employment_subsidy_fund"}


async def test_k16_closes_settled_six_months_after_the_end_of_the_year(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as w:
        await expenses(w, "I8", 1_000_000, 0, date(2020, 12, 1))
        await w.advance_to_day(date(2021, 7, 2))
        assert (w.status("incubator/I8/2020"), w.closed_on("incubator/I8/2020")) == ("settled", date(2021, 7, 1))


async def test_k16_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k16_incubators.jsonl through `simulate` (its "_how" derives every row)."""
    expected = json.loads((SCENARIOS / "k16_incubators.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / "k16_incubators.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert [[c["case_id"], c["period"], c["entry"], c["cause"]] for c in result["corrections"]] == expected["causes"]
    assert (result["tasks"], result["alerts"], result["dead_letters"]) == (expected["tasks"], expected["alerts"], expected["dead_letters"])
