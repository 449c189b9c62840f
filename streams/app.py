"""The faust-streaming intake: Kafka records → `streams.intake.Intake` → Temporal.

How a record's offset gets committed, and why this module looks the way it does (checked
against faust-streaming 0.15.3 as installed):

- faust commits, per partition, the highest *contiguous* run of acked offsets
  (`Consumer._new_offset`). Its head-gap guard is off by one (issue #606): with the committed
  offset at N, acks for N+1, N+2… commit past an N that is still being processed. That can only
  happen when two records of one partition are in flight at once, i.e. with agent
  `concurrency > 1`. Every agent here has concurrency=1, and its body acks a batch only once
  all of it is done, in offset order, so a partition never has a later record acked before an
  earlier one that is still in flight.
- `Stream.__aiter__` acks an event in a `finally` after the agent body resumes the iterator,
  and that `finally` also runs when the body raises or the actor is cancelled (faust's own
  comment in `Agent.on_stop`: cancelling "forces the stream to ack the last message"). A record
  whose handling failed or was interrupted would then be committed as done. `stream.take(n,
  within=...)` acks its batch in the same kind of `finally`. So the agents take batches with
  `stream.noack_take(n, within=...)`, which never acks, and ack each record explicitly, in
  offset order, only after `Intake.handle_batch` returned for the whole batch.
- An exception must never leave the agent body: the supervisor would restart the actor on the
  *next* record, leaving the failed one unacked behind acked ones (exactly the #606 gap).
  Infrastructure errors (Temporal, PostgreSQL, the DLQ producer down) are retried on the same
  batch with backoff until it is done or the app stops (what a failed attempt finished is a
  duplicate the second time).
- `stream_wait_empty=False`: on shutdown faust would otherwise wait for every unacked message,
  i.e. for a record we may be retrying against a dead Temporal; an unacked record is simply
  delivered again after the restart, and the intake is idempotent (inbox, business-key ids).
- Left to faust: after a rebalance it acks, unprocessed, records fetched under the previous
  generation (`skipped_value` in `Stream._py_aiter`) and fetches them again from the committed
  offset; only a crash in that window could lose one. One member per group rebalances only
  when it starts or stops.

Monitoring (§23, §24; streams/monitoring.py has the rules and the delivery guarantee): after
`Intake.handle_batch` returned and before the records are acked, the intake agent forwards each
record's observation (if it counts) to the internal topic `<group>-monitoring`, keyed by city, and waits
for the broker; the monitoring agent (same manual-ack discipline) keeps the counts in faust
Tables keyed `city|…` and raises alerts through the store.

tests/e2e/test_intake_e2e.py checks this on the real broker: while a record is retried, the
group's committed offset stays at or before it, and an intake stopped during the retry leaves
it to the next one.

One agent per input topic rather than one over all of them: topics then progress
independently (a slow or stuck topic does not hold up the others), and ordering is only
promised per partition anyway (key = subject), which one sequential actor per topic keeps.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import faust

from activities.store import Origin
from contracts.kafka import faust_broker_credentials
from contracts.settings import Settings
from contracts.topics import INPUT_TOPICS, TOPIC_OF_TYPE
from streams.intake import Intake, Outcome

log = logging.getLogger("jiuye.streams")
T = TypeVar("T")

MAX_BACKOFF_SECONDS = 30.0


class IntakeRuntime:
    """The connections the agents share (asyncpg pool, Temporal client, DLQ producer), opened
    once by an app task; agents wait for them instead of connecting themselves."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._ready = asyncio.Event()
        self._intake: Intake | None = None
        self._closers: list[Callable[[], Awaitable[Any]]] = []

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
            # close() waits for every connection to be released; an agent stuck on a dead
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
        gateway = CaseGateway(client, s.temporal_task_queue, max_in_flight=s.intake_max_in_flight)
        return Intake(PgStore(pool), gateway, KafkaDeadLetterSink(producer), pack)

    async def intake(self) -> Intake:
        """The intake, once connected."""
        await self._ready.wait()
        assert self._intake is not None
        return self._intake

    async def close(self) -> None:
        """Close what `open` opened (newest first); safe to call more than once."""
        while self._closers:
            closer = self._closers.pop()
            try:
                await closer()
            except Exception as exc:  # closing is best effort; the process is going away
                log.warning("streams: closing: %s: %s", type(exc).__name__, exc)


def backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (1-based): 0.5, 1, 2, … capped at 30."""
    return min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** min(attempt - 1, 6))


async def retry_until_done(
    call: Callable[[], Awaitable[T]],
    what: str,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> T:
    """Call `call` until it returns, retrying the same records with backoff on any error.

    Parse errors never get here (the intake dead-letters them); what raises is infrastructure
    (Temporal, PostgreSQL, Kafka) or a bug, and in both cases skipping the records would lose a
    fact that may carry money. Cancellation (shutdown) propagates: the records stay unacked.
    """
    attempt = 0
    while True:
        try:
            result = await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            delay = backoff(attempt)
            # Where the records are, never what they say: they may carry personal data.
            log.warning("intake %s failed (%s: %s); retrying the same records in %.1f s (attempt %d)",
                        what, type(exc).__name__, exc, delay, attempt, exc_info=attempt == 1)
            await sleep(delay)
            continue
        if attempt:
            log.info("intake %s done after %d retries", what, attempt)
        return result


def create_app(settings: Settings, *, web_enabled: bool = True, runtime: IntakeRuntime | None = None) -> faust.App:
    """The intake app: one sequential agent per input topic, resources opened by a startup task.

    The app id is `settings.consumer_group`, because faust uses its id as the Kafka group id.
    """
    runtime = runtime or IntakeRuntime(settings)
    datadir = settings.state_dir / "streams"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.consumer_group,
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
        # A new group reads each topic from its beginning: no event is skipped silently.
        consumer_auto_offset_reset="earliest",
        # No leader-only tasks: don't create the `<id>-__assignor-__leader` topic (the broker
        # refuses to auto-create topics, by design).
        topic_disable_leader=True,
        web_enabled=web_enabled,
        web_port=settings.streams_web_port,
        autodiscover=False,
    )
    app.intake_runtime = runtime  # type: ignore[attr-defined]  # for tests and the web views

    @app.task
    async def connect() -> None:
        await runtime.open()

    @app.on_before_shutdown.connect
    async def disconnect(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await runtime.close()

    from streams.monitoring import COUNTED

    monitoring = _add_monitoring(app, runtime, settings)
    # Only the topics that carry counted types forward observations (no extra parse for the
    # million contributions a month).
    counted_topics = {TOPIC_OF_TYPE[t] for t in COUNTED}
    for topic_name in INPUT_TOPICS:
        _add_intake_agent(app, runtime, topic_name, monitoring if topic_name in counted_topics else None)
    return app


def _add_monitoring(app: faust.App, runtime: IntakeRuntime, settings: Settings) -> faust.TopicT:
    """The monitoring topic (internal, keyed by city), its tables and its agent."""
    from streams.monitoring import Monitor, Observation

    topic = app.topic(
        f"{settings.consumer_group}-monitoring",
        internal=True,
        partitions=settings.kafka_partitions,
        value_serializer="raw",
        key_serializer="raw",
    )
    counts = app.Table("monitoring_counts", partitions=settings.kafka_partitions)
    seen = app.Table("monitoring_seen", partitions=settings.kafka_partitions)

    async def monitoring_agent(stream: faust.StreamT) -> None:
        intake = await runtime.intake()
        monitor = Monitor(intake.pack, counts, seen, intake.store)
        manual = cast(faust.Stream, stream).noack()
        async for event in manual.events():
            message = event.message
            origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
            try:
                observation = Observation.from_bytes(event.value)
            except (TypeError, ValueError, KeyError) as exc:  # not ours: nothing to count
                log.warning("monitoring %s/%s@%s: not an observation (%s)", origin.topic, origin.partition, origin.offset, exc)
                await manual.ack(event)
                continue

            async def apply(obs: Observation = observation) -> object:
                return await monitor.apply(obs)

            await retry_until_done(apply, f"monitoring {origin.topic}/{origin.partition}@{origin.offset}")
            await manual.ack(event)

    app.agent(topic, name="monitoring", concurrency=1)(monitoring_agent)
    return topic


def _add_intake_agent(app: faust.App, runtime: IntakeRuntime, topic_name: str, monitoring: faust.TopicT | None = None) -> None:
    from streams.monitoring import observe

    topic = app.topic(topic_name, value_serializer="raw", key_serializer="raw")
    settings = runtime.settings

    async def intake_agent(stream: faust.StreamT) -> None:
        intake = await runtime.intake()
        # noack_take yields the buffered events without acking them, also when the body raises or
        # is cancelled; they are acked below, in offset order, once the whole batch is done.
        batches = cast(faust.Stream, stream).noack_take(settings.intake_batch_max, within=settings.intake_batch_within_ms / 1000)
        async for events in batches:
            # A tombstone or empty record is bad input like any other: the intake dead-letters it.
            records = [
                (e.value if isinstance(e.value, bytes) else b"",
                 Origin(topic=e.message.topic, partition=e.message.partition, offset=e.message.offset))
                for e in events
            ]

            async def handle_and_observe() -> list[Outcome]:
                outcomes = await intake.handle_batch(records)
                if monitoring is not None:
                    # Before the source records are acked, and on the broker (not attached to the
                    # ack): a crash in between redelivers the records, which forwards them again.
                    for outcome in outcomes:
                        observation = await observe(outcome.event, outcome.status, intake.store) if outcome.event else None
                        if observation is not None:
                            sent = await monitoring.send(key=observation.city.encode(), value=observation.to_bytes(), force=True)
                            await sent
                return outcomes

            outcomes = await retry_until_done(handle_and_observe, _span(records))
            if log.isEnabledFor(logging.DEBUG):
                for (_, origin), outcome in zip(records, outcomes):
                    log.debug("intake %s/%s@%s: %s %s", origin.topic, origin.partition, origin.offset,
                              outcome.status, outcome.detail)
            for event in events:
                await cast(faust.Stream, stream).ack(event)

    # concurrency=1 is the default; spelled out because it is what keeps commits safe (#606).
    app.agent(topic, name=f"intake.{topic_name}", concurrency=1)(intake_agent)


def _span(records: list[tuple[bytes, Origin]]) -> str:
    """Where a batch sits in Kafka, for the logs (never the records: they may carry personal data)."""
    first, last = records[0][1], records[-1][1]
    return f"{first.topic} ({len(records)} records from {first.partition}@{first.offset} to {last.partition}@{last.offset})"


def run_streams(settings: Settings, *, loglevel: str = "info") -> None:
    """Run the intake until SIGINT/SIGTERM (what `jiuye streams` calls).

    faust's `app.main()` would parse our CLI's argv, so the worker is driven directly; it keeps
    the logging the caller configured.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    app = create_app(settings)
    log.info("streams: group %s on %s, topics %s", settings.consumer_group, settings.kafka_bootstrap,
             ", ".join(INPUT_TOPICS))
    worker = faust.Worker(app, loop=loop, loglevel=loglevel, quiet=True, override_logging=False)
    worker.spinner = None  # it writes terminal escapes even into a log file
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:  # the worker always leaves through SystemExit
        if exc.code not in (None, 0):
            raise


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from contracts.settings import get_settings

    run_streams(get_settings())
