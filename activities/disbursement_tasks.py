"""Carrying out a supervisor's decision on a disbursement desk task (policy/disbursement_decisions.py).

The desk, not a case workflow, raised the task (under the case id, so the console lists it with
the case), so the decision comes here: the key's transition, its instructions and results, and the
task's new state are one transaction over the state the transition was computed from; a key that
moved meanwhile is recomputed, a task decided by someone else first is `TaskNotOpen`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from activities.disbursement_desk import write_of
from activities.store import InstructionResult, Store, lifecycle_event
from contracts.cases import TaskRecord
from policy import disbursement as rules
from policy import disbursement_decisions as decisions
from policy.pack import PolicyPack

MAX_CONFLICTS = 10


async def decide(store: Store, pack: PolicyPack, task: TaskRecord, decided_by: str, raw: dict[str, Any],
                 today: date) -> rules.Disbursement:
    """Apply the decision `raw` on the open desk task `task`; the key's new state. Raises
    decisions.Refused for a decision the task or the key cannot take."""
    if task.kind not in decisions.DESK_TASKS:
        raise decisions.Refused(f"{task.task_id} is not a disbursement task")
    kind = task.kind  # narrowed to a desk task kind by the test above
    decision = decisions.parse(kind, raw)
    ledger_key = str(task.details.get("ledger_key", ""))
    for _ in range(MAX_CONFLICTS):
        state = await store.disbursement(ledger_key)
        if state is None:
            raise decisions.Refused(f"no disbursement of ledger key {ledger_key}")
        current = (await store.current_accounts([state.due.payee])).get(state.due.payee)
        limits = rules.Limits.of(pack.parameters(state.due.city), today)
        step = decisions.decide(state, kind, decision, today, current, limits)
        results = _results_of(decision, state, today)
        decided = task.model_copy(update={"state": "decided", "decided_by": decided_by, "decision": decision.as_json()})
        event = lifecycle_event(f"{task.task_id}:decided", "task_decided", task.case_id, decided.model_dump(mode="json"))
        write = replace(write_of(state.version, step, results, today), decided=((decided, event),))
        if await store.write_disbursement(write):
            return step.state
    raise RuntimeError(f"disbursement {ledger_key} kept changing while the decision was written")


def _results_of(decision: decisions.Decision, state: rules.Disbursement, today: date) -> tuple[InstructionResult, ...]:
    """A supervisor's `settled` or `returned` stands for the treasury's missing answer: it is
    recorded on the outstanding instruction as an answer would be."""
    if state.instruction_id is None:
        return ()
    if decision.action == "settled":
        return (InstructionResult(state.instruction_id, "settled", today),)
    if decision.action == "returned":
        return (InstructionResult(state.instruction_id, "returned", today, decision.reason),)
    return ()
