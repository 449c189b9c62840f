"""Refusals decided inside a case's workflow (issue 18 item 4) on Temporal's time-skipping server,
through the intake: an event the case received and did not take is quarantined on the case
(`CaseWorkflow.refuse`, origin `workflow`), and the case's `redrive` update offers it again under
the case's state at that moment: taken if the case can take it now, refused again (and still
quarantined, with the new reason) if not. A kind's own refusal (K8's union notice after the
layoff took effect) goes through the same helper.

The case is K7's (tests/workflow/test_job_retention_refund_late_facts.py): an application
rejected because the enterprise is not registered listens for the registration; an enrolment
reported meanwhile does not fix the reason, so "the decision stands" and the enrolment is
refused. The re-drive is sent as the console sends it (console/service/quarantine.py), with the
event the store kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.cases import CaseEvent, Redrive, RedriveResult
from streams.intake import Outcome
from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, world
from tests.workflow.test_job_retention_refund import apply
from tests.workflow.test_job_retention_refund_late_facts import registration, staff

APPLIED = date(2020, 3, 10)


async def refused_enrolment(h: World, e: str) -> tuple[str, str]:
    """K7 rejected for want of the registration; an enrolment dated before the application,
    reported on 03-15, leaves it rejected. Returns the case and the enrolment's key."""
    await staff(h, e, 3, date(2019, 10, 2))
    await apply(h, e, APPLIED, 2020)
    case = f"retention/{e}/2020"
    assert h.status(case) == "rejected"
    late = {"person_id": f"{e}P4", "employer_id": e, "on": "2019-10-02"}
    key = await send_to_closed(h, case, "insured.enrolled", late, f"person/{e}P4", at(date(2020, 3, 15)), "si/2101")
    assert h.status(case) == "rejected"
    return case, key


def quarantined(h: World, case: str, key: str) -> dict[str, Any]:
    source, _, event_id = key.partition("#")
    return h.store.quarantined[(case, source, event_id)]


async def redrive(h: World, case: str, key: str, by: str = "sup-2101", reason: str = "checked with the SI office") -> RedriveResult:
    event = quarantined(h, case, key)["event"]
    assert isinstance(event, CaseEvent)
    result = await h.handle(case).execute_update("redrive", Redrive(event=event, by=by, reason=reason), result_type=RedriveResult)
    await h.settle()
    return result


async def test_an_event_a_case_refuses_is_quarantined_on_the_case(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        case, key = await refused_enrolment(h, "WQ1")
        row = quarantined(h, case, key)
        assert row["refused_by"] == "workflow" and row["status"] == "quarantined"
        assert row["reason"] == "late insured.enrolled: the decision stands"
        assert row["event"].key == key and row["event"].type == "insured.enrolled"
        # The timeline says so as before.
        assert any(t.what == "late insured.enrolled: the decision stands" and t.event == key for t in (await h.view(case)).timeline)
        # Only what the case refused: the events it took are not quarantined.
        assert [k for k in h.store.quarantined if k[0] == case] == [(case, *key.split("#", 1))]


async def test_a_redrive_the_case_still_refuses_stays_quarantined(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        case, key = await refused_enrolment(h, "WQ2")
        # Still not registered: judged again under the same state, refused again.
        result = await redrive(h, case, key)
        assert result == RedriveResult(taken=False, detail="late insured.enrolled: the decision stands")
        assert quarantined(h, case, key)["status"] == "quarantined"
        assert h.status(case) == "rejected" and h.payments(case) == []
        timeline = (await h.view(case)).timeline
        assert any(t.what == "insured.enrolled re-driven by sup-2101: checked with the SI office" and t.type == "supervisor"
                   for t in timeline)


async def test_a_redriven_refusal_is_taken_when_the_case_can_take_it_now(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        case, key = await refused_enrolment(h, "WQ3")
        # The registration reopens and refunds the case on 04-01; it then listens for corrections.
        await send_to_closed(h, case, "enterprise.registered", registration("WQ3"), "enterprise/WQ3", at(date(2020, 4, 1)), "re/2101")
        assert h.status(case) == "refunded"
        paid = h.payments(case)
        result = await redrive(h, case, key)
        assert result.taken, result
        # Taken as a late fact of the refunded case; the enrolment counted already (the
        # rejection kept it), so what is owed is unchanged: no second payment.
        assert h.payments(case) == paid and h.status(case) == "refunded"


async def test_a_redrive_the_case_cannot_judge_is_refused_by_its_validator(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        case, key = await refused_enrolment(h, "WQ4")
        with pytest.raises(WorkflowUpdateFailedError) as no_reason:
            await redrive(h, case, key, reason=" ")
        assert "a reason is required" in str(no_reason.value.cause)
        stranger = quarantined(h, case, key)["event"].model_copy(update={"id": "never-sent"})
        with pytest.raises(WorkflowUpdateFailedError) as unknown:
            await h.handle(case).execute_update("redrive", Redrive(event=stranger, by="sup-2101", reason="try"), result_type=RedriveResult)
        assert "never reached case" in str(unknown.value.cause)
        assert quarantined(h, case, key)["status"] == "quarantined"


async def test_a_redrive_reaches_no_case_whose_run_has_ended_and_stays_quarantined(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        case, key = await refused_enrolment(h, "WQ5")
        # intake.late_fact_days 30 after 03-10: the window ended with 04-09, and the run with it.
        await h.advance_to_day(date(2020, 4, 12))
        assert await h.store.open_cases(["enterprise/WQ5"]) == []
        with pytest.raises(Exception, match="(?i)completed|not found|no longer"):
            await redrive(h, case, key)
        assert quarantined(h, case, key)["status"] == "quarantined"


async def test_a_refusal_by_the_kinds_own_rule_is_quarantined_on_the_case_and_redriven_through_its_rules(env: WorkflowEnvironment) -> None:
    """A kind's own refusal goes through the same `refuse`: a K8 union notice reported after the
    layoff took effect does not lift the premature flag ("the judgement stands"), on an open case;
    re-driven, the open case's rules judge it again and still refuse it."""
    async with world(env, date(2020, 4, 1)) as h:
        case = "layoff/QK1/2020-04-01"
        await send_layoff(h, "layoff.plan_filed", {"enterprise_id": "QK1", "city": "2102", "filed_on": "2020-04-01",
                                                    "planned_count": 20, "insured_headcount": 1000}, date(2020, 4, 1))
        await send_layoff(h, "layoff.executed", {"enterprise_id": "QK1", "on": "2020-04-10", "person_ids": ["QK1-P0"]},
                          date(2020, 4, 10))
        notice = await send_layoff(h, "layoff.union_notified", {"enterprise_id": "QK1", "on": "2020-04-02"}, date(2020, 4, 12))
        assert notice.event is not None
        key = notice.event.key
        assert h.status(case) == "active"
        row = quarantined(h, case, key)
        assert (row["refused_by"], row["status"]) == ("workflow", "quarantined")
        assert row["reason"] == "union notified after the layoff was executed; the judgement stands"
        result = await redrive(h, case, key, reason="the union says it was notified in time")
        assert result == RedriveResult(taken=False, detail=row["reason"])
        assert (await h.view(case)).details["premature"] is True


async def send_layoff(h: World, type_: str, data: dict[str, Any], day: date) -> Outcome:
    """One K8 enterprise event through the intake at 09:00 on `day`."""
    return await h.send(type_, data, at(day), subject=f"enterprise/{data['enterprise_id']}", source="hr/2102")
