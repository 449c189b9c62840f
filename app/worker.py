"""`jiuye worker`: the Temporal worker that runs every case kind and its activities, with the
outbox relay, the read-model metrics collector and the observability HTTP server
(docs/OBSERVABILITY.md)."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.case_activities import CaseActivities
from activities.store import Store
from contracts.settings import Settings
from policy.pack import PolicyPack, load_pack
from workflows.registry import WORKFLOWS

log = logging.getLogger("jiuye.worker")


# Pure packages a worker may import once for all workflow runs (`workflow_runner`): the
# project's workflow code and its pure dependencies (contracts and policy are already imported
# passed through by the workflow modules themselves).
SHARED_WORKFLOW_MODULES = ("workflows", "contracts", "policy", "pydantic", "pydantic_core", "annotated_types")


def workflow_runner(share_workflow_modules: bool) -> SandboxedWorkflowRunner:
    """The sandbox `jiuye worker` runs cases in: the SDK's default, or with the workflow modules
    imported once and shared by every run (settings.worker_share_workflow_modules)."""
    if not share_workflow_modules:
        return SandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*SHARED_WORKFLOW_MODULES))


def build_worker(client: Client, task_queue: str, store: Store, pack: PolicyPack, **options: Any) -> Worker:
    """A worker for every case kind with the activities bound to `store`."""
    acts = CaseActivities(store, pack)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=acts.all(),
        **options,
    )


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM. On the signal the worker reports not ready, stops polling,
    lets the activities in hand finish (up to worker_graceful_shutdown_seconds), and the relay
    finishes the outbox batch in hand; then the connections close and queued spans are exported."""
    from activities.disbursement_runner import DisbursementRunner, desk_from_settings
    from activities.outbox_relay import OutboxRelay
    from activities.pg_store import PgStore, create_pool
    from contracts.kafka import make_producer
    from contracts.temporal import connect
    from observability.health import gather_checks, kafka_probe, postgres_probe, temporal_probe
    from observability.http import start_http
    from observability.metrics import ReadModelCollector, sdk_metrics_runtime
    from observability.process_gc import settle_after_start
    from observability.tracing import configure_tracing, shutdown_tracing

    configure_tracing(settings, "worker")
    runtime = sdk_metrics_runtime(settings.observability_host, settings.worker_sdk_metrics_port)
    pool = await create_pool(settings.database_url, settings.database_pool_max)
    client = await connect(settings, runtime=runtime)
    producer = make_producer(settings)
    await producer.start()
    relay = OutboxRelay(pool, producer, topics=settings.topics)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings.temporal_task_queue, PgStore(pool), load_pack(settings.policy_pack),
                          max_cached_workflows=settings.worker_max_cached_workflows,
                          workflow_runner=workflow_runner(settings.worker_share_workflow_modules),
                          graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds))

    async def ready() -> dict[str, bool]:
        checks = await gather_checks({"temporal": temporal_probe(client), "postgresql": postgres_probe(pool),
                                      "kafka": kafka_probe(producer.client)})
        return {**checks, "polling": worker.is_running and not stop.is_set()}

    http = await start_http(settings.observability_host, settings.worker_http_port, ready)
    log.info("worker on %s, task queue %s", settings.temporal_address, settings.temporal_task_queue)
    settle_after_start(settings.gc_gen0_threshold)
    relay_task = asyncio.create_task(relay.run(stop))
    collector_task = asyncio.create_task(ReadModelCollector(pool).run(stop))
    background = [relay_task, collector_task]
    if settings.disbursement_interval_seconds > 0:  # due ledger rows → payment instructions
        desk = desk_from_settings(PgStore(pool), load_pack(settings.policy_pack), settings)
        runner = DisbursementRunner(desk, settings.disbursement_interval_seconds, desk.clock)
        background.append(asyncio.create_task(runner.run(stop)))
    try:
        async with worker:
            await stop.wait()
            log.info("worker: stopping; finishing the activities in hand")
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        await http.stop()
        await producer.stop()
        await pool.close()
        shutdown_tracing()
        log.info("worker: stopped")
