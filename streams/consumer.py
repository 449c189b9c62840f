"""The intake's consumer group on aiokafka: input records → `Intake.handle_batch` → commit.

Why not faust (docs/RELIABILITY.md, "Scale-out"): faust acks, unprocessed, every record its
stream sees while flow control is suspended or that was fetched under an earlier generation
(`skipped_value` in `Stream._py_aiter`, also for `noack` streams), assuming a seek to the
committed offsets follows. When the partition stays with the member, that ack joins the run of
acked offsets the next commit moves past, and the seek then starts behind the skipped records:
they are never handled. Records produced during a rebalance are exactly those, which is how a
join lost 2 of 400. Here nothing is ever acknowledged for a record the intake did not finish.

How offsets move, and why each rule:
- Each input topic has its workers ("lanes": `intake_lanes` for the firehose, one for every
  other topic, `lanes_of`), each taking batches from its own share of the topic's assigned
  partitions (`getmany(*its partitions)`): topics progress
  independently (a slow or failing topic does not hold up the others), each partition is
  handled in offset order by one task, and while one lane waits on PostgreSQL or Kafka another
  decodes (issue 16: a single lane's process was idle a third of each batch). Two lanes of a
  process are what two processes of the group are to each other: no order between partitions.
- A batch is committed (next offset per partition) only after `handle_batch` returned for all
  of it and the monitoring observations were forwarded: the inbox is durable before Kafka
  forgets a record. Records returned by `getmany` are never dropped while the member keeps the
  partition: the consumer's position is already past them, so a later commit would skip them.
- A rebalance revokes every partition first (eager protocol). The revoke callback waits for the
  batches in hand to be finished and committed before the member rejoins, so the next owner
  starts exactly after them; the rebalance timeout (`streams_rebalance_timeout_ms`) bounds the
  wait. A batch that is failing (Temporal or PostgreSQL down) is abandoned instead at its next
  failed attempt, uncommitted: the next owner gets it again, and every step is idempotent.
- SIGTERM (`stop`): no new batch is taken, the batches in hand are finished and committed (or
  abandoned if failing), then the consumer leaves the group. With static membership
  (`streams_instance_id`) it does not send LeaveGroup, by design of KIP-345: the group waits
  `streams_session_timeout_ms` for the same instance to come back before moving its partitions.
- A member that dies (SIGKILL) commits nothing more; the group moves its partitions after the
  session timeout and the next owner starts at the last commit: what the dead member handled
  since is delivered again and absorbed as duplicates (inbox, business-key workflow ids).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata

from activities.contribution_facts import AGGREGATED_TYPES
from activities.store import Origin
from contracts.kafka import client_security
from contracts.settings import Settings
from contracts.topics import TOPIC_OF_TYPE
from streams.intake import Intake, Outcome
from streams.retry import backoff, retry_until_done

# The topics whose records are kept as aggregated facts: the contribution firehose.
FIREHOSE_TOPICS = frozenset(TOPIC_OF_TYPE[t] for t in AGGREGATED_TYPES)

log = logging.getLogger("jiuye.streams")

# How long a worker waits for records before it looks at the assignment and the stop flag again.
POLL_MS = 500
# SIGTERM: how long the batches in hand may take before they are abandoned (uncommitted).
STOP_GRACE_SECONDS = 60.0

Records = list[tuple[bytes, Origin]]
# Handles one batch of records for good (what `Intake.handle_batch` and the monitoring forward
# do); raises if it could not, and is then called again with the same records.
BatchHandler = Callable[[Intake, Records], Awaitable[list[Outcome]]]


class Abandoned(Exception):
    """A failing batch given up because its partitions are being handed over or the process stops."""


class IntakeConsumer(ConsumerRebalanceListener):
    """One member of the intake's consumer group (`settings.intake_group`). `topics` are logical
    names: the member subscribes to their physical names (`settings.topics`) and hands the intake
    records whose origin names the logical topic, which is what the ledger and dead letters keep."""

    def __init__(
        self,
        settings: Settings,
        intake: Callable[[], Awaitable[Intake]],
        handle: BatchHandler,
        topics: Sequence[str],
    ):
        self.settings = settings
        self.topics = tuple(topics)
        self._names = settings.topics
        self._intake = intake
        self._handle = handle
        self._consumer: AIOKafkaConsumer | None = None
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        # Set while partitions are assigned and no rebalance is under way.
        self._assigned = asyncio.Event()
        # Set (and replaced by a fresh one) at each assignment, and at the stop.
        self._reassigned = asyncio.Event()
        # Workers (lanes) with a batch in hand (taken, not yet committed or abandoned).
        self._busy: set[str] = set()
        self._idle = asyncio.Condition()
        # Set while a rebalance or the stop waits for the batches in hand: a failing one gives up.
        self._yielding = False
        self._next: dict[TopicPartition, int] = {}  # the next offset to handle, per partition

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Join the group (retrying until Kafka answers) and start one worker per topic."""
        s = self.settings
        log.info("streams: joining consumer group %s as a %s, topics %s", s.intake_group,
                 f"static member ({s.streams_instance_id})" if s.streams_instance_id else "dynamic member",
                 ", ".join(self._names.physical(t) for t in self.topics))
        attempt = 0
        while True:
            consumer = self._consumer = self._new_consumer()
            try:
                await consumer.start()
            except KafkaError as exc:
                attempt += 1
                self._consumer = None
                await consumer.stop()
                delay = backoff(attempt)
                log.warning("streams: cannot reach Kafka yet (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)
                continue
            break
        self._workers = {
            name: asyncio.create_task(self._work(name, topic, lane, lanes), name=name)
            for topic in self.topics for lanes in [lanes_of(topic, self.settings)] for lane in range(lanes)
            for name in [f"intake.{topic}" if lanes == 1 else f"intake.{topic}#{lane}"]
        }

    def _new_consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        session = s.streams_session_timeout_ms
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.kafka_bootstrap,
            client_id=f"jiuye-streams-{s.streams_instance_id}" if s.streams_instance_id else "jiuye-streams",
            group_id=s.intake_group,
            group_instance_id=s.streams_instance_id or None,
            enable_auto_commit=False,
            # A new group reads each topic from its beginning: no event is skipped silently.
            auto_offset_reset="earliest",
            session_timeout_ms=session,
            heartbeat_interval_ms=max(1, min(3000, session // 3)),
            rebalance_timeout_ms=s.streams_rebalance_timeout_ms,
            max_poll_records=s.intake_batch_max,
            **client_security(s),
        )
        consumer.subscribe([self._names.physical(t) for t in self.topics], listener=self)
        return consumer

    async def stop(self) -> None:
        """Take no new batch, finish (or abandon, if failing) the batches in hand, leave the group."""
        self._stopping.set()
        self._yielding = True
        # A worker without a batch in hand holds nothing: it is simply cancelled (waiting for the
        # connections, an assignment or records). The others finish theirs first.
        for name, task in self._workers.items():
            if name not in self._busy:
                task.cancel()
        tasks = list(self._workers.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:  # still handling after the grace period: uncommitted, delivered again
                log.warning("streams: %s did not finish its batch in %.0f s; abandoned uncommitted",
                            task.get_name(), STOP_GRACE_SECONDS)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._workers = {}
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            await consumer.stop()  # LeaveGroup, unless a static member
            if self.settings.streams_instance_id:
                log.info("streams: stopped as static member %s of %s (no LeaveGroup: its partitions move "
                         "if it is not back within the session timeout)", self.settings.streams_instance_id,
                         self.settings.intake_group)
            else:
                log.info("streams: left consumer group %s", self.settings.intake_group)

    # --- what the process reports ----------------------------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer is not None and self._assigned.is_set() else set()

    @property
    def kafka_consumer(self) -> AIOKafkaConsumer | None:
        """The group member's aiokafka consumer now (replaced after a failure; None when stopped),
        for the consumer-lag metric, which asks the broker for end and committed offsets."""
        return self._consumer

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet handled, per assigned partition (high watermark of the last fetch minus
        the next offset to handle), keyed by logical topic; partitions not fetched yet are left out."""
        if self._consumer is None:
            return {}
        lags: dict[tuple[str, int], int] = {}
        for tp in self.assignment():
            high, next_ = self._consumer.highwater(tp), self._next.get(tp)
            if high is not None and next_ is not None:
                lags[(self._names.logical(tp.topic), tp.partition)] = max(0, high - next_)
        return lags

    async def kafka_reachable(self, timeout: float = 2.0) -> bool:
        if self._consumer is None:
            return False
        try:
            await asyncio.wait_for(self._consumer.topics(), timeout)
        except (KafkaError, OSError, TimeoutError):
            return False
        return True

    # --- the rebalance listener (aiokafka awaits these in its coordinator) ------------------------

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        revoked = set(revoked)
        self._assigned.clear()
        if not revoked:
            return
        self._yielding = True
        try:
            async with self._idle:
                await self._idle.wait_for(lambda: not self._busy)
        finally:
            self._yielding = self._stopping.is_set()
        for tp in revoked:
            self._next.pop(tp, None)
        log.info("streams: handed over %d partitions (batches in hand committed)", len(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        assigned = set(assigned)
        consumer = self._consumer
        if consumer is not None and assigned:
            for tp in assigned:
                try:
                    committed = await consumer.committed(tp)
                except KafkaError:
                    committed = None
                if committed is not None:
                    self._next[tp] = committed
        log.info("streams: assigned %d partitions: %s", len(assigned),
                 ", ".join(f"{tp.topic}/{tp.partition}" for tp in sorted(assigned)) or "none")
        self._assigned.set()
        reassigned, self._reassigned = self._reassigned, asyncio.Event()
        reassigned.set()

    # --- the workers ---------------------------------------------------------------------------

    async def _work(self, name: str, topic: str, lane: int = 0, lanes: int = 1) -> None:
        """Lane `lane` of `lanes` of `topic` (`lane_partitions`; with fewer partitions assigned
        than lanes, a lane without any waits for the next assignment)."""
        intake = await self._intake()
        consumer = self._consumer
        assert consumer is not None
        physical = self._names.physical(topic)
        batch_max = batch_max_of(topic, self.settings)
        while not self._stopping.is_set():
            await self._assigned.wait()
            if self._stopping.is_set():
                return
            mine = lane_partitions(consumer.assignment(), physical, lane, lanes)
            if not mine:
                # None of this topic's partitions here: wait for the next assignment (getmany
                # with no partitions would return every topic's records).
                await self._reassigned.wait()
                continue
            try:
                fetched = await consumer.getmany(*mine, timeout_ms=POLL_MS, max_records=batch_max)
            except KafkaError as exc:
                log.warning("streams: fetching %s failed (%s: %s); again", topic, type(exc).__name__, exc)
                await asyncio.sleep(POLL_MS / 1000)
                continue
            # Taken into hand in the same step getmany returned in: a revoke cannot slip between.
            batch = {tp: records for tp, records in fetched.items() if records}
            if not batch:
                continue
            if self._stopping.is_set():
                return  # not in hand yet: nothing is committed after this, so they come again
            self._busy.add(name)
            try:
                await self._finish(intake, batch)
            finally:
                async with self._idle:
                    self._busy.discard(name)
                    self._idle.notify_all()
            if sum(len(rs) for rs in batch.values()) < batch_max:
                # A small batch: let records gather for a moment, so a trickle is still handled
                # in batches (one round of statements each) rather than record by record.
                await asyncio.sleep(self.settings.intake_batch_within_ms / 1000)

    async def _finish(self, intake: Intake, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]) -> None:
        """Handle a batch for good, then commit it; or abandon it, uncommitted, if it fails while
        its partitions are being handed over or the process stops."""
        # A tombstone or empty record is bad input like any other: the intake dead-letters it.
        # The logical topic once per partition, not per record (a firehose batch is a thousand).
        records: Records = [
            (r.value if isinstance(r.value, bytes) else b"",
             Origin(topic=topic, partition=tp.partition, offset=r.offset, headers=_headers(r) if r.headers else ()))
            for tp, rs in batch.items() for topic in [self._names.logical(tp.topic)] for r in rs
        ]

        async def attempt() -> list[Outcome]:
            return await self._handle(intake, records)

        def give_up() -> None:
            if self._yielding:
                raise Abandoned(_span(records))

        try:
            await retry_until_done(attempt, _span(records), before_retry=give_up)
        except Abandoned:
            log.warning("streams: abandoned %s uncommitted (failing while its partitions are handed over)",
                        _span(records))
            return
        offsets = {tp: rs[-1].offset + 1 for tp, rs in batch.items()}
        await self._commit(offsets)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self._consumer is not None
        try:
            await self._consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on without us (e.g. we were too slow for the rebalance timeout):
            # the next owner gets these records again and finds them done.
            log.warning("streams: commit of %s refused (%s); the next owner redelivers them",
                        _offsets(offsets), exc)
            return
        except KafkaError as exc:
            # A later commit of the partition covers these offsets too (commits are cumulative).
            log.warning("streams: commit of %s failed (%s: %s); the next commit covers it",
                        _offsets(offsets), type(exc).__name__, exc)
            return
        self._next.update(offsets)


def lanes_of(topic: str, settings: Settings) -> int:
    """How many lanes a topic gets: `intake_lanes` for the firehose (the topics of the types kept
    as aggregated facts, `si.contributions`, whose batches are almost all decode and statements),
    one for every other topic. Measured (docs/BENCHMARKS.md, 2026-12-03): lanes raised the
    firehose's rate, but split a topic of relevant records into smaller batches contending for
    the same Temporal calls (`intake_max_in_flight`), and its intake ratio fell."""
    return settings.intake_lanes if topic in FIREHOSE_TOPICS else 1


def batch_max_of(topic: str, settings: Settings) -> int:
    """The most records a batch of `topic` takes: `intake_firehose_batch_max` for the firehose,
    whose records nearly all cost only the batch's statements and commit, `intake_batch_max` for
    every other topic (its records are applied one by one, and a larger batch only delays the
    commit). Measured (docs/BENCHMARKS.md, 2026-12-04): the filter ran at 13,873/s with batches of
    1,000 and at 16,368 – 19,274/s (three runs) with 5,000."""
    return settings.intake_firehose_batch_max if topic in FIREHOSE_TOPICS else settings.intake_batch_max


def lane_partitions(assigned: Iterable[TopicPartition], topic: str, lane: int, lanes: int) -> list[TopicPartition]:
    """Lane `lane`'s share of `topic`'s assigned partitions: in partition order, every
    `lanes`-th from the `lane`-th, so the lanes' shares are disjoint and cover the assignment."""
    return sorted((tp for tp in assigned if tp.topic == topic), key=lambda tp: tp.partition)[lane::lanes]


def _headers(record: ConsumerRecord[bytes, bytes]) -> tuple[tuple[str, bytes], ...]:
    """A record's headers (a binary-mode CloudEvent's attributes); a header without a value as b""."""
    return tuple((name, value or b"") for name, value in record.headers)


def _span(records: Records) -> str:
    """Where a batch sits in Kafka, for the logs (never the records: they may carry personal data)."""
    first, last = records[0][1], records[-1][1]
    return f"{first.topic} ({len(records)} records from {first.partition}@{first.offset} to {last.partition}@{last.offset})"


def _offsets(offsets: dict[TopicPartition, int]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}@{o}" for tp, o in sorted(offsets.items()))
