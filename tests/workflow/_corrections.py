"""What the corrections tests of the kinds that reconcile (K1, K5) share (their time-skipping
server is tests/workflow/conftest.py's `env`): the ledger key of a delivered event (what a
correction names as its `cause`), and a case's worth per (program, period) — original +
corrections, by `policy.corrections.WORTH_SIGN`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from contracts.cases import PaymentRequest
from policy.corrections import WORTH_SIGN
from streams.intake import Outcome


def event_key(outcome: Outcome) -> str:
    """`source#id` of the event the intake handled."""
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


def worth(ledger: Iterable[PaymentRequest], case: str) -> dict[tuple[str, str], int]:
    """Original + corrections per (program, period) of `case`."""
    total: dict[tuple[str, str], int] = defaultdict(int)
    for p in ledger:
        if p.case_id == case:
            total[(p.program, p.period)] += WORTH_SIGN[p.entry] * p.amount
    return dict(total)


def recovery_tasks(tasks: Iterable[dict], case: str) -> list[tuple[str, str, str, int, list[str]]]:
    """(kind, payee, fund, amount, periods) of the case's tasks."""
    return [(t["kind"], t["details"]["payee"], t["details"]["fund"], t["details"]["amount"], t["details"]["periods"])
            for t in tasks if t["case_id"] == case]
