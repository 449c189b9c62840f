"""The faust-streaming intake: Kafka records → `streams.intake.Intake` → Temporal.

How a record's offset gets committed, and why this module looks the way it does (checked
against faust-streaming 0.15.3 as installed):

- faust commits, per partition, the highest *contiguous* run of acked offsets
  (`Consumer._new_offset`). Its head-gap guard is off by one (issue #606): with the committed
  offset at N, acks for N+1, N+2… commit past an N that is still being processed. That can only
  happen when two records of one partition are in flight at once, i.e. with agent
  `concurrency > 1`. Every agent here has concurrency=1, and its body handles one record at a
  time, so a partition never has a later record acked before an earlier one.
- `Stream.__aiter__` acks an event in a `finally` after the agent body resumes the iterator,
  and that `finally` also runs when the body raises or the actor is cancelled (faust's own
  comment in `Agent.on_stop`: cancelling "forces the stream to ack the last message"). A record
  whose handling failed or was interrupted would then be committed as done. So the agents
  iterate `stream.noack()` and ack explicitly, and only after `Intake.handle` returned.
- `stream.take(n, within=...)` acks a batch in the same kind of `finally` (after the yield), so
  it has the same hole on errors and cancellation; batching is not used.
- An exception must never leave the agent body: the supervisor would restart the actor on the
  *next* record, leaving the failed one unacked behind acked ones (exactly the #606 gap).
  Infrastructure errors (Temporal, PostgreSQL, the DLQ producer down) are retried on the same
  record with backoff until it is done or the app stops.
- `stream_wait_empty=False`: on shutdown faust would otherwise wait for every unacked message,
  i.e. for a record we may be retrying against a dead Temporal; an unacked record is simply
  delivered again after the restart, and the intake is idempotent (inbox, business-key ids).
- Left to faust: after a rebalance it acks, unprocessed, records fetched under the previous
  generation (`skipped_value` in `Stream._py_aiter`) and fetches them again from the committed
  offset; only a crash in that window could lose one. One member per group rebalances only
  when it starts or stops.

Monitoring (§23, §24; streams/monitoring.py has the rules and the delivery guarantee): after
`Intake.handle` returned and before the record is acked, the intake agent forwards the record's
observation (if it counts) to the internal topic `<group>-monitoring`, keyed by city, and waits
for the broker; the monitoring agent (same manual-ack discipline) keeps the counts in faust
Tables keyed `city|…` and raises alerts through the store.

tests/e2e/test_intake_e2e.py checks this on the real broker: with `stream` instead of
`stream.noack()`, stopping the app during a retry commits past the unfinished record.

One agent per input topic rather than one over all of them: topics then progress
independently (a slow or stuck topic does not hold up the others), and ordering is only
promised per partition anyway (key = subject), which one sequential actor per topic keeps.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust

from activities.store import Origin
from contracts.kafka import faust_broker_credentials
from contracts.settings import Settings
from contracts.topics import INPUT_TOPICS, TOPIC_OF_TYPE
from streams.intake import Intake, Outcome

log = logging.getLogger("jiuye.streams")

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
        return Intake(PgStore(pool), CaseGateway(client, s.temporal_task_queue), KafkaDeadLetterSink(producer), pack)

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


async def handle_until_done(
    handle: Callable[[bytes, Origin], Awaitable[Outcome]],
    raw: bytes,
    origin: Origin,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> Outcome:
    """Call `handle` until it returns, retrying the same record with backoff on any error.

    Parse errors never get here (the intake dead-letters them); what raises is infrastructure
    (Temporal, PostgreSQL, Kafka) or a bug, and in both cases skipping the record would lose a
    fact that may carry money. Cancellation (shutdown) propagates: the record stays unacked.
    """
    attempt = 0
    while True:
        try:
            outcome = await handle(raw, origin)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            delay = backoff(attempt)
            # Origin only: the record itself may carry personal data.
            log.warning("intake %s/%s@%s failed (%s: %s); retrying the same record in %.1f s (attempt %d)",
                        origin.topic, origin.partition, origin.offset, type(exc).__name__, exc, delay, attempt,
                        exc_info=attempt == 1)
            await sleep(delay)
            continue
        if attempt:
            log.info("intake %s/%s@%s done after %d retries: %s",
                     origin.topic, origin.partition, origin.offset, attempt, outcome.status)
        return outcome


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

            async def apply(_raw: bytes, _origin: Origin, obs: Observation = observation) -> Outcome:
                raised = await monitor.apply(obs)
                return Outcome("applied", ", ".join(a.alert_id for a in raised))

            await handle_until_done(apply, b"", origin)
            await manual.ack(event)

    app.agent(topic, name="monitoring", concurrency=1)(monitoring_agent)
    return topic


def _add_intake_agent(app: faust.App, runtime: IntakeRuntime, topic_name: str, monitoring: faust.TopicT | None = None) -> None:
    from streams.monitoring import observation_for

    topic = app.topic(topic_name, value_serializer="raw", key_serializer="raw")

    async def intake_agent(stream: faust.StreamT) -> None:
        intake = await runtime.intake()
        manual = cast(faust.Stream, stream).noack()
        async for event in manual.events():
            message = event.message
            origin = Origin(topic=message.topic, partition=message.partition, offset=message.offset)
            # A tombstone or empty record is bad input like any other: the intake dead-letters it.
            raw = event.value if isinstance(event.value, bytes) else b""

            async def handle_and_observe(raw: bytes, origin: Origin) -> Outcome:
                outcome = await intake.handle(raw, origin)
                observation = await observation_for(raw, outcome.status, intake.store) if monitoring else None
                if monitoring is not None and observation is not None:
                    # Before the source record is acked, and on the broker (not attached to the
                    # ack): a crash in between redelivers the record, which forwards it again.
                    sent = await monitoring.send(key=observation.city.encode(), value=observation.to_bytes(), force=True)
                    await sent
                return outcome

            outcome = await handle_until_done(handle_and_observe, raw, origin)
            log.debug("intake %s/%s@%s: %s %s", origin.topic, origin.partition, origin.offset,
                      outcome.status, outcome.detail)
            await manual.ack(event)

    # concurrency=1 is the default; spelled out because it is what keeps commits safe (#606).
    app.agent(topic, name=f"intake.{topic_name}", concurrency=1)(intake_agent)


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
