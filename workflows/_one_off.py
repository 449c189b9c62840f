"""What the kinds that pay once (K6, K7, K11) share once they state what they owe: they decide
and pay on one day and close, so a fact that corrects them arrives after they closed.

The contract with the base's after-close window (POLICY.md part 2 "Facts still correct a case up
to `ledger.correction_days` after it closed"): while the window is open the base hands the case
each event through `apply` and then calls `settle(today)`, exactly as for an open case; these
kinds' `apply` takes the correcting facts whether open or closed, and their `settle` reconciles
through `settle_owed` below.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.case_base import CaseWorkflow


async def settle_owed(case: CaseWorkflow, today: date, cause: str | None) -> None:
    """Reconcile the ledger with what the case owes now. A closed case has no later payment to
    deduct an overpayment from, so one written now becomes the `overpayment_recovery` task at
    once (an open case raises it when it closes)."""
    rows = await case.reconcile_owed(today, cause)
    if not case.is_open and any(r.entry == "overpayment" for r in rows):
        await case.raise_overpayment_recovery(today)
