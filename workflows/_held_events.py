"""Events about a case itself (a bank's interest report, a course's completion) that reach it
while it is closed `rejected` without a fact (POLICY.md part 2 "late facts across topics"):
held on the kind's state (`st.held`, carried over continue-as-new) and queued again if a late
fact reopens the case, so that it pays them as if it had been open all along, with their
original dates. Shared by the kinds whose own events keep coming after such a rejection (K6,
K13, K14)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent
    from policy.calendar import business_date


def hold(case: Any, ev: CaseEvent, what: str) -> None:
    """Keep `ev` for a reopening (it is already in `seen`, so a redelivery is not held twice)."""
    case.st.held.append(ev)
    case.note(business_date(ev.time), f"{ev.type} held while rejected: {what}", event=ev.key)


def release(case: Any) -> None:
    """Queue the held events again, on the reopened case's next turn (in business-time order)."""
    case.pending.extend(case.st.held)
    case.st.held = []
