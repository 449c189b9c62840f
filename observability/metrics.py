"""The project's Prometheus metrics: one home for every name (prefixed `jiuye_`), in
prometheus_client's default registry, which every process serves on METRICS_PATH.
docs/OBSERVABILITY.md says what each one means and what to alert on.

Counters and histograms count what *this* process did (Prometheus sums them over processes).
The read-model gauges (open cases, open tasks, outbox backlog) are counted in PostgreSQL by
`ReadModelCollector`, which every worker runs and serves: any one worker's value is the whole
cluster's, so dashboards take `max` over instances, never `sum`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# No `<counter>_created` series beside every counter: Prometheus does not need them, and they
# double what a scrape carries.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves this one unannotated

# -- intake (the streams process) -----------------------------------------------------------
INTAKE_RECORDS = Counter(
    "jiuye_intake_records", "Input records handled, by topic and outcome "
    "(applied, duplicate, ignored, late, dead_letter)", ["topic", "outcome"])
INTAKE_BATCH_SECONDS = Histogram(
    "jiuye_intake_batch_seconds", "Time to handle one batch of records (parse to inbox done)", ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
CONSUMER_LAG = Gauge(
    "jiuye_consumer_lag", "Records of a partition not yet committed by this process's consumer "
    "(end offset - committed offset), for the partitions assigned to it", ["topic", "partition"])
DEAD_LETTERS = Counter(
    "jiuye_dead_letters", "Records sent to the dead letters, by input topic and reason: invalid (not a "
    "valid event of EVENTS.md) or rejected (valid, refused by routing)", ["topic", "reason"])
HTTP_INTAKE_EVENTS = Counter(
    "jiuye_http_intake_events", "Events posted to the HTTP intake, by CloudEvents HTTP mode (structured, binary, "
    "batch) and outcome (accepted, dead_letter, forbidden)", ["mode", "outcome"])

# -- cases (the worker) ---------------------------------------------------------------------
PAYMENTS = Counter("jiuye_payments", "Ledger rows written, by case kind and fund", ["kind", "fund"])
PAYMENTS_FEN = Counter("jiuye_payments_fen", "Fen paid into the ledger, by case kind and fund", ["kind", "fund"])
OUTBOX_PUBLISHED = Counter("jiuye_outbox_published", "Outbox rows published to Kafka, by topic", ["topic"])

DEAD_LETTER_INVALID = "invalid"
DEAD_LETTER_REJECTED = "rejected"


def exposition() -> tuple[bytes, str]:
    """The default registry in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def observe_batch(outcomes: Iterable[tuple[str | None, str, bool]], seconds: float) -> None:
    """A batch the intake finished: `(topic, outcome, parsed)` per record, where `parsed` says a
    dead letter was a valid event refused by routing rather than an invalid record. Counted once
    per label set; the duration once per topic of the batch (one topic in the streams process)."""
    records: Tally[tuple[str, str]] = Tally()
    dead: Tally[tuple[str, str]] = Tally()
    for topic, outcome, parsed in outcomes:
        records[(topic or "", outcome)] += 1
        if outcome == "dead_letter":
            dead[(topic or "", DEAD_LETTER_REJECTED if parsed else DEAD_LETTER_INVALID)] += 1
    for (topic, outcome), n in records.items():
        INTAKE_RECORDS.labels(topic=topic, outcome=outcome).inc(n)
    for (topic, reason), n in dead.items():
        DEAD_LETTERS.labels(topic=topic, reason=reason).inc(n)
    for topic in {t for t, _ in records}:
        INTAKE_BATCH_SECONDS.labels(topic=topic).observe(seconds)


def count_payment(kind: str, fund: str, amount_fen: int) -> None:
    PAYMENTS.labels(kind=kind, fund=fund).inc()
    PAYMENTS_FEN.labels(kind=kind, fund=fund).inc(amount_fen)


def set_consumer_lag(lags: Mapping[tuple[str, int], int]) -> None:
    """Replace CONSUMER_LAG with `{(topic, partition): lag}` for the partitions assigned now, so a
    partition handed to another member stops being reported here."""
    CONSUMER_LAG.clear()
    for (topic, partition), lag in lags.items():
        CONSUMER_LAG.labels(topic=topic, partition=str(partition)).set(max(lag, 0))


async def consumer_lags(consumer: Any) -> dict[tuple[str, int], int]:
    """{(topic, partition): end - committed} for an aiokafka consumer's current assignment (one
    request for the end offsets, then the group's committed offset of each partition; a
    partition with nothing committed counts from 0)."""
    assigned = list(consumer.assignment())
    if not assigned:
        return {}
    ends = await consumer.end_offsets(assigned)
    lags: dict[tuple[str, int], int] = {}
    for tp in assigned:
        committed = await consumer.committed(tp)
        lags[(tp.topic, tp.partition)] = ends[tp] - (committed or 0)
    return lags


CONSUMER_LAG_INTERVAL_SECONDS = 15.0


async def report_consumer_lag(
    consumer_of: Callable[[], Any | None], stop: asyncio.Event, interval: float = CONSUMER_LAG_INTERVAL_SECONDS,
    *, logical: Callable[[str], str] = str,
) -> None:
    """Refresh CONSUMER_LAG every `interval` seconds until `stop` is set, from the aiokafka consumer
    `consumer_of()` returns now (the streams process replaces its consumer after a failure; None:
    no member, nothing assigned); a failed refresh keeps the last values. Labelled with the
    `logical` name of each topic (the deployment's prefix off), as every intake metric is."""
    while not stop.is_set():
        try:
            consumer = consumer_of()
            lags = await consumer_lags(consumer) if consumer is not None else {}
            set_consumer_lag({(logical(topic), partition): lag for (topic, partition), lag in lags.items()})
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broker hiccup must not end the intake
            log.info("consumer lag: %s: %s", type(exc).__name__, exc)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass


def sdk_metrics_runtime(host: str, port: int) -> Any:
    """A Temporal Runtime serving the SDK's own metrics (workflow and activity task latencies,
    slots, sticky cache, poller counts) in Prometheus format on host:port/metrics; None when
    port is 0 (the default runtime, no SDK metrics). One per process: the port is bound on
    creation, and clients connected with it report through it."""
    if not port:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
        bind_address=f"{host}:{port}", counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True)))


# -- the read-model collector -----------------------------------------------------------------
READ_MODEL_INTERVAL_SECONDS = 15.0

_OPEN_CASES_SQL = "SELECT kind, status, count(*) AS n FROM cases WHERE closed_on IS NULL GROUP BY kind, status"
_OPEN_TASKS_SQL = "SELECT count(*) FROM tasks WHERE state = 'open'"
# Both through the partial index outbox_unpublished.
_OUTBOX_BACKLOG_SQL = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
_OUTBOX_OLDEST_SQL = """SELECT coalesce(extract(epoch FROM now() - created_at), 0) FROM outbox
                         WHERE published_at IS NULL ORDER BY seq LIMIT 1"""


class ReadModelCollector:
    """Counts the read model in PostgreSQL every `interval` seconds and serves the last count
    (a prometheus_client collector, registered while `run` runs, so only workers expose these):
    jiuye_open_cases{kind,status}, jiuye_open_tasks, jiuye_outbox_backlog,
    jiuye_outbox_oldest_seconds, and jiuye_read_model_up (0 after a failed count)."""

    def __init__(self, pool: Any, interval: float = READ_MODEL_INTERVAL_SECONDS):
        self.pool = pool
        self.interval = interval
        self._cases: list[tuple[str, str, int]] = []
        self._tasks = self._backlog = 0
        self._oldest = 0.0
        self._up = False

    async def refresh(self) -> None:
        async with self.pool.acquire() as conn:
            cases = await conn.fetch(_OPEN_CASES_SQL)
            tasks = await conn.fetchval(_OPEN_TASKS_SQL)
            backlog = await conn.fetchval(_OUTBOX_BACKLOG_SQL)
            oldest = await conn.fetchval(_OUTBOX_OLDEST_SQL)
        self._cases = [(r["kind"], r["status"], int(r["n"])) for r in cases]
        self._tasks, self._backlog, self._oldest = int(tasks), int(backlog), float(oldest or 0)
        self._up = True

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("jiuye_read_model_up", "1 if the last count of the read model succeeded, else 0")
        up.add_metric([], 1 if self._up else 0)
        yield up
        cases = GaugeMetricFamily("jiuye_open_cases", "Open cases by kind and status (cluster-wide)",
                                  labels=["kind", "status"])
        for kind, status, n in self._cases:
            cases.add_metric([kind, status], n)
        yield cases
        yield GaugeMetricFamily("jiuye_open_tasks", "Open supervisor tasks (cluster-wide)", value=self._tasks)
        yield GaugeMetricFamily("jiuye_outbox_backlog", "Outbox rows not yet published to Kafka (cluster-wide)",
                                value=self._backlog)
        yield GaugeMetricFamily("jiuye_outbox_oldest_seconds",
                                "Age of the oldest unpublished outbox row, 0 when none (cluster-wide)", value=self._oldest)

    async def run(self, stop: asyncio.Event) -> None:
        """Count until `stop` is set; a failed count is logged and reported as down."""
        REGISTRY.register(self)
        try:
            while not stop.is_set():
                try:
                    await self.refresh()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a database hiccup must not end the worker
                    self._up = False
                    log.warning("read-model metrics: %s: %s", type(exc).__name__, exc)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.interval)
                except TimeoutError:
                    pass
        finally:
            REGISTRY.unregister(self)
