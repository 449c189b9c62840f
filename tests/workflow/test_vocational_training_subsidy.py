"""K14 vocational_training_subsidy (职业培训补贴) with 劳动预备制 on Temporal's time-skipping server,
through the intake as in production. Each test is named after the POLICY.md rule it guards.
Shipped defaults: training.subsidy_by_level junior 100000 / intermediate 150000 / senior 200000,
training.online_ratio 50/100, training.on_job_per_trainee 50000, training.max_per_year 3,
trainee.living_allowance 50000, trainee.max_age 20, trainee window 2020.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

import app.simulate
from streams.intake import Outcome
from tests.workflow.harness import World, world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def registered(w: World, person: str, birth: str = "1980-01-01", willing: bool | None = None) -> None:
    data: dict[str, Any] = {"person_id": person, "city": "2101", "registered_on": "2020-02-01", "birth_date": birth,
                            "retirement_date": "2045-01-01"}
    if willing is not None:
        data["willing_training"] = willing
    await w.send("unemployment.registered", data, date(2020, 2, 1))


async def enrol(w: World, enrolment: str, person: str, *, occupation: str = "welder", level: str = "junior", mode: str = "onsite",
                starts: date = date(2020, 3, 2), ends: date = date(2020, 5, 29), groups: list[str] | None = None,
                sponsor: str | None = None) -> Outcome:
    data: dict[str, Any] = {"enrolment_id": enrolment, "person_id": person, "provider_id": "TP1", "city": "2101",
                            "occupation": occupation, "level": level, "mode": mode, "starts_on": starts.isoformat(),
                            "ends_on": ends.isoformat(), "groups": groups or []}
    if sponsor:
        data["sponsor_enterprise_id"] = sponsor
    return await w.send("training.enrolled", data, starts)


async def complete(w: World, enrolment: str, person: str, on: date, level: str | None = "junior") -> Outcome:
    return await w.send("training.completed", {"enrolment_id": enrolment, "person_id": person, "on": on.isoformat(),
                                               "certificate_level": level}, on)


def rows(w: World, case: str) -> list[tuple[str, str, int, str, str, date]]:
    return [(p.program, p.period, p.amount, p.payee, p.fund, p.due_on)
            for p in sorted(w.payments(case), key=lambda p: (p.due_on, p.program, p.period))]


async def test_k14_a_certificate_at_the_enrolled_level_pays_the_level_subsidy_online_a_share(env: WorkflowEnvironment) -> None:
    """`training.completed` with a certificate at the enrolled level pays `training.subsidy_by_level`
    (× `training.online_ratio` online) to the trainee, fund `employment_subsidy_fund`; no
    certificate → `failed`, nothing paid."""
    async with world(env, date(2020, 2, 1)) as w:
        for p in ("T1", "T2", "T3"):
            await registered(w, p)
        await enrol(w, "EN1", "T1", level="intermediate")
        await enrol(w, "EN2", "T2", mode="online")
        await enrol(w, "EN3", "T3")
        await complete(w, "EN1", "T1", date(2020, 6, 1), "intermediate")
        await complete(w, "EN2", "T2", date(2020, 6, 1))
        await complete(w, "EN3", "T3", date(2020, 6, 1), None)
        assert rows(w, "training/EN1") == [("vocational_training_subsidy", "once", 150000, "person/T1", "employment_subsidy_fund", date(2020, 6, 1))]
        assert rows(w, "training/EN2") == [("vocational_training_subsidy", "once", 50000, "person/T2", "employment_subsidy_fund", date(2020, 6, 1))]
        assert (w.status("training/EN1"), w.status("training/EN3"), w.payments("training/EN3")) == ("paid", "failed", [])


async def test_k14_not_in_an_eligible_group_is_rejected(env: WorkflowEnvironment) -> None:
    """Eligible on the start date, else `rejected` (registered unemployed, a graduate of a cohort,
    migrant, poverty-registered, veteran, disabled, flexible worker, or on-the-job)."""
    async with world(env, date(2020, 2, 1)) as w:
        await enrol(w, "EN4", "T4")
        await enrol(w, "EN5", "T5", groups=["migrant_worker"])
        assert (w.status("training/EN4"), w.status("training/EN5")) == ("rejected", "active")


async def test_k14_on_the_job_training_pays_the_sponsoring_enterprise(env: WorkflowEnvironment) -> None:
    """for on-the-job training it pays `training.on_job_per_trainee` to the sponsoring enterprise
    instead, fund `skills_upgrading_fund`."""
    async with world(env, date(2020, 2, 1)) as w:
        await enrol(w, "EN6", "T6", groups=["employee"], sponsor="ENT1")
        await complete(w, "EN6", "T6", date(2020, 6, 1))
        assert rows(w, "training/EN6") == [("on_job_training_subsidy", "once", 50000, "enterprise/ENT1", "skills_upgrading_fund", date(2020, 6, 1))]


async def test_k14_at_most_max_per_year_and_never_twice_the_same_occupation_and_level(env: WorkflowEnvironment) -> None:
    """at most `training.max_per_year` subsidies per calendar year of completion, and never twice
    for the same occupation and level: a completion beyond them closes `rejected` with the rule."""
    async with world(env, date(2020, 2, 1)) as w:
        await registered(w, "T7")
        for n, occupation in enumerate(["welder", "welder", "cook", "baker", "driver"], start=1):
            await enrol(w, f"EM{n}", "T7", occupation=occupation, starts=date(2020, 3, n))
        for n in range(1, 6):
            await complete(w, f"EM{n}", "T7", date(2020, 6, n))
        statuses = [w.status(f"training/EM{n}") for n in range(1, 6)]
        assert statuses == ["paid", "rejected", "paid", "paid", "rejected"]
        refused = (await w.view("training/EM2")).timeline[-1]
        assert "同一职业同一等级不得重复享受" in str(refused.rule)
        assert "training.max_per_year 3" in str((await w.view("training/EM5")).timeline[-1].rule)


async def test_k14_a_labour_preparation_trainee_is_paid_a_living_allowance_per_completed_month(env: WorkflowEnvironment) -> None:
    """劳动预备制 (§11): registered unemployed, under `trainee.max_age` on the start date, willing to
    train, course starting inside the trainee window → `trainee.living_allowance` for each
    completed training month (completed on or before the end date and before any drop);
    `training.dropped` → `dropped`: no training subsidy; months already completed stay paid."""
    async with world(env, date(2020, 2, 1)) as w:
        await registered(w, "T8", birth="2001-06-01", willing=True)
        await registered(w, "T9", birth="2001-06-01", willing=True)
        await enrol(w, "EN8", "T8", starts=date(2020, 3, 2), ends=date(2020, 6, 1))
        await enrol(w, "EN9", "T9", starts=date(2020, 3, 2), ends=date(2020, 6, 1))
        await w.send("training.dropped", {"enrolment_id": "EN9", "person_id": "T9", "on": "2020-04-20"}, date(2020, 4, 20))
        await complete(w, "EN8", "T8", date(2020, 6, 1))
        await w.advance_to_day(date(2020, 6, 5))
        allowance = "labour_preparation_allowance"
        assert rows(w, "training/EN8") == [
            (allowance, "month-1", 50000, "person/T8", "employment_subsidy_fund", date(2020, 4, 2)),
            (allowance, "month-2", 50000, "person/T8", "employment_subsidy_fund", date(2020, 5, 2)),
            ("vocational_training_subsidy", "once", 100000, "person/T8", "employment_subsidy_fund", date(2020, 6, 1)),
            (allowance, "month-3", 50000, "person/T8", "employment_subsidy_fund", date(2020, 6, 2)),
        ]
        assert w.status("training/EN8") == "paid"
        assert rows(w, "training/EN9") == [(allowance, "month-1", 50000, "person/T9", "employment_subsidy_fund", date(2020, 4, 2))]
        assert w.status("training/EN9") == "dropped"


async def test_k14_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k14_training.jsonl through `simulate` (its "_how" derives every row)."""
    expected = json.loads((SCENARIOS / "k14_training.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / "k14_training.jsonl", date.fromisoformat(expected["until"]))
    kind = "vocational_training_subsidy"
    assert [c for c in result["cases"] if c["kind"] == kind] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] == kind] == expected["payments"]
    assert [[c["case_id"], c["period"], c["entry"], c["cause"]] for c in result["corrections"]
            if c["case_id"].startswith("training/")] == expected["causes"]
    assert result["dead_letters"] == expected["dead_letters"]
