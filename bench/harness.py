"""What every stack benchmark shares: the stack, an isolated run that starts the `jiuye worker` and
`jiuye streams` subprocesses, a PostgreSQL probe and the machine the figures came from (the
subprocesses and the Kafka probe themselves are the test kit's, testkit/, shared with tests/).

Isolation of one run (`BenchRun`), so that nothing older or concurrent leaks into a figure:
- a fresh, migrated PostgreSQL database (`deploy.stack.fresh_database`), dropped at the end;
- a Temporal namespace of the benchmarks' own (`jiuye-bench`) and a task queue per run;
- a fresh consumer group whose offsets are committed at the input topics' current ends before
  `jiuye streams` starts, so it reads only what the run produces;
- a run tag inside every person and enterprise id, so workflow ids (business keys, started with
  REJECT_DUPLICATE) never meet an earlier run's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import asyncpg
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType, TaskQueueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    DescribeTaskQueueRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.codec import keyring_from_settings
from contracts.settings import REPO_ROOT, Settings, get_settings, settings_env
from contracts.temporal import connect
from contracts.topics import INPUT_TOPICS
from testkit.errors import KitError
from testkit.kafka import KafkaProbe
from testkit.processes import JIUYE, Process, free_port
from testkit.run_topics import RunTopics, new_run_prefix

NAMESPACE = "jiuye-bench"


class BenchError(KitError):
    """A benchmark cannot run (stack down, a wait timed out); the test kit's own KitError says
    a process died or a topic is missing."""


def say(message: str) -> None:
    """A progress line (stderr; the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout: float, interval: float = 0.2,
                   progress: Callable[[], Awaitable[str]] | None = None, every: float = 10.0) -> Any:
    """Call `check` until it returns a truthy value; BenchError after `timeout` seconds.
    With `progress`, a line every `every` seconds says how far it got."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    next_report = started + every
    while True:
        result = await check()
        if result:
            return result
        now = loop.time()
        if now - started > timeout:
            detail = f" ({await progress()})" if progress else ""
            raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")
        if progress is not None and now >= next_report:
            say(f"  waiting for {what}: {await progress()} ({now - started:.0f} s)")
            next_report = now + every
        await asyncio.sleep(interval)


async def wait_while_progressing(count: Callable[[], Awaitable[int]], goal: int, what: str, stall: float = 60.0,
                                 interval: float = 0.2, every: float = 10.0) -> dict[str, float]:
    """Wait until `count()` reaches `goal`, however long that takes while it moves: BenchError only
    after `stall` seconds without a new unit counted (a fixed timeout fails a slow but healthy run
    on a loaded machine). Returns the progress waited for: the count at the start and the end, and
    the seconds it took; the error says the same."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    first = best = await count()
    moved = started
    next_report = started + every
    while best < goal:
        await asyncio.sleep(interval)
        now_count = await count()
        now = loop.time()
        if now_count > best:
            best, moved = now_count, now
        elif now - moved > stall:
            raise BenchError(f"no progress for {stall:g} s waiting for {what} ({best}/{goal}; "
                             f"{best - first} counted in {moved - started:.1f} s of waiting, from {first})")
        if now >= next_report:
            say(f"  waiting for {what}: {best}/{goal} ({now - started:.0f} s)")
            next_report = now + every
    return {"from": first, "to": best, "seconds": round(loop.time() - started, 2)}


# --- the stack ---------------------------------------------------------------------------------


# On the cluster topology the benchmarks start their own worker and streams processes, as on
# the single-node stack; only the services come from `jiuye dev up --topology cluster`.
CLUSTER_SERVICES = ("postgres", "temporal", "kafka")


def ensure_stack(settings: Settings, topology: str = "single") -> None:
    """`jiuye dev up` semantics: start what is down (idempotent); a clear BenchError if it fails."""
    from deploy import stack

    services = CLUSTER_SERVICES if topology == "cluster" else None
    rows = stack.status(settings, topology=topology)
    down = [s.name for s in rows if not s.running
            and (services is None or s.name.split("-")[0] in services)]
    if not down:
        return
    say(f"stack: {', '.join(down)} not running; starting it (jiuye dev up --topology {topology})")
    try:
        stack.up(settings, services, topology=topology)
    except stack.StackError as exc:
        raise BenchError(f"the benchmarks need the stack; {', '.join(down)} not running and `jiuye dev up` failed: {exc}") from exc


async def ensure_namespace(settings: Settings, namespace: str = NAMESPACE) -> None:
    """Register the benchmarks' namespace and the case search attributes in it (once)."""
    from deploy.stack.temporal import SEARCH_ATTRIBUTES

    client = await Client.connect(settings.temporal_address, namespace="default")
    try:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        with contextlib.suppress(RPCError):  # someone else may register it at the same moment
            await client.workflow_service.register_namespace(RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=Duration(seconds=24 * 3600)))

    async def attributes() -> Any:
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
            return await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:  # not visible to every service yet
                return None
            raise

    listed = await wait_for(attributes, f"namespace {namespace}", timeout=60, interval=0.5)
    missing = [name for name in SEARCH_ATTRIBUTES if name not in listed.custom_attributes]
    if missing:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for name in missing}))

        async def visible() -> bool:
            got = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
            return set(SEARCH_ATTRIBUTES) <= set(got.custom_attributes)

        await wait_for(visible, f"search attributes in {namespace}", timeout=60, interval=0.5)


# --- the machine -------------------------------------------------------------------------------


def _first_line(argv: list[str]) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=REPO_ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0] if out.returncode == 0 and text else None


def machine_info(settings: Settings, postgres_version: str | None = None) -> dict[str, Any]:
    """Cores, RAM, CPU model, date, git commit and the stack's versions (where cheap to get)."""
    cpu = None
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = match.group(1).strip() if match else None
    ram_gb = None
    with contextlib.suppress(OSError):
        found = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.M)
        ram_gb = round(int(found.group(1)) / 1024 / 1024, 1) if found else None
    commit = _first_line(["git", "rev-parse", "--short=12", "HEAD"])
    dirty = _first_line(["git", "status", "--porcelain", "--untracked-files=no"])
    temporal = None
    with contextlib.suppress(Exception):
        from deploy.stack.temporal import temporal_binary

        temporal = _first_line([temporal_binary(), "--version"])
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "ram_gb": ram_gb,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git_commit": (commit + ("+uncommitted changes" if dirty else "")) if commit else None,
        "temporal": temporal,
        "kafka": settings.kafka_version,
        "postgresql": postgres_version,
    }


# --- one isolated run --------------------------------------------------------------------------


class BenchRun:
    """One benchmark's isolated world: database, namespace + task queue, consumer group, run tag,
    the Temporal client, and the `jiuye worker` / `jiuye streams` subprocesses it starts.

    `async with BenchRun(base, "intake") as run:` — everything is stopped and dropped on exit,
    also on an error or Ctrl-C."""

    def __init__(self, base: Settings, name: str):
        self.base = base
        self.name = name
        self.tag = uuid.uuid4().hex[:8]
        self.database = f"jiuye_bench_{name}_{self.tag}"
        self.folder = Path(tempfile.mkdtemp(prefix=f"jiuye-bench-{name}-"))
        self.settings = base.model_copy(update={
            "temporal_namespace": NAMESPACE,
            "temporal_task_queue": f"bench-{name}-{self.tag}",
            "consumer_group": f"jiuye-bench-{name}-{self.tag}",
            "state_dir": self.folder / "state",
            # Topics of its own, created and deleted here: nothing it produces reaches the
            # default topics a later `jiuye streams` reads (testkit/run_topics.py).
            "topic_prefix": new_run_prefix(base.topic_prefix),
        })
        self.topics = RunTopics(self.settings)
        self.processes: list[Process] = []
        self.kafka = KafkaProbe(self.settings)
        self.pool: asyncpg.Pool | None = None
        self.client: Client | None = None
        self.worker: Process | None = None
        self.streams: Process | None = None
        self._db_created = False
        self._topics_created = False

    async def __aenter__(self) -> "BenchRun":
        try:
            await self._open()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open(self) -> None:
        from deploy import stack

        say(f"{self.name}: fresh database {self.database}, task queue {self.settings.temporal_task_queue}, "
            f"group {self.settings.consumer_group}, topics under {self.settings.topic_prefix} (logs in {self.folder})")
        with contextlib.suppress(Exception):  # earlier runs' leftovers; a courtesy, not a need
            swept = await self.topics.sweep()
            if swept:
                say(f"{self.name}: deleted {len(swept)} topics left by earlier runs")
        self._topics_created = True  # before creating: a half-created set is deleted too
        await self.topics.create(self.settings)
        url = await stack.fresh_database(self.database, self.settings)
        self._db_created = True
        self.settings = self.settings.model_copy(update={"database_url": url})
        # One development payload key for this run, made before any process could race for it.
        keyring_from_settings(self.settings)
        self.pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
        self.client = await connect(self.settings)
        await self.kafka.start()
        await self.kafka.start_group_at(self.settings.consumer_group, await self.kafka.ends(INPUT_TOPICS))

    async def close(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop()
        self.processes.clear()
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), timeout=10)
        await self.kafka.stop()
        if self._topics_created:  # the run's topics, faust's internal ones and changelogs among them
            with contextlib.suppress(Exception):
                await self.topics.delete(self.settings.topic_prefix)
        if self._db_created:
            with contextlib.suppress(Exception):
                await drop_database(self.settings, self.database)
        shutil.rmtree(self.folder / "state", ignore_errors=True)

    # -- processes --------------------------------------------------------------------------
    async def start_worker(self) -> Process:
        """`jiuye worker` on this run's task queue; returns once it polls the queue."""
        self.worker = Process("worker", [str(JIUYE), "worker"], settings_env(self.settings), self.folder)
        self.processes.append(self.worker)
        assert self.client is not None
        request = DescribeTaskQueueRequest(namespace=NAMESPACE, task_queue=TaskQueue(name=self.settings.temporal_task_queue),
                                           task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)

        async def polling() -> bool:
            assert self.worker is not None and self.client is not None
            self.worker.check()
            described = await self.client.workflow_service.describe_task_queue(request)
            return bool(described.pollers)

        await wait_for(polling, "the worker to poll its task queue", timeout=120, interval=0.5)
        return self.worker

    async def start_streams(self, ready_topics: Iterable[str] = INPUT_TOPICS) -> Process:
        """`jiuye streams` on this run's group; returns once it handled a canary record (a line
        that is not JSON, dead-lettered without touching Temporal) on each of `ready_topics`."""
        self.streams = Process("streams", [str(JIUYE), "streams"],
                               settings_env(self.settings, JIUYE_STREAMS_WEB_PORT=str(free_port())), self.folder)
        self.processes.append(self.streams)
        await self.canaries(ready_topics, what="the streams process to consume", timeout=180)
        return self.streams

    async def add_streams(self, count: int, topic: str) -> list[Process]:
        """`count` more `jiuye streams` processes in the same group (issue 16: scale-out); returns
        once the group has settled with every process holding some of `topic`'s partitions and
        all of them held (each process logs its assignment: streams/consumer.py)."""
        extra = [Process(f"streams-{k}", [str(JIUYE), "streams"],
                         settings_env(self.settings, JIUYE_STREAMS_WEB_PORT=str(free_port())), self.folder)
                 for k in range(2, count + 2)]
        self.processes.extend(extra)
        members = [p for p in (self.streams, *extra) if p is not None]
        physical = self.settings.topics.physical(topic)

        def held(process: Process) -> int:
            text = process.log.read_text(errors="replace") if process.log.exists() else ""
            lines = [line for line in text.splitlines() if "streams: assigned " in line]
            return lines[-1].count(f"{physical}/") if lines else 0

        async def settled() -> bool:
            for process in members:
                process.check()
            counts = [held(p) for p in members]
            return all(counts) and sum(counts) == self.settings.kafka_partitions

        await wait_for(settled, f"{len(members)} streams processes to share {topic}", timeout=180, interval=0.5)
        await asyncio.sleep(2)  # the last member's assignment logged, let its workers start fetching
        return extra

    async def canaries(self, topics: Iterable[str], what: str, timeout: float) -> None:
        """Send one not-JSON record to each topic and wait until the intake dead-lettered all."""
        from contracts.kafka import make_producer

        topics = list(topics)
        before = await self.count("SELECT count(*) FROM dead_letters")
        producer = make_producer(self.settings)
        await producer.start()
        try:
            for topic in topics:
                await producer.send_and_wait(self.settings.topics.physical(topic), value=f"bench canary {self.tag} {topic}".encode(), key=b"bench-canary")
        finally:
            await producer.stop()

        async def handled() -> bool:
            if self.streams is not None:
                self.streams.check()
            return await self.count("SELECT count(*) FROM dead_letters") >= before + len(topics)

        await wait_for(handled, what, timeout=timeout, interval=0.25)

    # -- queries ----------------------------------------------------------------------------
    async def scalar(self, sql: str, *args: Any) -> Any:
        assert self.pool is not None
        return await self.pool.fetchval(sql, *args)

    async def count(self, sql: str, *args: Any) -> int:
        """What a `SELECT count(*) …` answers."""
        value = await self.scalar(sql, *args)
        if not isinstance(value, int):
            raise BenchError(f"expected a count from {sql!r}, got {value!r}")
        return value

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        assert self.pool is not None
        return await self.pool.fetch(sql, *args)

    async def workflow_count(self) -> int:
        """Workflows of this run's task queue in Temporal (visibility)."""
        assert self.client is not None
        counted = await self.client.count_workflows(f'TaskQueue = "{self.settings.temporal_task_queue}"')
        return counted.count

    def person(self, kind: str, n: int) -> str:
        """A person id unique to this run."""
        return f"B{self.tag}{kind}{n:07d}"


async def drop_database(settings: Settings, database: str) -> None:
    from deploy.stack.postgres import drop_database as drop

    await drop(database, settings)


async def postgres_version(settings: Settings) -> str | None:
    with contextlib.suppress(Exception):
        conn = await asyncpg.connect(settings.database_url)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()
    return None


def base_settings(topology: str = "single") -> Settings:
    """The configured settings, pointed at the cluster topology's services when asked."""
    if topology == "cluster":
        from deploy.stack.topology import ClusterLayout

        return ClusterLayout(get_settings()).client_settings()
    return get_settings()
