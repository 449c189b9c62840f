"""What the kinds that pay once (K6, K7, K11) share once they state what they owe: they decide
and pay on one day and close, so a fact that corrects them arrives after they closed.

The contract with the base's after-close window (POLICY.md part 2 "Facts still correct a case up
to `ledger.correction_days` after it closed"): while the window is open the base hands the case
each event through `apply` and then calls `settle(today)`, exactly as for an open case; these
kinds' `apply` takes the correcting facts whether open or closed, and their `settle` reconciles
through `settle_owed` below.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from policy import corrections
    from workflows.case_base import OVERPAYMENT_RECOVERY, RULE_RECOVERY_TASK, CaseWorkflow


async def settle_owed(case: CaseWorkflow, today: date, cause: str | None) -> None:
    """Reconcile the ledger with what the case owes now. A closed case has no later payment to
    deduct an overpayment from, so one written now becomes an `overpayment_recovery` task at once
    (an open case raises it when it closes) — for this overpayment only: one recovered by an
    earlier task is not asked for twice."""
    rows = await case.reconcile_owed(today, cause)
    if case.is_open:
        return
    new: dict[tuple[str, str], int] = defaultdict(int)
    periods: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        if r.entry == "overpayment":
            new[(r.payee, r.fund)] += r.amount
            periods[(r.payee, r.fund)].add(r.period)
    left = corrections.outstanding(case.ledger)
    for (payee, fund), amount in sorted(new.items()):
        due = min(amount, left.get((payee, fund), 0))
        if due > 0:
            await case.raise_task(OVERPAYMENT_RECOVERY, today, {
                "payee": payee, "fund": fund, "amount": due, "periods": sorted(periods[(payee, fund)]),
                "rule": RULE_RECOVERY_TASK,
            })
