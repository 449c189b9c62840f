"""Replay every committed workflow history (tests/histories/*.json, written by
`python -m tests.histories.record`) against today's workflow code.

STYLE.md 8: "Replay tests against committed workflow histories for every case kind, and
`workflow.patched()` around changed branches." A running case is replayed from its history
whenever a worker picks it up again; code that would now emit different commands for the same
history fails those cases with a non-determinism error. This test fails first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from contracts.cases import CaseInput, CaseOutcome
from contracts.temporal import DATA_CONVERTER
from workflows.internship_subsidy import InternshipSubsidyWorkflow
from workflows.registry import WORKFLOWS

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
COMMITTED = sorted(HISTORIES.glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return WorkflowHistory.from_json(doc["workflow_id"], doc["history"])


def test_histories_are_committed_for_k1() -> None:
    assert any(p.name.startswith("internship_subsidy_") for p in COMMITTED), "run: python -m tests.histories.record"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
async def test_committed_history_replays_deterministically(path: Path) -> None:
    """Every committed history replays on the current code without a non-determinism error."""
    await Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER).replay_workflow(load(path))


# --- the replay test can tell a harmless change from a breaking one ---------------------------
@workflow.defn(name="internship_subsidy", sandboxed=False)
class _Reworded(InternshipSubsidyWorkflow):
    """Changes only in-memory state (a timeline note): the same commands, so replay passes."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)

    def note(self, on: Any, what: str, rule: str | None = None, event: str | None = None, amount: int | None = None,
             *, type: Any = None) -> None:
        super().note(on, what.upper(), rule, event, amount, type=type)


@workflow.defn(name="internship_subsidy", sandboxed=False)
class _SkipsPauseRecord(InternshipSubsidyWorkflow):
    """No longer records the read model when a case is paused: one activity fewer, a different
    command sequence, exactly the kind of change that breaks running cases."""

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)

    async def record(self, change: str, on: Any = None, summary: Any = None) -> None:
        if change == "paused":
            return
        await super().record(change, on, summary)


K1_HISTORY = HISTORIES / "internship_subsidy_epidemic_pause_full_hire.json"


async def test_replay_accepts_a_change_that_keeps_the_commands() -> None:
    await Replayer(workflows=[_Reworded], data_converter=DATA_CONVERTER).replay_workflow(load(K1_HISTORY))


async def test_replay_rejects_a_non_deterministic_change() -> None:
    with pytest.raises(NondeterminismError):
        await Replayer(workflows=[_SkipsPauseRecord], data_converter=DATA_CONVERTER).replay_workflow(load(K1_HISTORY))


def test_a_history_is_committed_for_every_case_kind() -> None:
    """STYLE.md 8: replay tests for every case kind (python -m tests.histories.record_scenarios)."""
    kinds_with_history = {cls.kind for cls in WORKFLOWS if any(p.name.startswith(cls.kind + "_") for p in COMMITTED)}
    assert kinds_with_history == {cls.kind for cls in WORKFLOWS}, f"missing: {({c.kind for c in WORKFLOWS}) - kinds_with_history}"
    # Each file is its own recording (a history recorded again under newer code keeps the
    # workflow id of its scenario, but not the run).
    assert len({_run(p) for p in COMMITTED}) == len(COMMITTED)


def test_a_history_recorded_under_the_case_template_is_committed_for_every_case_kind() -> None:
    """Issue 13: the template changed how every kind is written; each kind has a history recorded
    under it (python -m tests.histories.record_scenarios --name template_scenario --with-k1)."""
    recorded = {cls.kind for cls in WORKFLOWS if (HISTORIES / f"{cls.kind}_template_scenario.json").exists()}
    assert recorded == {cls.kind for cls in WORKFLOWS}, f"missing: {({c.kind for c in WORKFLOWS}) - recorded}"


def _run(path: Path) -> tuple[str, str]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    started = doc["history"]["events"][0]["workflowExecutionStartedEventAttributes"]
    return doc["workflow_id"], started["originalExecutionRunId"]
