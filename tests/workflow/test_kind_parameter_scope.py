"""A case's context holds only its kind's parameters (CaseWorkflow.kind_parameters), on
Temporal's time-skipping server as production starts cases. Every workflow test runs under
conftest.py's `parameter_reads_outside_the_kinds_scope`, which fails a case reading a parameter
outside its kind's scope; the last test here shows that guard failing one."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from contracts.parameters import in_scope
from tests.workflow.harness import World, at, world
from workflows import case_base
from workflows.hubei_graduate_grant import HubeiGraduateGrantWorkflow

ELIGIBLE = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}


async def apply(h: World, person: str, on: date) -> None:
    data = {"program": "hubei_graduate_grant", "applicant": person, "on": on.isoformat(), "details": ELIGIBLE}
    await h.send("application.submitted", data, at(on), subject=f"person/{person}")


async def change(h: World, name: str, value: Any, effective: date, day: date) -> None:
    data = {"city": None, "name": name, "value": value, "effective_on": effective.isoformat()}
    await h.send("policy.parameter.changed", data, at(day), subject="province/21", source="policy/21")


async def recorded_context(h: World, case_id: str) -> dict[str, Any]:
    """The result of the case's `load_context` as its history holds it (the local activity's marker)."""
    async for event in h.handle(case_id).fetch_history_events():
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        details = event.marker_recorded_event_attributes.details
        if "result" not in details or not details["result"].payloads:
            continue
        result = json.loads(details["result"].payloads[0].data)
        if isinstance(result, dict) and "parameters" in result:
            return result
    raise AssertionError(f"{case_id}: no load_context in its history")


async def test_a_k11_opening_records_a_context_of_the_kinds_parameters_only(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "S101", date(2020, 4, 1))
        context = await recorded_context(h, "hubei_grant/S101")
        names = set(context["parameters"]["values"])
        assert context["parameters"]["scope"] == list(HubeiGraduateGrantWorkflow.kind_parameters())
        assert "hubei_grant.amount" in names and "ledger.correction_days" in names
        assert all(in_scope(n, HubeiGraduateGrantWorkflow.kind_parameters()) for n in names)
        assert h.status("hubei_grant/S101") == "paid"


async def test_a_case_listening_after_it_paid_ignores_a_change_outside_its_scope_and_takes_one_inside(env: WorkflowEnvironment) -> None:
    """A change of a parameter its context does not hold neither crashes the case (the idle
    barrier would time out on a failing workflow task) nor is noted; a backdated change of its
    own amount still corrects it (arrears, as tests/workflow/test_hubei_graduate_grant_corrections.py)."""
    case = "hubei_grant/S103"
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "S103", date(2020, 4, 1))
        await change(h, "loan.max_term_months", 24, date(2020, 3, 1), date(2020, 5, 1))
        timeline = (await h.view(case)).timeline
        assert not any("loan.max_term_months" in t.what for t in timeline)
        assert h.status(case) == "paid" and [p.amount for p in h.payments(case)] == [150000]
        await change(h, "hubei_grant.amount", 200000, date(2020, 3, 1), date(2020, 5, 2))
        assert [(p.entry, p.amount) for p in h.payments(case)] == [("payment", 150000), ("arrears", 50000)]
        assert any("hubei_grant.amount = 200000" in t.what for t in (await h.view(case)).timeline)


async def test_a_kind_reading_a_parameter_outside_its_scope_fails_its_case_at_once(
        env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch, parameter_reads_outside_the_kinds_scope: list[str]) -> None:
    """The guard every workflow test runs under, shown failing: with K11's own measure left out
    of its scope (as the guard reads it), the case fails on its first read of `hubei_grant.*`
    and the read is named."""
    monkeypatch.setattr(HubeiGraduateGrantWorkflow, "parameter_scope", ())
    assert not any(in_scope("hubei_grant.amount", (e,)) for e in case_base.SHARED_PARAMETERS)
    async with world(env, date(2020, 4, 1)) as h:
        await apply(h, "S102", date(2020, 4, 1))
        described = await h.handle("hubei_grant/S102").describe()
        assert described.status == WorkflowExecutionStatus.FAILED
        assert h.payments("hubei_grant/S102") == []
    assert any(r.startswith("hubei_graduate_grant reads hubei_grant.") for r in parameter_reads_outside_the_kinds_scope)
    parameter_reads_outside_the_kinds_scope.clear()  # provoked on purpose: not this test's failure
