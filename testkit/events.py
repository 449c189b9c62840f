"""The one CloudEvent builder of every test tier and of the benchmarks (EVENTS.md's envelope)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from policy.calendar import SHANGHAI

# A date alone stands for 09:00 that day in Shanghai: office hours, as the registries send.
MORNING_HOUR = 9


def cloud_event(*, source: str, id: str, type: str, subject: str, on: date | datetime, data: dict[str, Any]) -> dict[str, Any]:
    """One CloudEvent as a JSON document. `on` is its time: a datetime as given, or a date at
    09:00 Asia/Shanghai."""
    when = on if isinstance(on, datetime) else datetime.combine(on, datetime.min.time(), SHANGHAI).replace(hour=MORNING_HOUR)
    return {
        "specversion": "1.0",
        "id": id,
        "source": source,
        "type": type,
        "subject": subject,
        "time": when.isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def line(event: Mapping[str, Any]) -> bytes:
    """One record's bytes (a JSONL line of `jiuye emit`, a Kafka value, what the intake parses)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
