"""The ceiling for settled cases: a bench-only workflow that runs one local activity and ends,
on a worker of its own (`python -m bench.raw_workflow`, the run's settings in its environment)
polling `<task queue>-raw` on the same server, with the same client options (payload codec
included) and the same cache size as `jiuye worker`. A settled case does at least this much
(a workflow task, a local activity, completion), so the capacity benchmark's ratio to it says
what the case's own work costs on top of the server's minimum.

Never registered on `jiuye worker`: it is not a case kind and nothing outside `jiuye bench` starts it.
"""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

RAW_QUEUE_SUFFIX = "-raw"


@activity.defn(name="bench_touch")
async def touch(n: int) -> int:
    """As little as an activity can do: what it costs is the SDK's, not ours."""
    return n + 1


@workflow.defn(name="BenchOneLocalActivity")
class OneLocalActivity:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_local_activity(touch, n, start_to_close_timeout=timedelta(seconds=10))


async def serve() -> None:
    """Poll the raw queue until SIGTERM/SIGINT."""
    from contracts.settings import get_settings
    from contracts.temporal import connect

    settings = get_settings()
    client = await connect(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(client, task_queue=settings.temporal_task_queue + RAW_QUEUE_SUFFIX, workflows=[OneLocalActivity],
                    activities=[touch], max_cached_workflows=settings.worker_max_cached_workflows)
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve())
