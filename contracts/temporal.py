"""How every component talks to Temporal: one data converter (pydantic, so dates and models
cross the boundary typed) and one way to connect."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from contracts.settings import Settings

DATA_CONVERTER = pydantic_data_converter


async def connect(settings: Settings) -> Client:
    """A client for the configured Temporal address, namespace, TLS and API key."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
        tls=settings.temporal_tls,
        api_key=settings.temporal_api_key,
    )
