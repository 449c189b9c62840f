"""`PgStore.take_slots` on a real PostgreSQL (a fresh, migrated database per test): a limit shared
by all cases — K13's `loan.max_subsidized_loans` per borrower — holds when many cases take a slot
at once, a retried take answers as the first did, scopes are independent, and the in-memory store
that `jiuye simulate` runs on keeps the same rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

SCOPE = "loans/person/P-race"


async def take(store: PgStore | MemoryStore, scope: str, holder: str, limit: int) -> tuple[bool, int]:
    """One scope's slot, as K13 and K16 take it."""
    taken, (held,) = await store.take_slots(holder, [(scope, limit)])
    return taken, held


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool("jiuye_slots", max_size=20) as created:
        yield created


async def test_k13_three_loans_per_borrower_hold_under_40_concurrent_grants(pool: asyncpg.Pool) -> None:
    """40 loan cases of one borrower take a slot at once with loan.max_subsidized_loans 3: exactly
    three are taken, and the table holds exactly those three."""
    store = PgStore(pool)
    results = await asyncio.gather(*(take(store, SCOPE, f"loan/B{n}/L{n}", 3) for n in range(40)))
    taken = [n for n, (ok, _) in enumerate(results) if ok]
    assert len(taken) == 3
    assert all(held <= 3 for _, held in results)
    holders = await pool.fetch("SELECT holder FROM case_slots WHERE scope = $1 ORDER BY holder", SCOPE)
    assert sorted(r["holder"] for r in holders) == sorted(f"loan/B{n}/L{n}" for n in taken)


async def test_a_retried_take_answers_as_the_first_and_scopes_are_independent(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    assert await take(store, SCOPE, "loan/B1/L1", 1) == (True, 1)
    assert await take(store, SCOPE, "loan/B1/L1", 1) == (True, 1)  # a retried activity
    assert await take(store, SCOPE, "loan/B2/L2", 1) == (False, 1)
    assert await take(store, "loans/person/P-other", "loan/B2/L2", 1) == (True, 1)


async def test_the_memory_store_keeps_the_same_rule() -> None:
    store = MemoryStore()
    results = await asyncio.gather(*(take(store, SCOPE, f"loan/B{n}/L{n}", 3) for n in range(40)))
    assert sum(1 for ok, _ in results if ok) == 3
    assert await take(store, SCOPE, "loan/B0/L0", 3) == (True, 3)
    assert await take(store, SCOPE, "loan/B9/L9", 3) == (False, 3)


async def test_k16_ten_provincial_slots_a_year_hold_under_25_concurrent_approvals(pool: asyncpg.Pool) -> None:
    """25 incubators' approvals of one year at once against incubator.provincial_slots 10:
    exactly ten are taken; the next year's slots are untouched."""
    store = PgStore(pool)
    results = await asyncio.gather(*(take(store, "incubator_provincial/2020", f"incubator/I{n}/2020", 10) for n in range(25)))
    assert sum(1 for ok, _ in results if ok) == 10
    assert await pool.fetchval("SELECT count(*) FROM case_slots WHERE scope = 'incubator_provincial/2020'") == 10
    assert await take(store, "incubator_provincial/2021", "incubator/I0/2021", 10) == (True, 1)


async def test_k14_two_limits_are_taken_all_or_none_under_concurrent_completions(pool: asyncpg.Pool) -> None:
    """K14: at most 3 subsidies a year and never twice the same occupation and level. 20
    completions of one person at once, 5 distinct occupations × 4 concurrent copies each: at most
    one per occupation and three in all; a completion refused by one limit holds no slot of the
    other."""
    store = PgStore(pool)
    year = "training/person/P-race/2020"

    async def complete(n: int) -> bool:
        taken, _ = await store.take_slots(f"training/E{n}", [(year, 3), (f"training/person/P-race/occ{n % 5}/junior", 1)])
        return taken

    results = await asyncio.gather(*(complete(n) for n in range(20)))
    winners = [n for n, ok in enumerate(results) if ok]
    assert len(winners) == 3 and len({n % 5 for n in winners}) == 3
    rows = await pool.fetch("SELECT scope, holder FROM case_slots ORDER BY scope, holder")
    assert sorted(r["holder"] for r in rows if r["scope"] == year) == sorted(f"training/E{n}" for n in winners)
    assert sorted(r["holder"] for r in rows if r["scope"] != year) == sorted(f"training/E{n}" for n in winners)
