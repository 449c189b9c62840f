"""K8 layoff_plan on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway), time driven by `env.sleep`: the mass alert at filing, the
premature flag, the obligations deadline with its supervisor task and decisions, settlement, and
continue-as-new with a low history limit. Shipped parameters: notice 30 days, obligations 30 days,
mass threshold 50 persons or 10 %."""

from __future__ import annotations

from datetime import date, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.cases import TaskDecision
from streams.intake import Outcome
from tests.workflow.harness import World, at, world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
_ids = count(1)


async def send(h: World, type_: str, data: dict[str, Any], when: datetime) -> Outcome:
    """One enterprise event through the intake at its business time."""
    return await h.send(type_, data, when, subject=f"enterprise/{data['enterprise_id']}", source="hr/2102")


def plan(e: str, filed_on: date, planned: int = 20, headcount: int = 1000) -> dict[str, Any]:
    return {"enterprise_id": e, "city": "2102", "filed_on": filed_on.isoformat(), "planned_count": planned, "insured_headcount": headcount}


def on(e: str, day: date) -> dict[str, Any]:
    return {"enterprise_id": e, "on": day.isoformat()}


def executed(e: str, day: date, persons: int = 3) -> dict[str, Any]:
    return {"enterprise_id": e, "on": day.isoformat(), "person_ids": [f"{e}-P{i}" for i in range(persons)]}


async def test_k8_mass_plan_alerts_the_city_once_at_filing(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await send(h, "layoff.plan_filed", plan("M1", date(2020, 4, 1), planned=50), at(date(2020, 4, 1)))
        await send(h, "layoff.plan_filed", plan("M2", date(2020, 4, 1), planned=49), at(date(2020, 4, 1), 10))
        assert [a["alert_id"] for a in h.store.alerts] == ["mass_unemployment/layoff/M1/2020-04-01"]
        alert = h.store.alerts[0]
        assert (alert["kind"], alert["city"], alert["on"]) == ("mass_unemployment", "2102", "2020-04-01")
        assert h.status("layoff/M1/2020-04-01") == "active"


async def test_k8_execution_before_30_days_after_the_union_notice_is_flagged_premature(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        case = "layoff/A1/2020-04-01"
        await send(h, "layoff.plan_filed", plan("A1", date(2020, 4, 1)), at(date(2020, 4, 1)))
        await send(h, "layoff.union_notified", on("A1", date(2020, 4, 2)), at(date(2020, 4, 2)))
        await send(h, "layoff.executed", executed("A1", date(2020, 5, 1)), at(date(2020, 5, 1)))  # day 29
        view = await h.view(case)
        assert view.details["premature"] is True
        assert any("flagged premature" in t.what and t.rule and "§3" in t.rule for t in view.timeline)
        await send(h, "layoff.obligations_settled", on("A1", date(2020, 5, 20)), at(date(2020, 5, 20)))
        assert h.status(case) == "settled"
        assert h.record(case).summary["premature"] is True  # the flag stays on the closed case


async def test_k8_execution_on_day_30_is_in_time_and_without_notice_premature(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await send(h, "layoff.plan_filed", plan("B1", date(2020, 4, 1)), at(date(2020, 4, 1)))
        await send(h, "layoff.union_notified", on("B1", date(2020, 4, 2)), at(date(2020, 4, 2)))
        await send(h, "layoff.executed", executed("B1", date(2020, 5, 2)), at(date(2020, 5, 2)))
        assert (await h.view("layoff/B1/2020-04-01")).details["premature"] is False
        await send(h, "layoff.plan_filed", plan("B2", date(2020, 4, 1)), at(date(2020, 5, 3)))
        await send(h, "layoff.executed", executed("B2", date(2020, 5, 4)), at(date(2020, 5, 4)))
        assert (await h.view("layoff/B2/2020-04-01")).details["premature"] is True


async def test_k8_settled_after_execution_closes_settled_and_before_is_noted_only(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        case = "layoff/C1/2020-04-01"
        await send(h, "layoff.plan_filed", plan("C1", date(2020, 4, 1)), at(date(2020, 4, 1)))
        await send(h, "layoff.union_notified", on("C1", date(2020, 4, 1)), at(date(2020, 4, 1), 10))
        await send(h, "layoff.obligations_settled", on("C1", date(2020, 4, 20)), at(date(2020, 4, 20)))
        assert h.status(case) == "active"
        await send(h, "layoff.executed", executed("C1", date(2020, 5, 6)), at(date(2020, 5, 6)))
        await send(h, "layoff.obligations_settled", on("C1", date(2020, 6, 5)), at(date(2020, 6, 5)))  # on the deadline
        assert h.status(case) == "settled" and h.record(case).closed_on == date(2020, 6, 5)
        assert h.tasks(case) == []
        late = await send(h, "layoff.union_notified", on("C1", date(2020, 6, 6)), at(date(2020, 6, 6)))
        assert late.status == "dead_letter" and "no layoff plan on file for enterprise/C1" in late.detail


async def test_k8_not_settled_in_30_days_raises_a_task_extend_then_escalate(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        case = "layoff/D1/2020-04-01"
        await send(h, "layoff.plan_filed", plan("D1", date(2020, 4, 1)), at(date(2020, 4, 1)))
        await send(h, "layoff.union_notified", on("D1", date(2020, 4, 1)), at(date(2020, 4, 1), 10))
        await send(h, "layoff.executed", executed("D1", date(2020, 5, 1)), at(date(2020, 5, 1)))
        await h.advance_to_day(date(2020, 5, 31))  # the deadline itself: not yet overdue
        assert h.tasks(case) == []
        await h.advance_to_day(date(2020, 6, 1))
        (task,) = h.tasks(case)
        assert (task["kind"], task["due_on"], task["state"]) == ("obligations_overdue", "2020-05-31", "open")

        bad = [
            {"action": "forgive"},
            {"action": "extend", "until": "2020-06-01"},  # not after today
            {"action": "extend", "until": "soon"},
            {"action": "escalate"},
        ]
        for decision in bad:
            with pytest.raises(WorkflowUpdateFailedError) as info:
                await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="sup", decision=decision))
            assert "obligations_overdue takes" in str(info.value.cause)
        assert h.tasks(case)[0]["state"] == "open"

        await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="sup", decision={"action": "extend", "until": "2020-06-15"}))
        assert (await h.view(case)).details["obligations_due"] == "2020-06-15"
        await h.advance_to_day(date(2020, 6, 15))
        assert [t["state"] for t in h.tasks(case)] == ["decided"]
        await h.advance_to_day(date(2020, 6, 16))  # missed again: another task
        tasks = sorted(h.tasks(case), key=lambda t: t["task_id"])
        assert [(t["state"], t["due_on"]) for t in tasks] == [("decided", "2020-05-31"), ("open", "2020-06-15")]

        await h.decide(case, TaskDecision(task_id=tasks[1]["task_id"], decided_by="sup", decision={"action": "escalate", "note": "labour inspection"}))
        await h.advance_to_day(date(2020, 9, 1))
        assert len(h.tasks(case)) == 2  # escalated: no further tasks
        assert (await h.view(case)).details["escalated"] == "labour inspection"
        await send(h, "layoff.obligations_settled", on("D1", date(2020, 9, 2)), at(date(2020, 9, 2)))
        assert h.status(case) == "settled"


async def test_k8_settlement_withdraws_the_open_overdue_task(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        case = "layoff/F1/2020-04-01"
        await send(h, "layoff.plan_filed", plan("F1", date(2020, 4, 1)), at(date(2020, 4, 1)))
        await send(h, "layoff.executed", executed("F1", date(2020, 5, 1)), at(date(2020, 5, 1)))
        await h.advance_to_day(date(2020, 6, 2))
        assert [t["state"] for t in h.tasks(case)] == ["open"]
        await send(h, "layoff.obligations_settled", on("F1", date(2020, 6, 3)), at(date(2020, 6, 3)))
        assert h.status(case) == "settled"
        assert [t["state"] for t in h.tasks(case)] == ["withdrawn"]


async def test_k8_continues_as_new_and_keeps_its_state(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1), history_limit=20) as h:
        case = "layoff/G1/2020-04-01"
        await send(h, "layoff.plan_filed", plan("G1", date(2020, 4, 1), planned=100), at(date(2020, 4, 1)))
        for k in range(6):  # repeated notices: each one some history
            await send(h, "layoff.union_notified", on("G1", date(2020, 4, 2 + k)), at(date(2020, 4, 2 + k)))
        await send(h, "layoff.executed", executed("G1", date(2020, 4, 20)), at(date(2020, 4, 20)))
        view = await h.view(case)
        assert view.details["generation"] >= 1
        assert view.details["union_notified_on"] == "2020-04-02" and view.details["premature"] is True
        assert view.events_seen == 8
        assert len(h.store.alerts) == 1
        await send(h, "layoff.obligations_settled", on("G1", date(2020, 5, 1)), at(date(2020, 5, 1)))
        assert h.status(case) == "settled"
