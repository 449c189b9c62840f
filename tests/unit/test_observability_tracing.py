"""Tracing's switches and carriers (observability/tracing.py). With no OTLP endpoint, tracing is
off: nothing is created, propagated or added to events. (Spans exported for real, joined across
the streams and worker processes, are tests/e2e/test_observability_e2e.py; this process never
installs a tracer provider, so the rest of the suite runs with tracing off.)"""

from __future__ import annotations

import json
from datetime import datetime

from temporalio.contrib.opentelemetry import TracingInterceptor

from contracts.events import parse_event
from contracts.settings import Settings
from observability import tracing
from policy.calendar import SHANGHAI
from testkit.events import cloud_event

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
EVENT = cloud_event(id="f-1", source="es/2101", type="followup.recorded", subject="person/P1",
                    on=datetime(2020, 5, 3, 10, tzinfo=SHANGHAI), data={"person_id": "P1", "on": "2020-05-03", "channel": "phone"})


def test_the_traces_url_is_the_base_endpoint_plus_the_otlp_traces_path() -> None:
    assert tracing.traces_url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert tracing.traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"


def test_a_traceparent_is_read_from_a_cloudevent_and_a_malformed_one_never_refuses_the_event() -> None:
    assert parse_event(json.dumps({**EVENT, "traceparent": TRACEPARENT}).encode()).traceparent == TRACEPARENT
    assert parse_event(json.dumps(EVENT).encode()).traceparent is None
    for bad in (17, "", ["x"], "z" * 600):
        assert parse_event(json.dumps({**EVENT, "traceparent": bad}).encode()).traceparent is None
    # A string that is no W3C traceparent names no context: the intake starts a new root.
    assert tracing.context_of({"traceparent": "not-a-traceparent"}) is None
    assert tracing.context_of({}) is None
    ctx = tracing.context_of({"traceparent": TRACEPARENT})
    assert ctx is not None
    from opentelemetry import trace

    span_context = trace.get_current_span(ctx).get_span_context()
    assert (format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")) == (
        "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331")


def test_without_an_endpoint_tracing_is_off_and_changes_nothing() -> None:
    settings = Settings(otel_exporter_otlp_endpoint=None)
    assert tracing.configure_tracing(settings, "test") is None
    assert not tracing.enabled()
    assert tracing.client_interceptors(settings) == []
    event = parse_event(json.dumps({**EVENT, "traceparent": TRACEPARENT}).encode())
    with tracing.intake_span(event, "employment.service", 0, 1) as span:
        assert span is None
        value = {"id": "c:v1", "type": "case.opened"}
        assert tracing.with_traceparent(value) is value
    assert tracing.start_publish_span("cases.lifecycle", {"id": "x", "traceparent": TRACEPARENT}) is None
    with tracing.span("ledger write", case_id="c") as span:
        assert span is None


def test_with_an_endpoint_temporal_clients_get_the_tracing_interceptor() -> None:
    interceptors = tracing.client_interceptors(Settings(otel_exporter_otlp_endpoint="http://127.0.0.1:4318"))
    assert [type(i) for i in interceptors] == [TracingInterceptor]
