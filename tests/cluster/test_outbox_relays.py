"""Every `jiuye worker` runs an outbox relay, so a cluster runs several at once: rows claimed
with `FOR UPDATE SKIP LOCKED` and marked in the same transaction must reach Kafka once each,
however the relays interleave (activities/outbox_relay.py)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest

from activities.outbox_relay import OutboxRelay
from contracts.kafka import make_producer
from contracts.topics import LIFECYCLE
from tests.cluster.conftest import Cluster
from tests.e2e.helpers import assert_eventually

pytestmark = [pytest.mark.cluster]

ROWS = 3000
RELAYS = 3


async def test_several_relays_publish_each_outbox_row_once(cluster: Cluster) -> None:
    system = cluster.system
    keys = [f"relay-{system.tag}-{n:05d}" for n in range(ROWS)]
    await system.pool.executemany(
        "INSERT INTO outbox (topic, key, dedupe_key, value) VALUES ($1, $2, $2, $3::jsonb)",
        [(LIFECYCLE, key, json.dumps({"id": key, "type": "test.relay"})) for key in keys])
    producers = [make_producer(system.settings) for _ in range(RELAYS)]
    stop = asyncio.Event()
    # Small batches make the relays contend for the same rows many times over.
    relays = [OutboxRelay(system.pool, p, topics=system.settings.topics, batch=50, idle_seconds=0.01) for p in producers]
    for producer in producers:
        await producer.start()
    tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        async def all_marked() -> None:
            left = await system.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            assert left == 0, f"{left} rows not published yet"

        await assert_eventually(all_marked, timeout=120, interval=0.2)

        async def all_on_topic() -> Counter[str]:
            seen = Counter(r.key.decode() for r in system.tail.of(LIFECYCLE) if r.key.decode().startswith("relay-"))
            assert len(seen) == ROWS, f"{len(seen)} of {ROWS} rows on {LIFECYCLE}"
            return seen

        seen = await assert_eventually(all_on_topic, timeout=60, interval=0.2)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        for producer in producers:
            await producer.stop()
    twice = [key for key, n in seen.items() if n > 1]
    assert not twice, f"{len(twice)} rows published more than once, e.g. {twice[:3]}"
    assert sum(relay.published for relay in relays) == ROWS
    assert sum(1 for relay in relays if relay.published) > 1, "one relay did all the work: no contention tested"
