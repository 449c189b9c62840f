"""Which inbox records the live preview's rebuild takes (app/live_events.py `events_seen`), on a
real PostgreSQL (a fresh, migrated database): an event the intake's outcome says a reached case
took is found whatever its subject; an outcome naming another case, even one whose id the
reached one's begins, or an ignored event, is not."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.live_events import Seen, events_seen
from policy.calendar import SHANGHAI
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

CASE = "ui/P1/2020-03-01"


async def test_live_preview_finds_events_a_reached_case_took_by_the_inbox_outcome() -> None:
    at = datetime(2020, 5, 1, 9, tzinfo=SHANGHAI)
    async with fresh_pool("jiuye_live_events") as pool:
        await pool.execute("INSERT INTO cases (case_id, kind, subject, city, status) VALUES ($1, 'unemployment_insurance', "
                           "'person/P1', '2101', 'active')", CASE)
        await pool.execute("INSERT INTO case_keys (key, case_id, kind) VALUES ('person/P1', $1, 'unemployment_insurance')", CASE)
        rows = [  # (id, subject, state, outcome, offset)
            ("took", "enterprise/E1", "applied", f"→ other/1, {CASE} (late for gone/2)", 10),
            ("took-late", "enterprise/E1", "applied", f"→ other/1 (late for {CASE})", 11),
            ("prefix", "enterprise/E1", "applied", f"→ {CASE}0", 12),
            ("ignored", "enterprise/E1", "ignored", f"no case of {CASE}", 13),
            ("own", "person/P1", "applied", f"→ {CASE}", 14),
        ]
        await pool.executemany(
            """INSERT INTO inbox (source, event_id, type, subject, event_time, topic, partition, kafka_offset, state, outcome)
               VALUES ('hr/2101', $1, 'layoff.executed', $2, $3, 'enterprise.hr', 0, $6, $4, $5)""",
            [(i, subject, at, state, outcome, offset) for i, subject, state, outcome, offset in rows])
        seen = await events_seen(pool, "2101")
    assert seen == [Seen("enterprise.hr", 0, 10, at), Seen("enterprise.hr", 0, 14, at)]
