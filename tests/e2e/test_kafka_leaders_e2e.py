"""`jiuye dev up` waits for the partition leaders of the topics it creates (deploy/stack/kafka.py
`leaders_ready`), so the first producer of a healthy start logs no NotLeaderForPartitionError
retries. On the real broker: topics created this moment are ready once each partition's leader
answers, and a topic that does not exist never is."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts.kafka import make_producer
from contracts.settings import Settings
from deploy.stack.kafka import ensure_topics, leaders_ready

pytestmark = pytest.mark.e2e


async def test_a_producer_after_leaders_ready_logs_no_warning(e2e_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    bootstrap = e2e_settings.kafka_bootstrap
    names = [f"leaders-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    await ensure_topics(bootstrap, 4, names=names)
    try:
        await _ready_and_quiet(e2e_settings, names, caplog)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(names)
        finally:
            await admin.close()


async def _ready_and_quiet(e2e_settings: Settings, names: list[str], caplog: pytest.LogCaptureFixture) -> None:
    bootstrap = e2e_settings.kafka_bootstrap
    deadline = time.monotonic() + 60
    while not await leaders_ready(bootstrap, names):
        assert time.monotonic() < deadline, "the new topics' leaders did not answer within 60 s"
        await asyncio.sleep(0.5)
    assert not await leaders_ready(bootstrap, [*names, f"absent-{uuid.uuid4().hex[:8]}"])

    caplog.set_level(logging.WARNING, logger="aiokafka")
    producer = make_producer(e2e_settings, linger_ms=0)
    await producer.start()
    try:
        for name in names:
            for partition in range(4):
                await producer.send_and_wait(name, value=b"{}", key=b"k", partition=partition)
    finally:
        await producer.stop()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("aiokafka")] == []
