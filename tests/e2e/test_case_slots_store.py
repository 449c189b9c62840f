"""`PgStore.take_slot` on a real PostgreSQL (a fresh, migrated database per test): a limit shared
by all cases — K13's `loan.max_subsidized_loans` per borrower — holds when many cases take a slot
at once, a retried take answers as the first did, scopes are independent, and the in-memory store
that `jiuye simulate` runs on keeps the same rule."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore, create_pool
from contracts.settings import get_settings
from deploy import stack
from deploy.stack.postgres import with_database

pytestmark = pytest.mark.e2e

SCOPE = "loans/person/P-race"


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    settings = get_settings()
    name = f"jiuye_slots_{uuid.uuid4().hex[:10]}"
    url = await stack.fresh_database(name, settings)
    created = await create_pool(url, max_size=20)
    try:
        yield created
    finally:
        await created.close()
        admin = await asyncpg.connect(with_database(settings.database_url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_k13_three_loans_per_borrower_hold_under_40_concurrent_grants(pool: asyncpg.Pool) -> None:
    """40 loan cases of one borrower take a slot at once with loan.max_subsidized_loans 3: exactly
    three are taken, and the table holds exactly those three."""
    store = PgStore(pool)
    results = await asyncio.gather(*(store.take_slot(SCOPE, f"loan/B{n}/L{n}", 3) for n in range(40)))
    taken = [n for n, (ok, _) in enumerate(results) if ok]
    assert len(taken) == 3
    assert all(held <= 3 for _, held in results)
    holders = await pool.fetch("SELECT holder FROM case_slots WHERE scope = $1 ORDER BY holder", SCOPE)
    assert sorted(r["holder"] for r in holders) == sorted(f"loan/B{n}/L{n}" for n in taken)


async def test_a_retried_take_answers_as_the_first_and_scopes_are_independent(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    assert await store.take_slot(SCOPE, "loan/B1/L1", 1) == (True, 1)
    assert await store.take_slot(SCOPE, "loan/B1/L1", 1) == (True, 1)  # a retried activity
    assert await store.take_slot(SCOPE, "loan/B2/L2", 1) == (False, 1)
    assert await store.take_slot("loans/person/P-other", "loan/B2/L2", 1) == (True, 1)


async def test_the_memory_store_keeps_the_same_rule() -> None:
    store = MemoryStore()
    results = await asyncio.gather(*(store.take_slot(SCOPE, f"loan/B{n}/L{n}", 3) for n in range(40)))
    assert sum(1 for ok, _ in results if ok) == 3
    assert await store.take_slot(SCOPE, "loan/B0/L0", 3) == (True, 3)
    assert await store.take_slot(SCOPE, "loan/B9/L9", 3) == (False, 3)


async def test_k16_ten_provincial_slots_a_year_hold_under_25_concurrent_approvals(pool: asyncpg.Pool) -> None:
    """25 incubators' approvals of one year at once against incubator.provincial_slots 10:
    exactly ten are taken; the next year's slots are untouched."""
    store = PgStore(pool)
    results = await asyncio.gather(*(store.take_slot("incubator_provincial/2020", f"incubator/I{n}/2020", 10) for n in range(25)))
    assert sum(1 for ok, _ in results if ok) == 10
    assert await pool.fetchval("SELECT count(*) FROM case_slots WHERE scope = 'incubator_provincial/2020'") == 10
    assert await store.take_slot("incubator_provincial/2021", "incubator/I0/2021", 10) == (True, 1)
