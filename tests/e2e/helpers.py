"""Helpers of the end-to-end tests: polling asserts and CloudEvent builders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from policy.calendar import SHANGHAI, business_date

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


def business_today() -> date:
    """Today as the workflows judge it (a Shanghai calendar day, real time, no offset)."""
    return business_date(datetime.now(timezone.utc))


def cloud_event(*, source: str, id: str, type: str, subject: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "subject": subject,
        "time": datetime.combine(on, datetime.min.time(), SHANGHAI).replace(hour=9).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def line(event: dict[str, Any]) -> bytes:
    """One JSONL line's bytes, as `jiuye emit` sends them."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
