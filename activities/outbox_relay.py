"""The outbox relay: publishes the case events that activities wrote to the `outbox` table in
the same transaction as the state they describe (cases.lifecycle, alerts, payments.instructions).

At least once: a row is marked published only after Kafka acknowledged it, so a crash between
the two publishes it again. Consumers deduplicate by the CloudEvent `id`, which is stable.
Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several workers can relay side by side
without publishing a row twice at the same time (order across relays is then per batch only).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from contracts.topics import Topics
from observability import metrics, tracing

log = logging.getLogger(__name__)

BATCH = 500
IDLE_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 30.0
STOP_GRACE_SECONDS = 5.0

_CLAIM = """
SELECT seq, topic, key, value FROM outbox
 WHERE published_at IS NULL
 ORDER BY seq
 LIMIT $1
 FOR UPDATE SKIP LOCKED
"""
_MARK = "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])"


def _value_bytes(value: Any) -> bytes:
    # The pool's jsonb codec gives Python objects; a plain pool gives the JSON text.
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


async def publish_pending(pool: asyncpg.Pool, producer: AIOKafkaProducer, topics: Topics, batch: int = BATCH) -> int:
    """Publish one batch of unpublished outbox rows in `seq` order; return how many. A row names
    its logical topic; it goes to that topic's physical name in `topics` (the deployment's prefix).

    The rows stay locked while they are sent and are marked only after every send of the batch
    was acknowledged; any failure rolls the marking back so the batch is sent again.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(_CLAIM, batch)
        if not rows:
            return 0
        # A row written inside a trace is published in a span of that trace (None otherwise).
        spans = [tracing.start_publish_span(row["topic"], row["value"]) for row in rows]
        error: BaseException | None = None
        try:
            # Queue the whole batch first and then wait: the producer batches per partition, and
            # with idempotence it keeps the order of the records of one key.
            deliveries = [
                await producer.send(topics.physical(row["topic"]), value=_value_bytes(row["value"]), key=row["key"].encode())
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await conn.execute(_MARK, [row["seq"] for row in rows])
        except BaseException as exc:
            error = exc
            raise
        finally:
            for span in spans:
                tracing.end_span(span, error)
        for topic, n in Counter(row["topic"] for row in rows).items():
            metrics.OUTBOX_PUBLISHED.labels(topic=topic).inc(n)
        return len(rows)


class OutboxRelay:
    """Relays the outbox to Kafka until stopped; never dies of a database or broker error."""

    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer, *, topics: Topics, batch: int = BATCH,
                 idle_seconds: float = IDLE_SECONDS):
        self.pool = pool
        self.producer = producer
        self.topics = topics
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.published = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set: publish while there is work, poll when idle, back off on errors."""
        failures = 0
        while not stop.is_set():
            try:
                count = await self._publish_unless_stopped(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a down broker or database must not end the relay
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(failures - 1, 6))
                log.warning("outbox relay: %s: %s; retrying in %.1f s (failure %d)",
                            type(exc).__name__, exc, delay, failures, exc_info=failures == 1)
                await _wait(stop, delay)
                continue
            if count is None:
                break
            if failures:
                log.info("outbox relay: recovered after %d failures", failures)
                failures = 0
            self.published += count
            if count < self.batch:
                await _wait(stop, self.idle_seconds)

    async def _publish_unless_stopped(self, stop: asyncio.Event) -> int | None:
        """One batch; None if `stop` was set and the batch did not finish within the grace period.

        A send to a broker that went away waits for metadata up to the request timeout (40 s);
        shutdown should not. Abandoning the batch is safe: its transaction rolls back, the rows
        stay unpublished and go out again (consumers deduplicate by event id).
        """
        publishing = asyncio.ensure_future(publish_pending(self.pool, self.producer, self.topics, self.batch))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({publishing, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not publishing.done():
                await asyncio.wait({publishing}, timeout=STOP_GRACE_SECONDS)
            if not publishing.done():
                publishing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await publishing
                return None
            return publishing.result()
        finally:
            stopping.cancel()
            if not publishing.done():  # we are being cancelled ourselves
                publishing.cancel()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
