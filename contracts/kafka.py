"""How every component talks to Kafka: one producer configuration and one set of credentials,
both from `Settings` (PLAINTEXT locally; SSL / SASL against a managed cluster)."""

from __future__ import annotations

import ssl

from aiokafka import AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from contracts.settings import Settings

_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


def _protocol(settings: Settings) -> str:
    protocol = settings.kafka_security_protocol.upper()
    if protocol not in _PROTOCOLS:
        raise ValueError(f"JIUYE_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(_PROTOCOLS)}, got {protocol!r}")
    return protocol


def _ssl_context(protocol: str) -> ssl.SSLContext | None:
    # The system's CA bundle verifies the brokers; a private CA goes into it, not into code.
    return create_ssl_context() if protocol in ("SSL", "SASL_SSL") else None


def client_security(settings: Settings) -> dict[str, object]:
    """The aiokafka keyword arguments for security (producers, consumers, admin clients)."""
    protocol = _protocol(settings)
    options: dict[str, object] = {"security_protocol": protocol, "ssl_context": _ssl_context(protocol)}
    if protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism or "PLAIN",
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options


def make_producer(settings: Settings, **overrides: object) -> AIOKafkaProducer:
    """A producer that loses nothing the broker acknowledged: every in-sync replica must have
    the record (acks="all") and retries never duplicate or reorder it (idempotence).

    Call it inside a running event loop and `await producer.start()` before use.
    """
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": "jiuye",
        "acks": "all",
        "enable_idempotence": True,
        # A few milliseconds of batching costs nothing in latency that matters here and turns
        # a burst (a relay batch, `jiuye emit`) into a handful of requests.
        "linger_ms": 5,
        **client_security(settings),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)  # type: ignore[arg-type]


def faust_broker_credentials(settings: Settings) -> object | None:
    """`broker_credentials` for the faust app: None for PLAINTEXT, else SSL or SASL credentials."""
    import faust

    protocol = _protocol(settings)
    context = _ssl_context(protocol)
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials switches itself to SASL_SSL when it is given a context.
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password,
        ssl_context=context,
        mechanism=settings.kafka_sasl_mechanism or "PLAIN",
    )
