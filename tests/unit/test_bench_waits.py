"""The benchmarks' waits: a slow but moving run is waited for; a stuck one fails, saying how far it got."""

from __future__ import annotations

import pytest

from bench.harness import BenchError, wait_while_progressing


async def test_a_wait_that_keeps_progressing_outlasts_the_stall_window() -> None:
    # One unit every 0.03 s for 20 units takes ~0.6 s, far beyond the 0.1 s stall window:
    # a fixed 0.1 s timeout would have failed it.
    counted = iter(range(0, 21))

    async def count() -> int:
        return next(counted)

    waited = await wait_while_progressing(count, 20, "units", stall=0.1, interval=0.03)
    assert waited["from"] == 0 and waited["to"] == 20
    assert waited["seconds"] > 0.1


async def test_a_wait_without_progress_for_the_stall_window_fails_with_the_progress_it_saw() -> None:
    seen = [0, 1, 2, 3]

    async def count() -> int:
        return seen.pop(0) if len(seen) > 1 else seen[0]

    with pytest.raises(BenchError) as raised:
        await wait_while_progressing(count, 1000, "1000 K2 cases recorded by the worker", stall=0.1, interval=0.02)
    message = str(raised.value)
    assert message.startswith("no progress for 0.1 s waiting for 1000 K2 cases recorded by the worker")
    assert "(3/1000;" in message and "3 counted" in message and "from 0" in message
