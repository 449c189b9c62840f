"""Helpers of the end-to-end tests: polling asserts, the business day and a person's events (the
CloudEvent builder itself is testkit.events')."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from typing import Any, TypeVar

import asyncpg

from activities.pg_store import create_pool
from contracts.settings import get_settings
from deploy import stack
from policy.calendar import business_date
from testkit.events import cloud_event, line

T = TypeVar("T")


async def assert_eventually(check: Callable[[], Awaitable[T]], timeout: float = 60.0, interval: float = 0.25) -> T:
    """Call `check` until it stops raising AssertionError and return its result; after `timeout`
    seconds raise its last AssertionError (so the failure says what was still missing)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(interval)


@asynccontextmanager
async def fresh_pool(prefix: str, max_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a database of its own (`<prefix>_<random>`, every migration applied), dropped
    afterwards: the store tests' PostgreSQL, never the stack's default database."""
    settings = get_settings()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(await stack.fresh_database(name, settings), max_size=max_size)
    try:
        yield pool
    finally:
        await pool.close()
        await stack.drop_database(name, settings)


def business_today() -> date:
    """Today as the workflows judge it (a Shanghai calendar day, real time, no offset)."""
    return business_date(datetime.now(timezone.utc))


class Person:
    """A person unique to a test and the events about them: ids `<id>-<n>` from one `source`,
    about `person/<id>`, dated relative to `today` (the business day by default)."""

    def __init__(self, id: str, source: str, today: date | None = None):
        self.id = id
        self.source = source
        self.today = today or business_today()
        self.n = 0

    @property
    def subject(self) -> str:
        return f"person/{self.id}"

    def event(self, type_: str, on: date, data: dict[str, Any]) -> bytes:
        self.n += 1
        return line(cloud_event(source=self.source, id=f"{self.id}-{self.n}", type=type_, subject=self.subject, on=on, data=data))
