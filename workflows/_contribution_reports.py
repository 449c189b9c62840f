"""A contribution report reaching a contribution-driven case (K4, K15): the report that stands for
its month (policy.contribution_schedule.take_report), the event named on the corrections it makes,
and the note on the timeline."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent
    from policy.calendar import business_date
    from policy.contribution_schedule import take_report
    from workflows.case_base import CaseWorkflow


def take_contribution(case: CaseWorkflow, month: str, amount: int, ev: CaseEvent, first: str) -> None:
    """Keep `ev`'s report of `amount` fen for `month` in `case.st.contributions` (a state with
    `contributions` and `cause`); a report that changes what stands becomes the cause of what is
    owed next. `first`: the note for the month's first report."""
    st: Any = case.st
    received = business_date(ev.time)
    known = st.contributions.get(month)
    report = take_report(known, amount, ev.time, ev.key)
    st.contributions[month] = report
    if known is None:
        case.note(received, first, event=ev.key)
    elif report.amount != known.amount:
        st.cause = ev.key
        case.note(received, f"corrected report for {month}: {report.amount} fen (was {known.amount})", event=ev.key)
    else:
        case.note(received, f"another report for {month}: {known.amount} fen still stands", event=ev.key)
