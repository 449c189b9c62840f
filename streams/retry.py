"""Retrying the same records until they are done: what the intake does on any failure that is
not the records' fault (Temporal, PostgreSQL or Kafka down, or a bug)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger("jiuye.streams")
T = TypeVar("T")

MAX_BACKOFF_SECONDS = 30.0


def backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (1-based): 0.5, 1, 2, … capped at 30."""
    return min(MAX_BACKOFF_SECONDS, 0.5 * 2.0 ** min(attempt - 1, 6))


async def retry_until_done(
    call: Callable[[], Awaitable[T]],
    what: str,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    before_retry: Callable[[], None] | None = None,
) -> T:
    """Call `call` until it returns, retrying the same records with backoff on any error.

    Parse errors never get here (the intake dead-letters them); what raises is infrastructure
    (Temporal, PostgreSQL, Kafka) or a bug, and in both cases skipping the records would lose a
    fact that may carry money. Cancellation (shutdown) propagates: the records stay uncommitted.
    `before_retry` runs after each failure, before the wait; what it raises ends the retrying
    (the consumer gives a failing batch up that way when its partitions are handed over).
    """
    attempt = 0
    while True:
        try:
            result = await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            delay = backoff(attempt)
            # Where the records are, never what they say: they may carry personal data.
            log.warning("intake %s failed (%s: %s); retrying the same records in %.1f s (attempt %d)",
                        what, type(exc).__name__, exc, delay, attempt, exc_info=attempt == 1)
            if before_retry is not None:
                before_retry()
            await sleep(delay)
            continue
        if attempt:
            log.info("intake %s done after %d retries", what, attempt)
        return result
