"""Observability end to end, on real processes: `jiuye streams` and `jiuye worker` started as
subprocesses on the real stack, exporting spans over OTLP/HTTP to a small OTLP receiver this test
runs on 127.0.0.1 (real export by the OpenTelemetry SDK of each process), and the worker's
/metrics, probes and Temporal SDK metrics read over HTTP as Prometheus would.

- One event's spans form one trace, from the producer's `traceparent` through the intake, the
  signal-with-start, the workflow's activity, the ledger write and the outbox publish; an event
  without one starts a new root at intake.
- The worker serves the project's metrics (a payment counted, the read model counted from
  PostgreSQL), readiness with each connection's check, and the SDK's metrics on their own port.
- SIGTERM stops the worker cleanly (exit 0, after it stopped polling and closed its connections).
"""

from __future__ import annotations

import contextlib
import gzip
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import NewTopic
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from app.emit import emit
from contracts import kinds
from contracts.codec import dev_key_file
from contracts.kafka import client_security, make_producer
from contracts.settings import Settings, settings_env
from contracts.topics import INPUT_TOPICS
from deploy import stack
from deploy.stack.postgres import drop_database
from observability.metrics import consumer_lags, exposition, set_consumer_lag
from observability.paths import LIVE_PATH, METRICS_PATH, READY_PATH
from policy import hubei
from testkit.events import cloud_event, line
from testkit.kafka import KafkaProbe
from testkit.processes import JIUYE, Process, free_port
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"
ELIGIBLE = {"graduation_year": 2020, "hukou_province": "42", "institution_province": "21"}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    trace_id: str
    span_id: str
    parent_id: str  # "" for a root
    name: str
    attributes: dict[str, Any]


@dataclass
class OtlpReceiver:
    """The OTLP/HTTP traces endpoint of a collector, reduced to keeping what it is sent."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "")
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    self.spans.append(ReceivedSpan(
                        service=service, trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(), name=span.name,
                        attributes={a.key: _value(a.value) for a in span.attributes}))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(), content_type="application/x-protobuf")

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.trace_id == trace_id]


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def ancestry(spans: list[ReceivedSpan], leaf: ReceivedSpan) -> list[ReceivedSpan]:
    """`leaf` and its parents up to the first whose parent is not among `spans`."""
    by_id = {s.span_id: s for s in spans}
    path = [leaf]
    while path[-1].parent_id in by_id:
        path.append(by_id[path[-1].parent_id])
    return path


def listing(spans: list[ReceivedSpan]) -> str:
    """The trace as an indented tree (printed by the test for the record)."""
    children: dict[str, list[ReceivedSpan]] = {}
    ids = {s.span_id for s in spans}
    for s in spans:
        children.setdefault(s.parent_id if s.parent_id in ids else "", []).append(s)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for s in children.get(parent, []):
            lines.append(f"{'  ' * depth}{s.name}  [{s.service}] span {s.span_id} parent {s.parent_id or '-'}")
            walk(s.span_id, depth + 1)

    walk("", 0)
    return "\n".join(lines)


@dataclass
class Observed:
    settings: Settings
    pool: asyncpg.Pool
    receiver: OtlpReceiver
    worker: Process
    streams: Process
    folder: Path
    tag: str

    @property
    def worker_url(self) -> str:
        return f"http://{self.settings.observability_host}:{self.settings.worker_http_port}"

    @property
    def streams_url(self) -> str:
        return f"http://{self.settings.observability_host}:{self.settings.streams_web_port}"

    async def emit(self, events: list[bytes]) -> None:
        path = self.folder / f"events-{uuid.uuid4().hex[:6]}.jsonl"
        path.write_bytes(b"".join(e + b"\n" for e in events))
        await emit(path, self.settings, progress=False)

    def application(self, person: str, *, traceparent: str | None = None, details: dict[str, Any] | None = None) -> bytes:
        on = business_today() - timedelta(days=1)
        event = cloud_event(source=f"es/{CITY}-obs", id=f"{person}-1", type="application.submitted",
                            subject=f"person/{person}", on=on,
                            data={"program": hubei.PROGRAM, "applicant": person, "on": on.isoformat(), "details": details or ELIGIBLE})
        if traceparent is not None:
            event["traceparent"] = traceparent
        return line(event)

    async def paid(self, person: str) -> None:
        async def row() -> None:
            status = await self.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", kinds.hubei_grant_case_id(person))
            assert status == "paid", f"hubei_grant/{person} is {status!r}; worker log:\n{self.worker.tail()}"

        await assert_eventually(row, timeout=120, interval=0.5)


async def ready(url: str, process: Process) -> dict[str, bool]:
    async def answer() -> dict[str, bool]:
        assert process.alive(), f"{process.name} exited; log:\n{process.tail()}"
        async with httpx.AsyncClient() as http:
            try:
                response = await http.get(url + READY_PATH, timeout=5)
            except httpx.TransportError as exc:
                raise AssertionError(f"{url} not serving yet: {exc}") from None
        assert response.status_code == 200, f"not ready: {response.status_code} {response.text}"
        return response.json()

    return await assert_eventually(answer, timeout=90, interval=0.5)


@pytest.fixture(scope="module")
async def observed(e2e_settings: Settings, kafka: KafkaProbe, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Observed]:
    """A fresh database and consumer group, the OTLP receiver, and `jiuye streams` and `jiuye
    worker` subprocesses exporting to it."""
    tag = uuid.uuid4().hex[:10]
    folder = tmp_path_factory.mktemp("observability")
    database = f"jiuye_e2e_{tag}"
    async with contextlib.AsyncExitStack() as stack_:
        stack_.push_async_callback(drop_database, database, e2e_settings)
        url = await stack.fresh_database(database, e2e_settings)
        receiver = OtlpReceiver()
        await receiver.start()
        stack_.push_async_callback(receiver.stop)
        settings = e2e_settings.model_copy(update={
            "database_url": url, "temporal_task_queue": f"e2e-{tag}", "consumer_group": f"jiuye-e2e-{tag}",
            "state_dir": folder / "state", "otel_exporter_otlp_endpoint": receiver.url,
            "worker_http_port": free_port(), "worker_sdk_metrics_port": free_port(), "streams_web_port": free_port(),
        })
        dev_key_file(settings.state_dir)  # one payload key for both processes, made before either starts
        await kafka.start_group_at_end(settings.consumer_group, INPUT_TOPICS)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        stack_.push_async_callback(pool.close)
        env = settings_env(settings)
        worker = Process("worker", [str(JIUYE), "worker"], env, folder)
        stack_.callback(worker.stop)
        streams = Process("streams", [str(JIUYE), "streams"], env, folder)
        stack_.callback(streams.stop)
        observed = Observed(settings, pool, receiver, worker, streams, folder, tag)
        await ready(observed.worker_url, worker)
        yield observed


def traceparent() -> tuple[str, str, str]:
    """A producer's W3C traceparent: (header, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


async def test_one_events_spans_join_in_one_trace_from_intake_to_the_ledger_row_and_its_publish(observed: Observed) -> None:
    person = f"OBS{observed.tag}T"
    header, trace_id, producer_span = traceparent()
    await observed.emit([observed.application(person, traceparent=header)])
    await observed.paid(person)

    expected = [
        ("outbox publish cases.lifecycle", "jiuye-worker"),
        ("ledger write", "jiuye-worker"),
        ("RunActivity:pay", "jiuye-worker"),
        ("StartActivity:pay", "jiuye-worker"),
        ("SignalWithStartWorkflow:hubei_graduate_grant", "jiuye-streams"),
        ("intake application.submitted", "jiuye-streams"),
    ]

    async def joined() -> list[ReceivedSpan]:
        # Each process exports in batches of its own (every few seconds): wait for the whole path.
        spans = observed.receiver.trace(trace_id)
        leaves = [s for s in spans if s.name == "outbox publish cases.lifecycle"
                  and s.attributes.get("cloudevents.event_type") == "case.payment"]
        assert leaves, f"no payment publish in trace {trace_id} yet; spans: {[s.name for s in spans]}"
        path = ancestry(spans, leaves[0])
        assert [(s.name, s.service) for s in path] == expected, listing(spans)
        return path

    path = await assert_eventually(joined, timeout=60, interval=0.5)
    leaf = path[0]
    spans = observed.receiver.trace(trace_id)
    print(f"trace {trace_id}:\n{listing(spans)}")
    intake = path[-1]
    assert intake.parent_id == producer_span, "the intake span continues the event's traceparent"
    assert intake.attributes["cloudevents.event_id"] == f"{person}-1"
    assert intake.attributes["jiuye.outcome"] == "applied"
    ledger = path[1]
    assert ledger.attributes["jiuye.case_id"] == kinds.hubei_grant_case_id(person) and ledger.attributes["jiuye.inserted"] is True
    row = await observed.pool.fetchrow("SELECT amount_fen, fund FROM ledger WHERE case_id = $1", kinds.hubei_grant_case_id(person))
    assert row is not None and ledger.attributes["jiuye.amount_fen"] == row["amount_fen"]
    assert ledger.attributes["jiuye.fund"] == row["fund"]
    # The workflow's own span is in the same trace, under the signal-with-start.
    run = [s for s in spans if s.name == "RunWorkflow:hubei_graduate_grant"]
    assert len(run) == 1 and run[0].parent_id == path[4].span_id

    # The published lifecycle event carries the context on (CloudEvents' traceparent).
    value = await observed.pool.fetchval(
        "SELECT value FROM outbox WHERE key = $1 AND value->>'type' = 'case.payment'", kinds.hubei_grant_case_id(person))
    assert f"-{trace_id}-{leaf.parent_id}-" in value


async def test_an_event_without_a_traceparent_starts_a_new_trace_at_intake(observed: Observed) -> None:
    person = f"OBS{observed.tag}R"
    await observed.emit([observed.application(person)])
    await observed.paid(person)

    async def root() -> ReceivedSpan:
        found = [s for s in observed.receiver.spans
                 if s.name == "intake application.submitted" and s.attributes.get("cloudevents.event_id") == f"{person}-1"]
        assert found, "no intake span for the event yet"
        return found[0]

    intake = await assert_eventually(root, timeout=60, interval=0.5)
    assert intake.parent_id == "", "an event without traceparent is a new root"

    async def ledger_in_trace() -> None:
        names = {s.name for s in observed.receiver.trace(intake.trace_id)}
        assert {"SignalWithStartWorkflow:hubei_graduate_grant", "RunActivity:pay", "ledger write"} <= names, names

    await assert_eventually(ledger_in_trace, timeout=60, interval=0.5)


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format, or None."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for match in re.finditer(rf"^{re.escape(name)}(?:\{{(.*?)\}})? (\S+)$", text, re.M):
        have = ",".join(sorted(match.group(1).split(","))) if match.group(1) else ""
        if have == want:
            return float(match.group(2))
    return None


async def test_the_worker_serves_its_metrics_probes_and_the_sdk_metrics(observed: Observed) -> None:
    url = observed.worker_url
    checks = await ready(url, observed.worker)
    assert checks == {"temporal": True, "postgresql": True, "kafka": True, "polling": True}
    async with httpx.AsyncClient(base_url=url) as http:
        live = await http.get(LIVE_PATH)
        assert live.status_code == 200
        before = (await http.get(METRICS_PATH)).text
    labels = {"kind": "hubei_graduate_grant", "fund": "employment_subsidy_fund"}
    paid_before = sample(before, "jiuye_payments_total", **labels) or 0.0

    person = f"OBS{observed.tag}M"
    # A paid case listens for late facts after it closed (its run goes on); a rejected one
    # completes at once, so the SDK's completion counter is served too. Its person is one no
    # other test of this module uses: the same event id would be taken as a duplicate.
    rejected = f"OBS{observed.tag}J"
    await observed.emit([observed.application(person), observed.application(rejected, details={**ELIGIBLE, "hukou_province": "41"})])
    await observed.paid(person)
    amount = await observed.pool.fetchval("SELECT amount_fen FROM ledger WHERE case_id = $1", kinds.hubei_grant_case_id(person))

    async def counted() -> str:
        async with httpx.AsyncClient(base_url=url) as http:
            response = await http.get(METRICS_PATH)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert sample(text, "jiuye_payments_total", **labels) == paid_before + 1, "the payment is not counted yet"
        # The read model, counted in PostgreSQL (every 15 s): no case of this database is open,
        # since each K11 case closes paid, and the outbox is drained by the relay.
        assert sample(text, "jiuye_read_model_up") == 1.0
        assert sample(text, "jiuye_outbox_backlog") == 0.0, "outbox not yet drained or not yet counted"
        assert sample(text, "jiuye_open_tasks") == 0.0
        assert (sample(text, "jiuye_outbox_published_total", topic="cases.lifecycle") or 0) >= 2
        return text

    text = await assert_eventually(counted, timeout=60, interval=1.0)
    assert sample(text, "jiuye_payments_fen_total", **labels) is not None
    assert (sample(text, "jiuye_payments_fen_total", **labels) or 0) >= amount
    print("\n".join(line for line in text.splitlines() if line.startswith("jiuye_")))

    async def sdk_served() -> None:
        # The rejected case's run completes once the worker has handled it; the SDK counts it then.
        async with httpx.AsyncClient() as http:
            sdk = await http.get(f"http://{observed.settings.observability_host}:{observed.settings.worker_sdk_metrics_port}/metrics")
        assert sdk.status_code == 200
        assert re.search(r"^temporal_\w+", sdk.text, re.M), sdk.text[:500]
        assert 'task_queue="' + observed.settings.temporal_task_queue + '"' in sdk.text
        # The names docs/OBSERVABILITY.md and the Grafana dashboard use, once workflows and activities ran.
        for name in ("temporal_workflow_task_schedule_to_start_latency_seconds_bucket",
                     "temporal_workflow_task_execution_latency_seconds_bucket", "temporal_worker_task_slots_available",
                     "temporal_sticky_cache_size", "temporal_workflow_completed_total"):
            assert re.search(rf"^{name}\b", sdk.text, re.M), f"{name} not served; served: " + \
                ", ".join(sorted({m.group(1) for m in re.finditer(r"^# TYPE (\S+)", sdk.text, re.M)}))

    await assert_eventually(sdk_served, timeout=60, interval=1.0)


async def test_the_streams_process_serves_its_probes_intake_counts_and_consumer_lag(observed: Observed) -> None:
    """`jiuye streams` on its own port: ready once PostgreSQL, Temporal and Kafka answer and the
    group gave it partitions; its metrics count the records it took by topic and outcome, and the
    consumer lag per partition it holds (end − committed) comes down to 0."""
    checks = await ready(observed.streams_url, observed.streams)
    assert checks == {"postgres": True, "temporal": True, "kafka": True, "partitions_assigned": True}
    person = f"OBS{observed.tag}S"
    await observed.emit([observed.application(person)])
    await observed.paid(person)

    async def counted() -> str:
        async with httpx.AsyncClient(base_url=observed.streams_url) as http:
            assert (await http.get(LIVE_PATH)).status_code == 200
            text = (await http.get(METRICS_PATH)).text
        assert (sample(text, "jiuye_intake_records_total", topic="employment.service", outcome="applied") or 0) >= 1, \
            "the application is not counted yet"
        lags = [float(m.group(1)) for m in re.finditer(
            r'^jiuye_consumer_lag\{partition="\d+",topic="employment\.service"\} (\S+)$', text, re.M)]
        assert lags and all(lag == 0.0 for lag in lags), f"consumer lag of employment.service: {lags}"
        return text

    text = await assert_eventually(counted, timeout=90, interval=1.0)
    print("\n".join(line for line in text.splitlines() if line.startswith(("jiuye_intake", "jiuye_consumer_lag"))))


async def test_the_api_is_ready_when_postgresql_answers(observed: Observed) -> None:
    from console.api.app import create_app
    from console.service import Console

    settings = observed.settings.model_copy(update={"console_secret": "e2e-secret"})
    app = create_app(settings, Console(settings=settings, pool=observed.pool, secret="e2e-secret"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as http:
        ready = await http.get(READY_PATH)
    assert (ready.status_code, ready.json()) == (200, {"postgresql": True})


async def test_a_case_left_open_is_counted_by_kind_and_status(observed: Observed) -> None:
    """The read model is counted from PostgreSQL, whoever wrote it: a row open in `cases` shows in
    jiuye_open_cases on the next count."""
    await observed.pool.execute(
        """INSERT INTO cases (case_id, kind, subject, city, status, opened_on, summary, version)
           VALUES ($1, 'unemployment_insurance', $2, $3, 'active', current_date, '{}'::jsonb, 1)""",
        f"ui/OBS{observed.tag}/open", f"person/OBS{observed.tag}", CITY)

    async def counted() -> None:
        async with httpx.AsyncClient() as http:
            text = (await http.get(observed.worker_url + METRICS_PATH)).text
        assert sample(text, "jiuye_open_cases", kind="unemployment_insurance", status="active") == 1.0, \
            "the open case is not counted yet"

    await assert_eventually(counted, timeout=60, interval=1.0)


async def test_consumer_lag_is_end_minus_committed_for_the_partitions_a_consumer_holds(
        e2e_settings: Settings, kafka: KafkaProbe) -> None:
    """On a topic of its own (created and deleted here), with a group that committed some of it."""
    topic, group = f"jiuye-e2e-lag-{uuid.uuid4().hex[:8]}", f"jiuye-e2e-lag-{uuid.uuid4().hex[:8]}"
    await kafka.admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    producer = make_producer(e2e_settings)
    consumer = AIOKafkaConsumer(bootstrap_servers=e2e_settings.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False, **client_security(e2e_settings))
    await producer.start()
    await consumer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(topic, b"x", partition=0)
        for _ in range(3):
            await producer.send_and_wait(topic, b"y", partition=1)
        p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
        consumer.assign([p0, p1])
        await consumer.commit({p0: 2})  # p1: nothing committed yet
        assert await consumer_lags(consumer) == {(topic, 0): 3, (topic, 1): 3}
        set_consumer_lag(await consumer_lags(consumer))
        assert "jiuye_consumer_lag{partition=\"0\",topic=\"" + topic + "\"} 3.0" in exposition()[0].decode()
        consumer.assign([p1])  # p0 went to another member
        set_consumer_lag(await consumer_lags(consumer))
        assert "jiuye_consumer_lag{partition=\"0\",topic=\"" + topic + "\"}" not in exposition()[0].decode()
    finally:
        set_consumer_lag({})
        await consumer.stop()
        await producer.stop()
        await kafka.admin.delete_topics([topic])


async def test_sigterm_stops_the_worker_cleanly(observed: Observed) -> None:
    """Last in the module (it stops the module's worker): SIGTERM ends the worker with exit 0,
    after it finished its activities and closed its connections and its HTTP server."""
    process = observed.worker
    assert process.alive()
    process.popen.send_signal(15)

    async def ended() -> int:
        code = process.popen.poll()
        assert code is not None, "worker still stopping"
        return code

    assert await assert_eventually(ended, timeout=90, interval=0.5) == 0, process.tail()
    log = process.log.read_text(errors="replace")
    assert "worker: stopping; finishing the activities in hand" in log and "worker: stopped" in log
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.TransportError):
            await http.get(observed.worker_url + LIVE_PATH, timeout=5)
