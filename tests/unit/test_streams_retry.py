"""streams/retry.py: the same records are retried with backoff until done, and a caller can end
the retrying between attempts (the consumer abandons a failing batch that way on a rebalance)."""

from __future__ import annotations

import pytest

from streams.retry import MAX_BACKOFF_SECONDS, backoff, retry_until_done


class Stop(Exception):
    pass


def test_backoff_doubles_from_half_a_second_up_to_the_cap() -> None:
    assert [backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backoff(100) == MAX_BACKOFF_SECONDS


async def test_retries_until_the_call_returns() -> None:
    calls: list[int] = []
    waits: list[float] = []

    async def flaky() -> str:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionError("down")
        return "done"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await retry_until_done(flaky, "batch", sleep=sleep) == "done"
    assert len(calls) == 3
    assert waits == [0.5, 1.0]


async def test_before_retry_ends_the_retrying_after_a_failure() -> None:
    attempts: list[int] = []
    yielding = {"now": False}

    async def failing() -> None:
        attempts.append(1)
        yielding["now"] = len(attempts) == 2  # the hand-over starts during the second attempt
        raise ConnectionError("down")

    def give_up() -> None:
        if yielding["now"]:
            raise Stop

    async def sleep(seconds: float) -> None:
        return None

    with pytest.raises(Stop):
        await retry_until_done(failing, "batch", sleep=sleep, before_retry=give_up)
    assert len(attempts) == 2


async def test_before_retry_is_not_called_when_the_first_attempt_succeeds() -> None:
    async def fine() -> int:
        return 7

    def never() -> None:
        raise AssertionError("called without a failure")

    assert await retry_until_done(fine, "batch", before_retry=never) == 7
