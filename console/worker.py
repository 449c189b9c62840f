"""`jiuye worker`: the Temporal worker that runs every case kind and its activities."""

from __future__ import annotations

import asyncio
import logging
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from activities.store import Store
from contracts.settings import Settings
from policy.pack import PolicyPack, load_pack
from workflows.registry import WORKFLOWS

log = logging.getLogger("jiuye.worker")


def build_worker(client: Client, task_queue: str, store: Store, pack: PolicyPack, **options: object) -> Worker:
    """A worker for every case kind with the activities bound to `store`."""
    acts = CaseActivities(store, pack)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=acts.all(),
        **options,  # type: ignore[arg-type]
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM: the worker and the outbox relay that publishes case events."""
    from activities.outbox_relay import OutboxRelay
    from activities.pg_store import PgStore, create_pool
    from contracts.kafka import make_producer
    from contracts.temporal import connect

    pool = await create_pool(settings.database_url, settings.database_pool_max)
    client = await connect(settings)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(pool, producer)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings.temporal_task_queue, PgStore(pool), load_pack(settings.policy_pack),
                          max_cached_workflows=settings.worker_max_cached_workflows)
    log.info("worker on %s, task queue %s", settings.temporal_address, settings.temporal_task_queue)
    relay_task = asyncio.create_task(relay.run(stop))
    async with worker:
        await stop.wait()
    await relay_task
    await producer.stop()
    await pool.close()
