"""The case template (`CaseWorkflow.run_case`) on Temporal's time-skipping server: the three
drifts the per-kind loops had (issue 13), and a run continued-as-new by the code before the
template restoring under it.

- K1 never continued as new: a long internship now hands over like every other kind and pays
  exactly what the same case pays without a hand-over.
- K9 and K10 could finish while a supervisor's `decide` update was still running.
- K8 did not carry decisions across continue-as-new: one taken while the loop was busy just
  before the hand-over was lost.

The races are made to happen on cue by test subclasses that stretch one step (a store write
that is slow, a step still busy when the decision arrives); each says which step and why.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment

from contracts.cases import CaseEvent, CaseInput, CaseOutcome, CaseView, TaskDecision, TaskRecord
from policy.hiring import CountedMonth
from policy.pack import load_pack
from tests.workflow.harness import World, agreement, at, internship_case_id, world
from workflows._states import FollowupState, HiringState, dump_state, load_state
from workflows.dibao_taper import DibaoTaperWorkflow
from workflows.layoff_plan import LayoffPlanWorkflow
from workflows.registry import WORKFLOWS
from workflows.unemployed_followup import UnemployedFollowupWorkflow

D = date


# -- K1: continue-as-new on a long case -------------------------------------------------------
async def _long_internship(w: World, person: str) -> str:
    """Twelve months with an interruption for another reason in each of the first ten: every
    pause delays the months' completion, so the history grows with timers and signals."""
    start = D(2020, 1, 6)
    await w.send("internship.agreement_signed", agreement(person, "LU1", start, 12), start)
    who = {"person_id": person, "unit_id": "LU1"}
    for m in range(10):
        paused = D(2020, 1 + m, 20)
        await w.send("internship.interrupted", {**who, "on": paused.isoformat(), "reason": "other"}, paused)
        await w.send("internship.resumed", {**who, "on": (paused + timedelta(days=3)).isoformat()}, paused + timedelta(days=3))
    await w.advance_to_day(D(2021, 3, 1))
    return internship_case_id(person, "LU1", start)


async def test_k1_continues_as_new_on_a_long_case_and_pays_as_without_the_hand_over(env: WorkflowEnvironment) -> None:
    async with world(env, D(2020, 1, 6)) as w:
        case = await _long_internship(w, "L1")
        reference = (w.paid_months(case), w.record(case).status, w.record(case).closed_on)
        assert w.record(case).summary["generation"] == 0
    async with world(env, D(2020, 1, 6), history_limit=40) as w:
        case = await _long_internship(w, "L2")
        assert w.record(case).summary["generation"] >= 1, "a long K1 case must continue as new"
        assert (w.paid_months(case), w.record(case).status, w.record(case).closed_on) == reference
        # Ten 3-day pauses for another reason do not move the end: 11 of 12 months completed.
        assert len(reference[0]) == 11 and reference[1] == "completed"


# -- K9 / K10: the run waits for a running `decide` update -----------------------------------
class _SlowTaskWrite:
    """Stretches the `decide` update: after the task is written as decided, the handler is still
    busy for an hour after the case has closed (a store write that takes long). A run that ends
    without waiting for its handlers cuts the supervisor's call off."""

    async def finish_task(self, task_id: str, state: str, decided_by: str | None = None, decision: dict[str, Any] | None = None) -> TaskRecord:
        task = await super().finish_task(task_id, state, decided_by, decision)  # type: ignore[misc]
        if state == "decided":
            await workflow.wait_condition(lambda: not self.is_open)  # type: ignore[attr-defined]
            await workflow.sleep(timedelta(hours=1))
        return task


@workflow.defn(name="unemployed_followup", sandboxed=False)
class _K9SlowDecide(_SlowTaskWrite, UnemployedFollowupWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)


@workflow.defn(name="dibao_taper", sandboxed=False)
class _K10SlowDecide(_SlowTaskWrite, DibaoTaperWorkflow):
    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)


async def test_k9_finishes_only_after_the_decide_update_finished(env: WorkflowEnvironment) -> None:
    async with world(env, D(2020, 1, 15), replace=_K9SlowDecide) as h:
        case = "followup/T9/2020-01-15"
        reg = {"person_id": "T9", "city": "2101", "registered_on": "2020-01-15", "birth_date": "1985-01-01",
               "retirement_date": "2045-01-01", "categories": []}
        await h.send("unemployment.registered", reg, at(D(2020, 1, 15)), subject="person/T9", source="ru/2101")
        await h.advance_to_day(D(2020, 2, 23))  # month 1 fell due 02-15, +7 grace days: escalated
        (task,) = [t for t in h.tasks(case) if t["state"] == "open"]
        update = await h.handle(case).start_update(
            "decide", TaskDecision(task_id=task["task_id"], decided_by="sup", decision={"note": "called"}),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=TaskRecord,
        )
        await h.send("unemployment.deregistered", {"person_id": "T9", "on": "2020-02-25", "reason": "moved"}, at(D(2020, 2, 25)))
        await h.advance_to_day(D(2020, 2, 26))  # the handler's hour passes
        outcome = await h.env.client.get_workflow_handle(case, result_type=CaseOutcome).result()
        assert outcome.status == "closed"
        decided = await update.result()
        assert (decided.state, decided.decided_by) == ("decided", "sup")


async def test_k10_finishes_only_after_the_decide_update_finished(env: WorkflowEnvironment) -> None:
    async with world(env, D(2020, 1, 3), replace=_K10SlowDecide) as h:
        case = "dibao/T10/2020-01"
        grant = {"person_id": "T10", "household_id": "HT10", "city": "2101", "monthly_amount": 60000, "from_month": "2020-01"}
        await h.send("dibao.granted", grant, at(D(2020, 1, 3)), subject="person/T10", source="ca/2101")
        await h.send("employment.registered", {"person_id": "T10", "city": "2101", "on": "2020-03-10", "kind": "employee"}, at(D(2020, 3, 10)),
                     source="re/2101")
        (task,) = [t for t in h.tasks(case) if t["kind"] == "taper_decision"]
        update = await h.handle(case).start_update(
            "decide", TaskDecision(task_id=task["task_id"], decided_by="cw", decision={"months": 3}),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=TaskRecord,
        )
        await h.advance_to_day(D(2020, 7, 2))  # three taper months paid 04..06, closed 07-01
        assert h.status(case) == "completed"
        # A case that paid listens for late facts for ledger.correction_days after closing; the
        # run ends when that window does.
        await h.advance_to_day(D(2021, 7, 3))
        outcome = await h.env.client.get_workflow_handle(case, result_type=CaseOutcome).result()
        assert (outcome.status, outcome.paid_fen) == ("completed", 3 * 60000)
        decided = await update.result()
        assert (decided.state, decided.decided_by) == ("decided", "cw")


# -- K8: a decision taken just before the hand-over -------------------------------------------
@workflow.defn(name="layoff_plan", sandboxed=False)
class _K8BusyAtHandOver(LayoffPlanWorkflow):
    """After raising the overdue task, the settle step is still busy when the supervisor decides
    (a slow store write), and the history is long right then, so the hand-over follows at once."""

    busy_until_decided = True

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await super().run(inp)

    async def settle(self, today: date) -> None:
        had_task = bool(self.open_tasks())
        await super().settle(today)
        if self.busy_until_decided and not had_task and self.open_tasks():
            await workflow.wait_condition(lambda: bool(self.decisions))
            self.hand_over_now = True

    def history_is_long(self) -> bool:
        return getattr(self, "hand_over_now", False) or super().history_is_long()


def _plan_filed(e: str, day: date) -> dict[str, Any]:
    return {"enterprise_id": e, "city": "2102", "filed_on": day.isoformat(), "planned_count": 20, "insured_headcount": 1000}


async def test_k8_decision_taken_just_before_continue_as_new_is_acted_on(env: WorkflowEnvironment) -> None:
    async with world(env, D(2020, 4, 1), replace=_K8BusyAtHandOver) as h:
        case = "layoff/H8/2020-04-01"
        await h.send("layoff.plan_filed", _plan_filed("H8", D(2020, 4, 1)), at(D(2020, 4, 1)), subject="person/x", source="hr/2102")
        await h.send("layoff.executed", {"enterprise_id": "H8", "on": "2020-05-01", "person_ids": ["H8-P1"]}, at(D(2020, 5, 1)), subject="person/x",
                     source="hr/2102")
        await h.advance_to_day(D(2020, 6, 1))  # due 05-31: overdue, a task
        (task,) = h.tasks(case)
        assert (await h.view(case)).details["generation"] == 0
        await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="sup", decision={"action": "extend", "until": "2020-06-20"}))
        view = await h.view(case)
        assert view.details["generation"] == 1  # handed over right after the decision
        assert view.details["obligations_due"] == "2020-06-20", "the decision must survive the hand-over"
        assert any("extended to 2020-06-20 by sup" in t.what for t in view.timeline)
        await h.advance_to_day(D(2020, 6, 20))
        assert [t["state"] for t in h.tasks(case)] == ["decided"]  # not overdue before the new deadline


# -- a run continued by the code before the template -----------------------------------------
def _carried_by_the_old_k8(case: str) -> dict[str, Any]:
    """What LayoffPlanWorkflow.carry() wrote before the template (no `decisions` key): an
    executed plan whose obligations fall due 2020-05-31."""
    plan = _plan_filed("O8", D(2020, 4, 1))
    return {
        "seen": ["hr/2102#o8-1", "hr/2102#o8-2"], "pending": [], "status": "active", "subject": "enterprise/O8",
        "city": "2102", "opened_on": "2020-04-01",
        "timeline": [{"on": "2020-04-01", "what": "layoff plan filed: 20 of 1000 insured", "rule": None, "event": "hr/2102#o8-1", "amount": None}],
        "paid_fen": 0, "version": 2, "keys": ["enterprise/O8"], "params": None,
        "epidemic": {"declared_on": None, "lifted_on": None}, "tasks": [], "generation": 1, "hold": None,
        "plan": plan, "mass": False, "union_notified_on": None, "executed_on": "2020-05-01", "executed_persons": 1,
        "premature": True, "obligations_due": "2020-05-31", "escalated": None, "settled_before_execution": None,
    }


async def test_a_k8_run_continued_by_the_old_code_restores_and_goes_on(env: WorkflowEnvironment) -> None:
    async with world(env, D(2020, 5, 2)) as h:
        case = "layoff/O8/2020-04-01"
        carried = _carried_by_the_old_k8(case)
        carried["params"] = load_pack().parameters("2102").model_dump(mode="json")
        handle = await h.env.client.start_workflow(
            "layoff_plan",
            CaseInput(case_id=case, kind="layoff_plan", clock_offset_seconds=h.offset, search_attributes=False, carried=carried),
            id=case, task_queue=h.queue, result_type=CaseOutcome,
        )
        await h.settle()
        view = await handle.query("state", result_type=CaseView)
        assert (view.status, view.details["executed_on"], view.details["obligations_due"]) == ("active", "2020-05-01", "2020-05-31")
        assert view.next_deadline == D(2020, 6, 1) and view.details["generation"] == 1 and view.events_seen == 2
        await h.advance_to_day(D(2020, 6, 1))
        assert [(t["kind"], t["due_on"]) for t in h.tasks(case)] == [("obligations_overdue", "2020-05-31")]
        settled = CaseEvent(source="hr/2102", id="o8-3", type="layoff.obligations_settled", subject="enterprise/O8",
                            time=at(D(2020, 6, 2)), data={"enterprise_id": "O8", "on": "2020-06-02"})
        await h.advance_to_day(D(2020, 6, 2))
        await handle.signal("event", settled)
        outcome = await handle.result()
        assert outcome.status == "settled"
        assert [t["state"] for t in h.tasks(case)] == ["withdrawn"]


# -- the typed states ------------------------------------------------------------------------
_BASE_CARRIED = {"seen", "pending", "status", "subject", "city", "opened_on", "timeline", "paid_fen", "version", "keys",
                 "params", "epidemic", "tasks", "generation", "hold", "decisions"}


def test_every_kind_has_a_typed_state_whose_fields_are_not_the_base_keys() -> None:
    """The state is written as top-level keys of the carried payload, beside the base's own."""
    for cls in WORKFLOWS:
        assert cls.State is not None, f"{cls.kind} has no typed state"
        names = {f.name for f in dataclasses.fields(cls.State)}
        assert not names & _BASE_CARRIED, f"{cls.kind}: {names & _BASE_CARRIED}"
        fresh = cls.State()
        assert load_state(cls.State, dump_state(fresh)) == fresh


def test_k6_counted_months_carried_before_the_template_as_lists_restore() -> None:
    """HiringSubsidyWorkflow.carry() wrote each counted month as [month, fen, received]."""
    old = {"program": "priority", "enterprise": "E1", "person": "P1", "contract": None, "groups": ["graduate"],
           "registered_on": None, "applied_on": None, "contribution": ["2020-05", "2020-06-03"],
           "counted": [["2020-05", 32000, "2020-06-03"], ["2020-06", 32000, "2020-07-02"]], "terminated_on": None,
           "next_deadline": "2021-01-01"}
    state = load_state(HiringState, old)
    assert state.counted == [CountedMonth("2020-05", 32000, D(2020, 6, 3)), CountedMonth("2020-06", 32000, D(2020, 7, 2))]
    assert state.contribution == ("2020-05", D(2020, 6, 3)) and state.next_deadline == D(2021, 1, 1)
    assert (state.months_paid, state.agency_paid) == ([], None)  # not carried before: their defaults
    assert load_state(HiringState, dump_state(state)) == state


def test_k9_state_restores_from_the_old_payload_format() -> None:
    """UnemployedFollowupWorkflow.carry() before the template: int keys as strings, ISO dates."""
    old = {"registration": None, "followed": {"1": "2020-02-03"}, "checked_through": 1, "escalations": {"2": "followup/P/task/1"},
           "long_term_since": None, "training_checked": True, "training_notice_on": None, "anniversary_checked": False,
           "treated_as": {"long_term": "2021-01-15"}, "categories": ["long_term"], "categories_on": "2021-01-15", "referrals": 2,
           "decisions": []}
    state = load_state(FollowupState, old)
    assert state.followed == {1: D(2020, 2, 3)} and state.escalations == {2: "followup/P/task/1"}
    assert state.treated_as == {"long_term": D(2021, 1, 15)} and state.referrals == 2
    assert dump_state(state) == {k: v for k, v in old.items() if k != "decisions"}
