"""The shape of a supervisor's approve-or-deny decision, shared by the kinds whose tasks take one."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import TaskDecision


def approval(decision: TaskDecision) -> bool:
    """`{"approve": true|false, "reason": "..."}` by a named supervisor: an exception to a rule, or
    a call on public money, must say why. Raises ValueError (the update's validator refuses it,
    the case is unchanged) for anything else."""
    approve = decision.decision.get("approve")
    reason = decision.decision.get("reason")
    if not isinstance(approve, bool):
        raise ValueError("decision.approve must be true or false")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("decision.reason must say why")
    if not decision.decided_by.strip():
        raise ValueError("decided_by is required")
    return approve
