"""The console's context: the read-model pool, the Temporal client (connected on first use, so a
read works while Temporal is away), settings and the token secret. API and CLI both build one
`Console` and call the same service functions with it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Awaitable, Callable
from urllib.parse import quote

import asyncpg
from temporalio.client import Client

from console.service.errors import Unavailable
from console.service.tokens import Principal, console_secret, verify
from contracts.settings import Settings
from contracts.temporal import connect

TEMPORAL_CONNECT_TIMEOUT = 5.0

# Computes a parameter change's preview from the live store: (pool, name, value, city,
# effective_on, until) → the preview. It runs the cases' workflows offline (app/parameter_preview.py),
# above the console's layer, so the entry point that serves the console hands it in.
Previewer = Callable[[asyncpg.Pool, str, Any, str | None, date, date], Awaitable[dict[str, Any]]]


@dataclass
class Console:
    """Everything a service call needs."""

    settings: Settings
    pool: asyncpg.Pool
    client: Client | None = None
    secret: str = ""
    previewer: Previewer | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if not self.secret:
            self.secret = console_secret(self.settings)

    def authenticate(self, token: str) -> Principal:
        return verify(self.secret, token)

    async def temporal(self) -> Client:
        """The Temporal client, connecting on first use; Unavailable if it cannot."""
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await asyncio.wait_for(connect(self.settings), TEMPORAL_CONNECT_TIMEOUT)
                except Exception as exc:  # noqa: BLE001 — any connection failure means the same to a reader
                    raise Unavailable(f"Temporal at {self.settings.temporal_address} did not answer: {exc}") from None
            return self.client

    def workflow_link(self, case_id: str) -> str:
        """The case's page in the Temporal Web UI (workflow id = case id)."""
        ns = quote(self.settings.temporal_namespace, safe="")
        return f"{self.settings.temporal_ui_url}/namespaces/{ns}/workflows/{quote(case_id, safe='')}"


def plain(value: Any) -> Any:
    """JSON-friendly copy (dates and datetimes as ISO strings)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, date) or hasattr(value, "isoformat"):
        return value.isoformat()
    return value
