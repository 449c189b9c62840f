"""A run's own Kafka topics: what keeps a test session or a benchmark off the default topics.

Each run (an e2e, fault or cluster test session, a `jiuye bench`) takes a prefix of its own,
`t<pid>x<unix seconds>n<count>.` after any configured `topic_prefix`, creates the contract's topics under
it, passes it to every process it starts (`JIUYE_TOPIC_PREFIX`, via `settings_env`) and deletes
every topic under it at the end, also on failure: the contract's, faust's internal topics and its
changelogs (their names start with the prefix too, contracts/topics.py). A run killed before its
end leaves its topics behind; the next run sweeps those of runs whose process is gone.

Consumer groups stay: aiokafka 0.14's admin client has no DeleteGroups; the broker drops an
empty group's offsets after `offsets.retention.minutes`, and a run's groups are its own.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import time
from collections.abc import AsyncIterator

from aiokafka.admin import AIOKafkaAdminClient

from contracts.kafka import client_security
from contracts.settings import Settings

# t<pid>x<unix seconds>n<count>. — the pid says whether the run still lives (on this machine, where the
# local stack runs), the time how old its topics are.
_RUN = re.compile(r"t(\d+)x(\d+)n\d+\.")
# A run whose process is still alive is only swept once this old (a reused pid, a hung run).
STALE_SECONDS = 24 * 3600


_runs = itertools.count(1)


def new_run_prefix(base: str = "") -> str:
    """A prefix no other run has: `base` (the configured prefix), then `t<pid>x<unix seconds>n<count>.`
    (the count tells apart two runs of one process in the same second)."""
    return f"{base}t{os.getpid()}x{int(time.time())}n{next(_runs)}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def stale_runs(topics: list[str], base: str = "", now: float | None = None) -> set[str]:
    """The run prefixes (after `base`) among `topics` whose run is over: its process is gone, or
    it is older than STALE_SECONDS."""
    now = time.time() if now is None else now
    stale = set()
    for topic in topics:
        if not topic.startswith(base):
            continue
        found = _RUN.match(topic, len(base))
        if found is None:
            continue
        pid, started = int(found[1]), int(found[2])
        if pid != os.getpid() and (not _alive(pid) or now - started > STALE_SECONDS):
            stale.add(base + found[0])
    return stale


class RunTopics:
    """Create, delete and sweep run-prefixed topics on the broker of `settings`."""

    def __init__(self, settings: Settings):
        self.settings = settings

    async def _admin(self) -> AIOKafkaAdminClient:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=30000,
                                    **client_security(self.settings))
        await admin.start()
        return admin

    async def create(self, run: Settings) -> list[str]:
        """The contract's topics under `run.topic_prefix` (as `jiuye dev up` creates the default ones)."""
        from deploy.stack.kafka import ensure_topics

        return await ensure_topics(run.kafka_bootstrap, run.kafka_partitions, run.kafka_replication_factor,
                                   run.kafka_min_insync_replicas, run.topics.all())

    async def delete(self, prefix: str) -> list[str]:
        """Delete every topic whose name starts with `prefix` (never the default topics)."""
        if not _RUN.search(prefix):
            raise ValueError(f"{prefix!r} is not a run prefix; only a run's own topics are deleted")
        admin = await self._admin()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if mine:
                await admin.delete_topics(mine)
            return mine
        finally:
            await admin.close()

    async def sweep(self) -> list[str]:
        """Delete the topics of earlier runs that ended without deleting them (killed, say)."""
        admin = await self._admin()
        try:
            topics = list(await admin.list_topics())
            stale = stale_runs(topics, self.settings.topic_prefix)
            doomed = [t for t in topics if any(t.startswith(p) for p in stale)]
            if doomed:
                await admin.delete_topics(doomed)
            return doomed
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def run_topics(settings: Settings) -> AsyncIterator[Settings]:
    """`settings` under a new run prefix, with the run's topics created; they are deleted when
    the block ends, however it ends. Earlier runs' leftovers are swept first."""
    topics = RunTopics(settings)
    with contextlib.suppress(Exception):  # sweeping is a courtesy; the run does not depend on it
        await topics.sweep()
    run = settings.model_copy(update={"topic_prefix": new_run_prefix(settings.topic_prefix)})
    try:
        await topics.create(run)
        yield run
    finally:
        await topics.delete(run.topic_prefix)
