"""Fixtures of the end-to-end tests: the real stack (Temporal dev server, Kafka, PostgreSQL),
and per test the whole system in this process — the Temporal worker with its outbox relay and
the streams process's parts (intake consumer, monitoring app) — isolated from anything else
that may run on the same stack:

- a fresh, migrated database per test;
- Kafka topics of its own per session (a run prefix, testkit/run_topics.py: created at the
  start, deleted at the end), so a `jiuye streams` or `jiuye demo` on the default topics never
  sees a record of ours;
- a Temporal namespace of its own (`jiuye-e2e`) and a uuid task queue per test;
- a fresh consumer group per test whose offsets are set to the topics' current ends before it
  starts, so it reads exactly what the test emits and nothing older;
- unique person, unit and event ids per test, so workflow ids never meet earlier runs'.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from activities.outbox_relay import OutboxRelay
from activities.pg_store import PgStore, create_pool
from app.emit import EmitReport, emit
from app.worker import build_worker
from contracts.kafka import client_security, make_producer
from contracts.settings import Settings, get_settings
from contracts.temporal import connect
from contracts.topics import DEAD_LETTERS, INPUT_TOPICS, LIFECYCLE
from deploy import stack
from deploy.stack.postgres import drop_database
from deploy.stack.temporal import SEARCH_ATTRIBUTES
from policy.pack import PolicyPack, load_pack
from streams.app import IntakeRuntime, StreamsProcess
from testkit.kafka import KafkaProbe
from testkit.run_topics import run_topics
from tests.e2e.helpers import assert_eventually

E2E_NAMESPACE = "jiuye-e2e"
OUTPUT_TOPICS = (LIFECYCLE, DEAD_LETTERS)


@pytest.fixture(scope="session")
def stack_settings() -> Settings:
    """The configured stack, started if any service is down (idempotent), in the e2e namespace."""
    base = get_settings()
    down = [s.name for s in stack.status(base) if not s.running]
    if down:
        try:
            stack.up(base)
        except stack.StackError as exc:
            pytest.fail(f"the end-to-end tests need the real stack; {', '.join(down)} not running and "
                        f"`jiuye dev up` failed: {exc}")
    return base.model_copy(update={"temporal_namespace": E2E_NAMESPACE})


@pytest.fixture(scope="session")
async def e2e_settings(stack_settings: Settings) -> AsyncIterator[Settings]:
    """`stack_settings` once the e2e namespace and its search attributes exist, under the
    session's own topic prefix (its topics created now, deleted at the session's end)."""
    client = await Client.connect(stack_settings.temporal_address, namespace="default")
    await _ensure_namespace(client, E2E_NAMESPACE)
    async with run_topics(stack_settings) as settings:
        yield settings


async def _ensure_namespace(client: Client, namespace: str) -> None:
    try:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        with contextlib.suppress(RPCError):  # another session may register it at the same moment
            await client.workflow_service.register_namespace(RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=Duration(seconds=3 * 24 * 3600)))


    async def registered() -> Any:
        # A namespace registered a moment ago is not known to every service of the dev server
        # until its namespace cache refreshes (seen on a fresh server: NOT_FOUND for seconds).
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
            return await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        except RPCError as exc:
            assert exc.status != RPCStatusCode.NOT_FOUND, f"namespace {namespace} not visible yet: {exc}"
            raise

    listed = await assert_eventually(registered, timeout=60)
    missing = {name: kind for name, kind in SEARCH_ATTRIBUTES.items() if name not in listed.custom_attributes}
    if missing:
        types = {"Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD}
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=namespace, search_attributes={name: types[kind] for name, kind in missing.items()}))

    async def usable() -> None:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        assert set(SEARCH_ATTRIBUTES) <= set(listed.custom_attributes), "search attributes not visible yet"
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
        # What the tests do first in the namespace: a workflow call must not say NOT_FOUND for it.
        probe = await Client.connect(client.service_client.config.target_host, namespace=namespace)
        try:
            await probe.get_workflow_handle("jiuye-e2e-namespace-probe").describe()
        except RPCError as exc:
            assert "Namespace" not in str(exc), f"namespace {namespace} not usable yet: {exc}"

    await assert_eventually(usable, timeout=60)


# --- Kafka helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def kafka(e2e_settings: Settings) -> AsyncIterator[KafkaProbe]:
    probe = KafkaProbe(e2e_settings)
    await probe.start()
    yield probe
    await probe.stop()


class TopicTail:
    """Collects every record appended to some (logical) topics after it started (a background task)."""

    def __init__(self, settings: Settings, topics: Iterable[str]):
        self.settings = settings
        self.topics = tuple(topics)
        self.records: list[ConsumerRecord] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, kafka: KafkaProbe) -> None:
        ends = await kafka.ends(self.topics)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False,
                                    **client_security(self.settings))
        await consumer.start()
        consumer.assign(list(ends))
        for tp, offset in ends.items():
            consumer.seek(tp, offset)
        self._consumer = consumer
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        assert self._consumer is not None
        names = self.settings.topics
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            # Under the logical names: tests compare with contracts/topics.py's constants.
            for records in batches.values():
                self.records.extend(dataclasses.replace(r, topic=names.logical(r.topic)) for r in records)

    def of(self, topic: str) -> list[ConsumerRecord]:
        return [r for r in self.records if r.topic == topic]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


# --- the system under test -----------------------------------------------------------------------


@dataclass
class System:
    """Everything one test talks to."""

    settings: Settings
    pool: asyncpg.Pool
    client: Client
    pack: PolicyPack
    tail: TopicTail
    kafka: KafkaProbe
    folder: Path
    tag: str
    emitted: list[EmitReport] = field(default_factory=list)
    intakes: list[StreamsProcess] = field(default_factory=list)

    async def start_intake(self, runtime: IntakeRuntime | None = None) -> StreamsProcess:
        """Start the streams process's parts in this process (intake consumer in this test's
        group, monitoring app) and wait until it is connected."""
        process = StreamsProcess(self.settings, runtime)
        await process.start()
        self.intakes.append(process)
        await asyncio.wait_for(process.intake_runtime.intake(), timeout=30)
        return process

    async def stop_intake(self, process: StreamsProcess) -> None:
        await process.stop()
        self.intakes.remove(process)

    async def stop_intakes(self) -> None:
        for app in list(self.intakes):
            await self.stop_intake(app)

    async def emit(self, lines: Iterable[bytes], name: str = "events.jsonl") -> EmitReport:
        """Write `lines` as a JSONL file and send it with `jiuye emit`'s function."""
        path = self.folder / name
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        report = await emit(path, self.settings, progress=False)
        self.emitted.append(report)
        return report

    async def settled(self, timeout: float = 60.0) -> None:
        """Wait until the intake committed every emitted record (so each was fully handled)."""

        async def committed() -> None:
            lag = await self.kafka.lag(self.settings.consumer_group, await self.kafka.ends(INPUT_TOPICS))
            assert lag == 0, f"{lag} emitted records not yet committed by the intake"

        await assert_eventually(committed, timeout=timeout, interval=0.5)


async def _drop_database(settings: Settings, database: str) -> None:
    await drop_database(database, settings)


@pytest.fixture
async def bare_system(e2e_settings: Settings, kafka: KafkaProbe, tmp_path: Path) -> AsyncIterator[System]:
    """Worker + outbox relay in this process on a fresh database; the test starts the intake."""
    tag = uuid.uuid4().hex[:10]
    database = f"jiuye_e2e_{tag}"
    async with contextlib.AsyncExitStack() as stack_:
        # Callbacks run in reverse: the database goes last, after everything using it stopped.
        stack_.push_async_callback(_drop_database, e2e_settings, database)
        url = await stack.fresh_database(database, e2e_settings)
        settings = e2e_settings.model_copy(update={
            "database_url": url,
            "temporal_task_queue": f"e2e-{tag}",
            "consumer_group": f"jiuye-e2e-{tag}",
            "state_dir": tmp_path / "state",
        })
        pack = load_pack(settings.policy_pack)
        await kafka.start_group_at_end(settings.consumer_group, INPUT_TOPICS)

        pool = await create_pool(url, 8)
        stack_.push_async_callback(pool.close)
        client = await connect(settings)
        await stack_.enter_async_context(build_worker(client, settings.temporal_task_queue, PgStore(pool), pack))

        producer = make_producer(settings)
        await producer.start()
        stack_.push_async_callback(producer.stop)
        stop = asyncio.Event()
        relay_task = asyncio.create_task(OutboxRelay(pool, producer, topics=settings.topics).run(stop))

        async def stop_relay() -> None:
            stop.set()
            await relay_task

        stack_.push_async_callback(stop_relay)

        tail = TopicTail(settings, OUTPUT_TOPICS)
        await tail.start(kafka)
        stack_.push_async_callback(tail.stop)

        system = System(settings=settings, pool=pool, client=client, pack=pack, tail=tail, kafka=kafka,
                        folder=tmp_path, tag=tag)
        stack_.push_async_callback(system.stop_intakes)
        yield system


@pytest.fixture
async def system(bare_system: System) -> System:
    """`bare_system` with the intake running."""
    await bare_system.start_intake()
    return bare_system
