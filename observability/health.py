"""Readiness: what a process reports on READY_PATH, and the checks its connections answer.

A process is ready when every check is true; each check is a round trip to the service it names
(not a cached flag), bounded by CHECK_TIMEOUT_SECONDS so a hung service answers "false" quickly
instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # both are there whenever a probe is made; this module itself needs neither
    from aiokafka.client import AIOKafkaClient
    from temporalio.client import Client

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]

# Below Kubernetes' default probe timeout (1 s is too tight on a busy machine; 3 s leaves room).
CHECK_TIMEOUT_SECONDS = 2.5


async def readiness(ready: ReadyCheck) -> tuple[int, dict[str, bool]]:
    """(HTTP status, checks): 200 when every check is true, 503 otherwise (also when the
    checks themselves failed, reported as {"checks": false})."""
    try:
        checks = await ready()
    except Exception as exc:  # noqa: BLE001 — a broken check means "not ready", never a 500
        log.warning("readiness check failed: %s: %s", type(exc).__name__, exc)
        checks = {"checks": False}
    return (200 if checks and all(checks.values()) else 503), checks


async def passes(probe: Callable[[], Awaitable[Any]]) -> bool:
    """True if `probe` returns within CHECK_TIMEOUT_SECONDS without raising."""
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 — any failure of the round trip means "not connected"
        log.info("readiness: %s: %s", type(exc).__name__, exc)
        return False
    return True


async def gather_checks(probes: Mapping[str, Callable[[], Awaitable[Any]]]) -> dict[str, bool]:
    """Run the probes side by side: {name: passed}."""
    results = await asyncio.gather(*(passes(p) for p in probes.values()))
    return dict(zip(probes, results, strict=True))


def postgres_probe(pool: Any) -> Callable[[], Awaitable[Any]]:
    """A round trip to PostgreSQL through an asyncpg pool."""
    return lambda: pool.fetchval("SELECT 1")


def temporal_probe(client: Client) -> Callable[[], Awaitable[Any]]:
    """Temporal's gRPC health check through a connected client."""

    async def probe() -> None:
        if not await client.service_client.check_health():
            raise ConnectionError("Temporal reports not serving")

    return probe


def kafka_probe(kafka_client: AIOKafkaClient) -> Callable[[], Awaitable[Any]]:
    """A metadata round trip to the brokers through an aiokafka client (a producer's or a
    consumer's `.client`, or the admin client's `_client`)."""

    async def probe() -> None:
        metadata = await kafka_client.fetch_all_metadata()
        if not metadata.brokers():
            raise ConnectionError("no Kafka broker in the metadata")

    return probe
