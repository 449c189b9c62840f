"""`jiuye demo` sends a business day once intake has taken the days before (app/demo.py `TAKEN`),
on a real PostgreSQL (a fresh, migrated database): a contribution no case takes gets no inbox row
(issue 16), only its contribution_facts report, and must still count as taken — counting inbox
rows alone left the demo waiting at its first such contribution until its timeout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import asyncpg
import pytest

from activities.pg_store import PgStore
from activities.store import Origin
from app.demo import TAKEN
from contracts.events import CloudEvent, parse_event
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

TAG = "DTAKEN01"


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool("jiuye_demo_taken") as created:
        yield created


def _contribution(n: int, person: str) -> CloudEvent:
    return parse_event(json.dumps({
        "specversion": "1.0", "id": f"{TAG}-si-{n:04d}", "source": "si/2101", "type": "contribution.paid",
        "subject": f"person/{person}", "time": "2019-01-20T09:00:00+08:00",
        "data": {"person_id": person, "month": "2018-12", "employer_id": f"{TAG}E1", "base": 400000,
                 "employer_amount": 50000, "employee_amount": 20000, "insurances": ["pension", "unemployment"]},
    }).encode())


def _registration(n: int) -> CloudEvent:
    return parse_event(json.dumps({
        "specversion": "1.0", "id": f"{TAG}-re-{n:04d}", "source": "re/2101", "type": "enterprise.registered",
        "subject": f"enterprise/{TAG}E1", "time": "2019-01-05T09:00:00+08:00",
        "data": {"enterprise_id": f"{TAG}E1", "city": "2101", "industry": "manufacturing", "size": "large"},
    }).encode())


async def test_a_contribution_no_case_takes_counts_as_taken_by_its_fact_row(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    ignored, relevant, registration = _contribution(1, f"{TAG}P1"), _contribution(2, f"{TAG}P2"), _registration(3)
    # What the intake does with them: every contribution's fact upserted; the registration an
    # ignored record with its inbox row; the relevant contribution claimed (an inbox row too).
    await store.store_subject_facts([(ignored, [f"person/{TAG}P1"]), (relevant, [f"person/{TAG}P2"])])
    await store.record_ignored([(registration, Origin(), "no case")])
    await store.claim_many([(relevant, Origin())])

    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE position($1 in event_id) > 0", TAG) == 2
    # Three records taken: the relevant contribution, with both an inbox row and a fact, once.
    assert await pool.fetchval(TAKEN, TAG) == 3
    assert await pool.fetchval(TAKEN, "ANOTHER-RUN") == 0
