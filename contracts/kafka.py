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


def _ssl_context(protocol: str, settings: Settings) -> ssl.SSLContext | None:
    """For SSL/SASL_SSL: verifies the brokers against JIUYE_KAFKA_SSL_CA_FILE (else the system's
    CA bundle) and presents the client certificate JIUYE_KAFKA_SSL_CERT_FILE/_KEY_FILE if set."""
    if protocol not in ("SSL", "SASL_SSL"):
        return None
    cert, key = settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file
    if (cert is None) != (key is None):
        raise ValueError("a Kafka client certificate needs both JIUYE_KAFKA_SSL_CERT_FILE and JIUYE_KAFKA_SSL_KEY_FILE")
    password = settings.kafka_ssl_key_password
    return create_ssl_context(
        cafile=settings.kafka_ssl_ca_file, certfile=cert, keyfile=key,
        password=password.get_secret_value() if password is not None else None,
    )


def client_security(settings: Settings) -> dict[str, object]:
    """The aiokafka keyword arguments for security (producers, consumers, admin clients)."""
    protocol = _protocol(settings)
    options: dict[str, object] = {"security_protocol": protocol, "ssl_context": _ssl_context(protocol, settings)}
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
    return AIOKafkaProducer(**options)


def faust_broker_credentials(settings: Settings) -> object | None:
    """`broker_credentials` for the faust app: None for PLAINTEXT, else SSL or SASL credentials."""
    import faust

    protocol = _protocol(settings)
    context = _ssl_context(protocol, settings)
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
