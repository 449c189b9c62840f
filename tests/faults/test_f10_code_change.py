"""Fault 10 of issue 6: a code change to a running case kind.

The change (test-only, so production code stays clean): K1 version 2 writes the read model once
more, as `closing`, before a case closes — one activity more, a different command sequence, the
kind of change that fails every running case with a non-determinism error when a worker picks
it up again. Guarded by `workflow.patched(PATCH)`:

- every committed history (tests/histories, all kinds) replays on the new code (Replayer): old
  K1 histories have no patch marker, so `patched` is False while replaying them and the old
  path is taken;
- the same change unguarded fails the replay of the committed K1 histories;
- a case started under the new code records the patch marker and takes the new path (one more
  `record_case`, one version more in its read model).

It runs on Temporal's time-skipping server (no stack needed): the property is the SDK's replay
of the recorded commands, the same on the dev server.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker
from temporalio.workflow import NondeterminismError

from activities.case_activities import CaseActivities
from activities.memory_store import MemoryStore
from activities.store import Origin
from app import simulate
from app.simulate import ListSink, advance_business_clock, drain_activities, quiet_runtime
from contracts.cases import CaseInput, CaseOutcome
from contracts.events import parse_event
from contracts.temporal import DATA_CONVERTER
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake
from testkit.events import cloud_event, line
from tests.faults._invariants import Figures, record_figures
from workflows.internship_subsidy import InternshipSubsidyWorkflow
from workflows.registry import WORKFLOWS

pytestmark = pytest.mark.faults

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
PATCH = "k1-record-closing-v2"


@workflow.defn(name="internship_subsidy", sandboxed=False)
class PatchedK1(InternshipSubsidyWorkflow):
    """K1 v2, guarded: new cases record `closing` before closing; old histories replay as before."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)

    async def close(self, status: str, on: date, rule: str, *, without_fact: bool = False) -> None:
        if workflow.patched(PATCH):
            await self.record("closing", on=on)
        await super().close(status, on, rule, without_fact=without_fact)


@workflow.defn(name="internship_subsidy", sandboxed=False)
class UnguardedK1(InternshipSubsidyWorkflow):
    """The same change without the guard."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)

    async def close(self, status: str, on: date, rule: str, *, without_fact: bool = False) -> None:
        await self.record("closing", on=on)
        await super().close(status, on, rule, without_fact=without_fact)


NEW_CODE = [PatchedK1 if w is InternshipSubsidyWorkflow else w for w in WORKFLOWS]


def committed(prefix: str = "") -> list[Path]:
    return sorted(p for p in HISTORIES.glob(f"{prefix}*.json"))


def load(path: Path) -> WorkflowHistory:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(doc["workflow_id"], doc["history"])


@pytest.mark.parametrize("path", committed(), ids=lambda p: p.stem)
async def test_f10_every_committed_history_replays_under_the_patched_code(path: Path) -> None:
    await Replayer(workflows=NEW_CODE, data_converter=DATA_CONVERTER).replay_workflow(load(path))


# The change touches `close`; this history was recorded while its case was still paused (the
# patched branch it exists for writes the overpayment of an open pause), so it never reaches close
# and no change to close can break it.
NEVER_CLOSES = {"internship_subsidy_open_pause_owes_nothing"}


@pytest.mark.parametrize("path", [p for p in committed("internship_subsidy_") if p.stem not in NEVER_CLOSES], ids=lambda p: p.stem)
async def test_f10_the_same_change_unguarded_breaks_running_k1_cases(path: Path) -> None:
    with pytest.raises(NondeterminismError):
        await Replayer(workflows=[UnguardedK1], data_converter=DATA_CONVERTER).replay_workflow(load(path))


def _event(n: int, type_: str, on: date, data: dict[str, Any]) -> bytes:
    return line(cloud_event(id=f"f10-{n}", source="es/2101", type=type_, subject="person/P10", on=on, data=data))


async def _run_case(workflows: list[type]) -> tuple[list[Any], Any]:
    """A K1 case (signed 2020-03-02 for 6 months, ended 2020-06-10) on a worker with `workflows`:
    its history events and its read-model record."""
    pack = load_pack()
    store = MemoryStore()
    signed = _event(1, "internship.agreement_signed", date(2020, 3, 2), {
        "person_id": "P10", "unit_id": "U10", "city": "2101", "starts_on": "2020-03-02", "months": 6, "cohort": 2020})
    ended = _event(2, "internship.ended", date(2020, 6, 10), {
        "person_id": "P10", "unit_id": "U10", "on": "2020-06-10", "reason": "quit"})
    case_id = "internship/P10/U10/2020-03-02"
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=simulate.test_server_path(), runtime=quiet_runtime()
    ) as env:
        first = datetime.fromisoformat(json.loads(signed)["time"])
        offset = int(((first - timedelta(days=1)) - await env.get_current_time()).total_seconds())
        queue = f"f10-{uuid.uuid4()}"
        intake = Intake(store, CaseGateway(env.client, queue, clock_offset_seconds=offset, search_attributes=False), ListSink(), pack)
        async with Worker(env.client, task_queue=queue, workflows=workflows, activities=CaseActivities(store, pack).all()):
            for n, raw in enumerate((signed, ended)):
                event = parse_event(raw)
                await advance_business_clock(env, event.time, offset)
                await intake.handle(raw, Origin(topic="f10", offset=n))
                await drain_activities(env, store)
            # The case paid: it listens for late facts for ledger.correction_days after it
            # closed, and its run ends with that window.
            await advance_business_clock(env, datetime(2021, 6, 12, 9, tzinfo=first.tzinfo), offset)
            await drain_activities(env, store)
            await env.client.get_workflow_handle(case_id).result()
            history = await env.client.get_workflow_handle(case_id).fetch_history()
    return list(history.events), store.cases[case_id]


def _patch_markers(events: list[Any]) -> list[Any]:
    """Markers of PATCH (the code also records others: its own patches, local activities)."""
    return [e for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and PATCH.encode() in e.marker_recorded_event_attributes.SerializeToString()]


def _record_calls(events: list[Any]) -> int:
    """record_case calls: scheduled activities, or local activities (markers) in newer histories."""
    scheduled = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                    and e.activity_task_scheduled_event_attributes.activity_type.name.endswith("record_case"))
    local = sum(1 for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
                and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
                and b"record_case" in e.marker_recorded_event_attributes.SerializeToString())
    return scheduled + local


async def test_f10_the_patched_change_takes_effect_only_for_new_cases() -> None:
    started = time.monotonic()
    old_events, old_record = await _run_case(WORKFLOWS)
    new_events, new_record = await _run_case(NEW_CODE)
    assert _patch_markers(new_events), "the new case recorded no patch marker"
    assert not _patch_markers(old_events)
    assert _record_calls(new_events) == _record_calls(old_events) + 1
    assert new_record.version == old_record.version + 1
    assert new_record.status == old_record.status == "ended"
    # The new case's own history replays on the new code, the old case's on both.
    await Replayer(workflows=NEW_CODE, data_converter=DATA_CONVERTER).replay_workflow(
        WorkflowHistory("internship/P10/U10/2020-03-02", new_events))
    await Replayer(workflows=NEW_CODE, data_converter=DATA_CONVERTER).replay_workflow(
        WorkflowHistory("internship/P10/U10/2020-03-02", old_events))
    record_figures(Figures(
        fault="10 code change (workflow.patched)", events=2, applied=2,
        cases=2, seconds=round(time.monotonic() - started, 1),
        notes={"committed_histories_replayed_on_new_code": len(committed()),
               "k1_histories_failing_unguarded": len(committed("internship_subsidy_"))}))
