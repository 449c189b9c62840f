"""The streams process (`jiuye streams`): the intake's consumer group, and the monitoring tables (M1).

Two parts, each on the library that is safe for it (docs/RELIABILITY.md, "Scale-out"):

- The intake consumes the input topics in the consumer group `settings.consumer_group` with
  aiokafka (streams/consumer.py: static membership if `streams_instance_id` is set, one worker
  per topic, commits only after a batch is durable, a rebalance waits for the batches in hand).
  Until issue 12 faust consumed them; faust acks records it skips during a rebalance, and with a
  second member that lost records (streams/consumer.py has the mechanism).
- Monitoring (§23, §24; streams/monitoring.py has the rules and the delivery guarantee): after
  `Intake.handle_batch` returned and before the batch is committed, each record's observation
  (if it counts) is forwarded to the internal topic `<group>-monitoring`, keyed by city, and the
  broker's ack awaited; the faust app `<group>-monitoring` (its own consumer group) keeps the
  counts in faust Tables keyed `city|…`, recovered from their changelogs, and raises alerts
  through the store. Its agent acks each observation by hand once it is applied.
- M2 headcount_drop (streams/headcount_monitor.py) is judged in the intake's own step, from the
  stored facts: after `Intake.handle_batch` stored a batch of `si.contributions` (its facts
  durable) and before the batch is committed, one statement counts the headcounts of the months
  its employer contributions call for (activities/headcount_facts.py; nothing per record, no
  state of its own but which months were compared), and falls become `headcount_drop` alerts.
  Until issue 16 it was a faust agent fed by a forward of every employer contribution to
  `<group>-headcount` (docs/BENCHMARKS.md "What M2 costs the intake").

The monitoring agent's acks, checked against faust-streaming 0.15.3 as installed:
- faust commits, per partition, the highest *contiguous* run of acked offsets
  (`Consumer._new_offset`), with an off-by-one head-gap guard (issue #606) that only matters
  with two records of one partition in flight, i.e. agent `concurrency > 1`; the agent has
  concurrency=1 and acks each observation only after it was applied.
- An exception must never leave the agent body: the supervisor would restart the actor on the
  *next* record, leaving the failed one unacked behind acked ones (the #606 gap). Failures are
  retried on the same observation with backoff (streams/retry.py).
- `stream_wait_empty=False`: on shutdown faust would otherwise wait for every unacked message.
- What faust still does on a rebalance of its group (two streams processes): it acks, unapplied,
  observations its stream sees during the rebalance (`skipped_value`); one can be lost then,
  i.e. its week's count one short (docs/RELIABILITY.md, "Scale-out"). Observations carry no
  money and open no case; the intake, which does, no longer runs on faust.

faust's web server is off: the process's HTTP endpoints (metrics, health) are served by the
observability server on `observability_host`:`streams_web_port`, from `StreamsProcess`'s
`ready_checks` and `lag`.
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, cast

import faust

from activities.store import Origin
from contracts.kafka import faust_broker_credentials
from contracts.settings import Settings
from contracts.topics import DEAD_LETTERS, INPUT_TOPICS, TOPIC_OF_TYPE
from observability.http import start_http
from observability.metrics import report_consumer_lag
from observability.process_gc import settle_after_start
from policy.calendar import start_of_day
from streams.consumer import IntakeConsumer, Records
from streams.intake import Intake, Outcome
from streams.retry import backoff, retry_until_done

log = logging.getLogger("jiuye.streams")

# Readiness probes must answer quickly: a dependency that takes longer counts as not ready.
PROBE_TIMEOUT_SECONDS = 2.0


class IntakeRuntime:
    """The connections the intake shares (asyncpg pool, Temporal client, Kafka producer for dead
    letters and observations), opened once; the consumer's workers wait for them."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._ready = asyncio.Event()
        self._intake: Intake | None = None
        self._closers: list[Callable[[], Awaitable[Any]]] = []
        self.pool: Any = None
        self.client: Any = None
        self.producer: Any = None

    async def open(self) -> None:
        """Connect to PostgreSQL, Temporal and Kafka, retrying until all answer."""
        attempt = 0
        while self._intake is None:
            try:
                self._intake = await self._connect()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                await self.close()
                delay = backoff(attempt)
                log.warning("streams: cannot connect yet (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
        self._ready.set()
        log.info("streams: connected (PostgreSQL, Temporal %s, task queue %s)",
                 self.settings.temporal_address, self.settings.temporal_task_queue)

    async def _connect(self) -> Intake:
        from activities.pg_store import PgStore, create_pool
        from contracts.kafka import make_producer
        from contracts.temporal import connect
        from policy.pack import load_pack
        from streams.gateway import CaseGateway
        from streams.kafka_sinks import KafkaDeadLetterSink

        s = self.settings
        pack = load_pack(s.policy_pack)
        pool = await create_pool(s.database_url, s.database_pool_max)

        async def close_pool() -> None:
            # close() waits for every connection to be released; a worker stuck on a dead
            # server must not hold up the shutdown.
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except TimeoutError:
                pool.terminate()

        self._closers.append(close_pool)
        client = await connect(s)
        producer = make_producer(s)
        await producer.start()
        self._closers.append(producer.stop)
        self.pool, self.client, self.producer = pool, client, producer
        gateway = CaseGateway(client, s.temporal_task_queue, max_in_flight=s.intake_max_in_flight,
                              clock_offset_seconds=business_clock_offset(s))
        from activities.disbursement_runner import desk_from_settings

        store = PgStore(pool)
        desk = desk_from_settings(store, pack, s)  # payee accounts and treasury results
        return Intake(store, gateway, KafkaDeadLetterSink(producer, s.topics.physical(DEAD_LETTERS)), pack, desk if desk.vault else None)

    async def intake(self) -> Intake:
        """The intake, once connected."""
        await self._ready.wait()
        assert self._intake is not None
        return self._intake

    async def postgres_ok(self) -> bool:
        if self.pool is None:
            return False
        try:
            await asyncio.wait_for(self.pool.fetchval("SELECT 1"), PROBE_TIMEOUT_SECONDS)
        except Exception:
            return False
        return True

    async def temporal_ok(self) -> bool:
        if self.client is None:
            return False
        try:
            return bool(await asyncio.wait_for(self.client.service_client.check_health(), PROBE_TIMEOUT_SECONDS))
        except Exception:
            return False

    async def close(self) -> None:
        """Close what `open` opened (newest first); safe to call more than once."""
        self.pool = self.client = self.producer = None
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception as exc:  # closing is best effort; the process is going away
                log.warning("streams: closing: %s: %s", type(exc).__name__, exc)


def business_clock_offset(settings: Settings, now: datetime | None = None) -> int:
    """Seconds from now to `settings.business_date` (0 when unset): the clock offset the intake
    gives every case it opens, so that their business today starts at that date."""
    if settings.business_date is None:
        return 0
    offset = int((start_of_day(settings.business_date) - (now or datetime.now(timezone.utc))).total_seconds())
    log.warning("business clock: new cases start on %s (offset %d s; JIUYE_BUSINESS_DATE, development only)",
                settings.business_date, offset)
    return offset


def monitoring_topic(settings: Settings) -> str:
    """The internal topic of observations, keyed by city."""
    return settings.topics.physical(f"{settings.consumer_group}-monitoring")


def monitoring_app_id(settings: Settings) -> str:
    """The faust app (and its consumer group) of the monitoring tables: not the intake's group,
    which aiokafka's consumer owns (a group has one assignor and one subscription protocol).
    Under the topic prefix like every group: faust names its tables' changelogs after it."""
    return settings.topics.physical(f"{settings.consumer_group}-monitoring")


def batch_handler(runtime: IntakeRuntime) -> Callable[[Intake, Records], Awaitable[list[Outcome]]]:
    """What the consumer does with a batch: `Intake.handle_batch`, then what monitoring needs of it:
    each M1 observation that counts forwarded (keyed by city) and acknowledged by the broker, and,
    for `si.contributions`, M2 judged from the facts the batch stored (streams/headcount_monitor.py).
    Before the batch is committed: a crash in between redelivers the records, which forwards them
    again (M1 counts an event key once) and judges the same months again (M2's alert ids are
    idempotent)."""
    from streams.headcount_monitor import CONTRIBUTION, HeadcountMonitor
    from streams.monitoring import COUNTED, observe

    # Only the topics that carry counted types forward observations (no extra parse for the
    # million contributions a month).
    counted_topics = {TOPIC_OF_TYPE[t] for t in COUNTED}
    contributions_topic = TOPIC_OF_TYPE[CONTRIBUTION]
    topic = monitoring_topic(runtime.settings)

    async def handle(intake: Intake, records: Records) -> list[Outcome]:
        outcomes = await intake.handle_batch(records)
        sent = []
        if records and records[0][1].topic in counted_topics:
            for outcome in outcomes:
                observation = await observe(outcome.event, outcome.status, intake.store) if outcome.event else None
                if observation is not None:
                    sent.append(await runtime.producer.send(topic, key=observation.city.encode(), value=observation.to_bytes()))
        if records and records[0][1].topic == contributions_topic:
            await HeadcountMonitor(intake.pack, intake.store).judge(outcomes)
        # Sent in order, acknowledged together: the batch is committed only once all are.
        await asyncio.gather(*sent)
        if log.isEnabledFor(logging.DEBUG):
            for (_, origin), outcome in zip(records, outcomes, strict=True):
                log.debug("intake %s/%s@%s: %s %s", origin.topic, origin.partition, origin.offset,
                          outcome.status, outcome.detail)
        return outcomes

    return handle


def create_app(settings: Settings, runtime: IntakeRuntime) -> faust.App:
    """The monitoring app: the observations topic, its tables and its agent (faust's web off)."""
    datadir = settings.state_dir / "streams"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        monitoring_app_id(settings),
        broker="kafka://" + settings.kafka_bootstrap,
        broker_credentials=faust_broker_credentials(settings),
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=settings.kafka_partitions,
        # The monitoring tables live in memory and are recovered from their changelog topics
        # (created by faust) at start; memory keeps faust from needing RocksDB.
        store="memory://",
        datadir=str(datadir),
        producer_acks=-1,
        # faust's own topics (the monitoring topic, the tables' changelogs) as replicated as ours.
        topic_replication_factor=settings.kafka_replication_factor,
        stream_wait_empty=False,
        # A new group reads the observations from their beginning: none is skipped silently.
        consumer_auto_offset_reset="earliest",
        # No leader-only tasks: don't create the `<id>-__assignor-__leader` topic (the broker
        # refuses to auto-create topics, by design).
        topic_disable_leader=True,
        # The process's HTTP endpoints are the observability server's, not faust's.
        web_enabled=False,
        # A dead process's observations move to the others as soon as its intake partitions do.
        broker_session_timeout=settings.streams_session_timeout_ms / 1000,
        broker_heartbeat_interval=min(3.0, settings.streams_session_timeout_ms / 3000),
        autodiscover=False,
    )
    _add_monitoring(app, runtime, settings)
    return app


def _add_monitoring(app: faust.App, runtime: IntakeRuntime, settings: Settings) -> None:
    """M1's topic (internal, keyed by city), its tables and its agent."""
    from streams.monitoring import Monitor, Observation

    counts = app.Table("monitoring_counts", partitions=settings.kafka_partitions)
    seen = app.Table("monitoring_seen", partitions=settings.kafka_partitions)

    async def monitor() -> Callable[[Observation], Awaitable[object]]:
        intake = await runtime.intake()
        return Monitor(intake.pack, counts, seen, intake.store).apply

    _acking_agent(app, settings, monitoring_topic(settings), "monitoring", Observation.from_bytes, monitor)


def _acking_agent(app: faust.App, settings: Settings, topic_name: str, name: str,
                  decode: Callable[[bytes], Any], make_apply: Callable[[], Awaitable[Callable[[Any], Awaitable[object]]]]) -> None:
    """An agent on an internal topic that applies each message (retried until done) and only then
    acks it by hand (the module docstring says why)."""
    topic = app.topic(topic_name, internal=True, partitions=settings.kafka_partitions,
                      value_serializer="raw", key_serializer="raw")

    async def agent(stream: faust.StreamT[bytes]) -> None:
        apply = await make_apply()
        manual = cast(faust.Stream[bytes], stream).noack()
        async for event in manual.events():
            message = event.message
            origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
            try:
                value = decode(event.value)
            except (TypeError, ValueError, KeyError) as exc:  # not ours: nothing to count
                log.warning("%s %s/%s@%s: not a message of ours (%s)", name, origin.topic, origin.partition, origin.offset, exc)
                await manual.ack(event)
                continue

            async def attempt(value: Any = value) -> object:
                return await apply(value)

            await retry_until_done(attempt, f"{name} {origin.topic}/{origin.partition}@{origin.offset}")
            await manual.ack(event)

    # concurrency=1 is the default; spelled out because it is what keeps commits safe (#606).
    app.agent(topic, name=name, concurrency=1)(agent)


class StreamsProcess:
    """What `jiuye streams` runs: the connections, the intake's consumer group member and the
    monitoring app; also what its readiness probe and lag metric read."""

    def __init__(self, settings: Settings, runtime: IntakeRuntime | None = None):
        self.settings = settings
        self.intake_runtime = runtime or IntakeRuntime(settings)
        self.consumer = IntakeConsumer(settings, self.intake_runtime.intake, batch_handler(self.intake_runtime),
                                       INPUT_TOPICS)
        self.monitoring = create_app(settings, self.intake_runtime)
        self._connecting: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start connecting, join the intake's group, then start the monitoring app (faust's start
        takes seconds; a restarted static member should be back in its group before the session
        timeout). The consumer's workers wait for the connections; a forward before faust has
        declared the monitoring topic fails and is retried."""
        self._connecting = asyncio.create_task(self.intake_runtime.open(), name="streams.connect")
        await self.consumer.start()
        await self.monitoring.start()

    async def stop(self) -> None:
        """The consumer first (it finishes the batches in hand, commits them and leaves the group),
        then the monitoring app, then the connections the batches needed."""
        await self.consumer.stop()
        await self.monitoring.stop()
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            await asyncio.gather(self._connecting, return_exceptions=True)
        await self.intake_runtime.close()

    async def ready_checks(self) -> dict[str, bool]:
        """Readiness (cheap, no side effects): each dependency answers, and partitions are assigned."""
        postgres, temporal, kafka = await asyncio.gather(
            self.intake_runtime.postgres_ok(), self.intake_runtime.temporal_ok(),
            self.consumer.kafka_reachable(PROBE_TIMEOUT_SECONDS))
        return {"postgres": postgres, "temporal": temporal, "kafka": kafka,
                "partitions_assigned": bool(self.consumer.assignment())}

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet handled, per (logical topic, partition) assigned to this member."""
        return self.consumer.lag()


def run_streams(settings: Settings) -> None:
    """Run the streams process until SIGINT/SIGTERM (what `jiuye streams` calls); on the signal
    the batches in hand are finished and committed, the group is left, and it returns (exit 0).
    With `streams_profile` set the whole run is profiled (cProfile: the event loop is one thread,
    so this sees the consumer, the intake and the monitoring agents) and the stats written there."""
    if not settings.streams_profile:
        asyncio.run(_serve(settings))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(_serve(settings))
    finally:
        profiler.disable()
        profiler.dump_stats(settings.streams_profile)
        log.info("streams: profile written to %s", settings.streams_profile)


async def _serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    process = StreamsProcess(settings)
    log.info("streams: group %s on %s, topics %s", settings.intake_group, settings.kafka_bootstrap,
             ", ".join(settings.topics.physical(t) for t in INPUT_TOPICS))
    # Metrics and probes first: a port already taken fails the start loudly, before joining.
    http = await start_http(settings.observability_host, settings.streams_web_port, process.ready_checks)
    log.info("streams: metrics and probes on %s", http.url)
    await process.start()
    settle_after_start(settings.gc_gen0_threshold)
    lag = asyncio.create_task(report_consumer_lag(lambda: process.consumer.kafka_consumer, stop,
                                                  logical=settings.topics.logical), name="streams.lag")
    try:
        await stop.wait()
        log.info("streams: stopping (finishing the batches in hand)")
    finally:
        stop.set()  # also when leaving on an error: the lag reporter ends with the process
        await process.stop()
        await asyncio.gather(lag, return_exceptions=True)
        await http.stop()
    log.info("streams: stopped")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from contracts.settings import get_settings

    run_streams(get_settings())
