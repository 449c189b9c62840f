"""How every component talks to Temporal: one data converter (pydantic, so dates and models
cross the boundary typed, and — when payload keys are configured — encrypted by
`contracts.codec.EncryptionCodec`) and one way to connect (address, namespace, TLS/mTLS, API key).

`DATA_CONVERTER` is the plain converter: for Temporal's in-memory time-skipping server (tests,
`jiuye simulate`, recording replay histories), where nothing is stored. Everything that talks to
a real server connects through `connect`, which uses `data_converter(settings)`.
"""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from contracts.codec import codec_from_settings
from contracts.settings import Settings
from observability.tracing import client_interceptors

DATA_CONVERTER = pydantic_data_converter


def data_converter(settings: Settings) -> DataConverter:
    """The pydantic converter, with the payload encryption codec when the settings enable it."""
    codec = codec_from_settings(settings)
    return dataclasses.replace(DATA_CONVERTER, payload_codec=codec) if codec is not None else DATA_CONVERTER


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect(tls=...)` gets: a TLSConfig when a CA, client certificate or server
    name is configured (mTLS needs both certificate and key), else the plain JIUYE_TEMPORAL_TLS
    switch (True = TLS with the system's roots)."""
    ca, cert, key = settings.temporal_tls_ca_file, settings.temporal_tls_cert_file, settings.temporal_tls_key_file
    if (cert is None) != (key is None):
        raise ValueError("Temporal mTLS needs both JIUYE_TEMPORAL_TLS_CERT_FILE and JIUYE_TEMPORAL_TLS_KEY_FILE")
    if ca is None and cert is None and settings.temporal_tls_server_name is None:
        return settings.temporal_tls
    return TLSConfig(
        server_root_ca_cert=ca.read_bytes() if ca is not None else None,
        client_cert=cert.read_bytes() if cert is not None else None,
        client_private_key=key.read_bytes() if key is not None else None,
        domain=settings.temporal_tls_server_name,
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client for the configured Temporal address, namespace, TLS and API key, encrypting
    payloads when keys are configured (see docs/SECURITY.md), with Temporal's tracing
    interceptor when tracing is configured (observability/tracing.py; workers built on the
    client inherit it). `runtime`: the worker's, which serves the SDK's metrics."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        interceptors=client_interceptors(settings),
        runtime=runtime,
    )
