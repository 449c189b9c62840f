"""OpenTelemetry traces: one event's path from intake to the ledger row and the outbox publish.

    intake <type>                       (streams; parent: the event's `traceparent`, else a new root)
      SignalWithStartWorkflow:<kind>    (Temporal's TracingInterceptor on the client)
        RunWorkflow:<kind>              (worker, the same interceptor; workflow spans end at once)
          StartActivity:pay → RunActivity:pay
            ledger write                (activities/pg_store.py, around the ledger transaction)
              outbox publish <topic>    (the outbox relay, from the row's `traceparent`)

The CloudEvents distributed-tracing extension carries the context across Kafka both ways: an
input event's `traceparent` attribute is the intake span's parent, and every outbox row written
inside a span gets the span's `traceparent`, which the relay continues and consumers of
cases.lifecycle may continue too.

Tracing is on only when `otel_exporter_otlp_endpoint` is set: `configure_tracing` then installs
an SDK TracerProvider exporting over OTLP/HTTP, and `client_interceptors` adds Temporal's
TracingInterceptor. Unset, nothing is created, propagated, added to events, or exported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

TRACER_NAME = "jiuye"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACES_PATH = "/v1/traces"  # OTLP/HTTP's path for traces under the collector's base URL

_PROPAGATOR = TraceContextTextMapPropagator()
_provider: Any = None  # the SDK TracerProvider once configure_tracing installed one


def enabled() -> bool:
    """True once this process exports spans (configure_tracing with an endpoint)."""
    return _provider is not None


def traces_url(endpoint: str) -> str:
    """The traces URL for an OTLP/HTTP endpoint given as the collector's base URL (as
    OTEL_EXPORTER_OTLP_ENDPOINT is) or already as the traces URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def configure_tracing(settings: Any, service: str) -> Any:
    """Install a TracerProvider exporting to `settings.otel_exporter_otlp_endpoint` (batched, in a
    background thread) under the service name `settings.otel_service_name` or `jiuye-<service>`;
    None and nothing installed when no endpoint is set. Call once per process, before connecting
    to Temporal; `shutdown_tracing` flushes what is left at exit."""
    global _provider
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint:
        return None
    if _provider is not None:
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = settings.otel_service_name or f"jiuye-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    trace.set_tracer_provider(provider)
    _provider = provider
    log.info("tracing: %s exports spans to %s", name, traces_url(endpoint))
    return provider


def shutdown_tracing() -> None:
    """Export the spans still queued, then stop (a no-op when tracing is off)."""
    if _provider is not None:
        _provider.shutdown()


def client_interceptors(settings: Any) -> list[Any]:
    """Temporal's TracingInterceptor when tracing is configured, else none. On the client it also
    serves every worker built on that client, so workflow and activity spans join the caller's."""
    if not settings.otel_exporter_otlp_endpoint:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(trace.get_tracer(TRACER_NAME))]


def _tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def context_of(carrier: Mapping[str, Any]) -> otel_context.Context | None:
    """The context a `traceparent` (and `tracestate`) in `carrier` names; None if absent or invalid."""
    values = {k: carrier[k] for k in (TRACEPARENT, TRACESTATE) if isinstance(carrier.get(k), str)}
    if TRACEPARENT not in values:
        return None
    ctx = _PROPAGATOR.extract(values)
    return ctx if trace.get_current_span(ctx).get_span_context().is_valid else None


@contextmanager
def intake_span(event: Any, topic: str | None, partition: int | None, offset: int | None) -> Iterator[Span | None]:
    """The span of one input event at intake, current inside the block: a child of the event's
    `traceparent`, or a new root. Nothing when tracing is off."""
    if not enabled():
        yield None
        return
    carrier = {TRACEPARENT: getattr(event, "traceparent", None), TRACESTATE: getattr(event, "tracestate", None)}
    parent = context_of(carrier)
    attributes = {
        "cloudevents.event_id": event.id, "cloudevents.event_source": event.source,
        "cloudevents.event_type": event.type, "cloudevents.event_subject": event.subject,
        "messaging.system": "kafka", "messaging.destination.name": topic,
        "messaging.destination.partition.id": None if partition is None else str(partition),
        "messaging.kafka.offset": offset,
    }
    attributes = {k: v for k, v in attributes.items() if v is not None}
    with _tracer().start_as_current_span(f"intake {event.type}", context=parent, kind=SpanKind.CONSUMER,
                                         attributes=attributes) as span:
        yield span


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span | None]:
    """An internal span, current inside the block (a child of the current one); nothing when off."""
    if not enabled():
        yield None
        return
    with _tracer().start_as_current_span(name, attributes={k: v for k, v in attributes.items() if v is not None}) as s:
        yield s


def with_traceparent(value: dict[str, Any]) -> dict[str, Any]:
    """`value` (a CloudEvent as a dict) with the current span's `traceparent` (and `tracestate`)
    added as CloudEvents extension attributes; unchanged when tracing is off or no span is current."""
    if not enabled() or TRACEPARENT in value or not trace.get_current_span().get_span_context().is_valid:
        return value
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return {**value, **carrier} if TRACEPARENT in carrier else value


def start_publish_span(topic: str, value: Any) -> Span | None:
    """A producer span for publishing an outbox row, continuing the row's `traceparent`; the
    caller ends it. None when tracing is off or the row carries no context."""
    if not enabled() or not isinstance(value, Mapping):
        return None
    parent = context_of(value)
    if parent is None:
        return None
    return _tracer().start_span(
        f"outbox publish {topic}", context=parent, kind=SpanKind.PRODUCER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic,
                    "cloudevents.event_id": str(value.get("id")), "cloudevents.event_type": str(value.get("type"))},
    )


def end_span(s: Span | None, error: BaseException | None = None) -> None:
    if s is None:
        return
    if error is not None:
        s.record_exception(error)
        s.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
    s.end()
