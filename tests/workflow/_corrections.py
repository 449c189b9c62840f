"""What the corrections tests of the kinds that reconcile (K1, K5) share: the time-skipping
server as a module fixture (import `env` into the test module), the ledger key of a delivered
event (what a correction names as its `cause`), and a case's worth per (program, period) —
original + corrections, by `policy.corrections.WORTH_SIGN`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from console import simulate as sim
from contracts.cases import PaymentRequest
from contracts.temporal import DATA_CONVERTER
from policy.corrections import WORTH_SIGN
from streams.intake import Outcome


@pytest_asyncio.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=sim.test_server_path()
    ) as environment:
        yield environment


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
