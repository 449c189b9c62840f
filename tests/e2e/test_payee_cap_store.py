"""`PgStore.pay_capped` on a real PostgreSQL (a fresh, migrated database per test): an HR
agency's total (§10, at most 100,000 yuan per agency) is enforced in one statement that
concurrent cases can never exceed, a retried payment adds nothing, and the in-memory store that
`jiuye simulate` runs on keeps the same rule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import asyncpg
import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from contracts.cases import PaymentRequest
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

PER_HIRE = 20000
AGENCY = "agency/A-race"


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool("jiuye_caps", max_size=20) as created:
        yield created


def payment(n: int, amount: int = PER_HIRE, payee: str = AGENCY) -> PaymentRequest:
    return PaymentRequest(
        case_id=f"hiring/epidemic/E{n}/P{n}", kind="hiring_subsidy", payee=payee, program="hiring_agency",
        period="once", amount=amount, fund="employment_subsidy_fund", due_on=date(2020, 4, 1), city="2101", rule="§10",
    )


def lifecycle(n: int) -> dict[str, Any]:
    return {"id": f"hiring/epidemic/E{n}/P{n}:pay:hiring_agency:once", "data": {"amount": PER_HIRE}}


async def totals(pool: asyncpg.Pool, payee: str = AGENCY) -> tuple[int, int, int | None]:
    rows, total = await pool.fetchrow("SELECT count(*), coalesce(sum(amount_fen), 0) FROM ledger WHERE payee = $1", payee)
    used = await pool.fetchval("SELECT used_fen FROM payee_caps WHERE payee = $1", payee)
    return int(rows), int(total), used


async def test_k6_agency_cap_holds_under_60_concurrent_payments(pool: asyncpg.Pool) -> None:
    """60 cases pay the same agency at once with a cap that fits 25: exactly 25 rows, their sum
    is the cap, the running total agrees, and one outbox row per ledger row."""
    store = PgStore(pool)
    cap = 25 * PER_HIRE
    results = await asyncio.gather(*(store.pay_capped(payment(n), cap, lifecycle(n)) for n in range(60)))
    assert sum(1 for inserted, _ in results if inserted) == 25
    assert sorted(amount for _, amount in results).count(PER_HIRE) == 25
    assert await totals(pool) == (25, cap, cap)
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key LIKE 'hiring/epidemic/%'") == 25


async def test_k6_agency_cap_pays_the_remainder_then_nothing(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    cap = 2 * PER_HIRE + 5000
    assert await store.pay_capped(payment(1), cap, lifecycle(1)) == (True, PER_HIRE)
    assert await store.pay_capped(payment(2), cap, lifecycle(2)) == (True, PER_HIRE)
    assert await store.pay_capped(payment(3), cap, lifecycle(3)) == (True, 5000)
    assert await store.pay_capped(payment(4), cap, lifecycle(4)) == (False, 0)
    assert await totals(pool) == (3, cap, cap)


async def test_k6_agency_cap_retry_of_a_paid_key_adds_nothing(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    cap = 3 * PER_HIRE
    assert await store.pay_capped(payment(1), cap, lifecycle(1)) == (True, PER_HIRE)
    # The activity retried after it committed (its result lost): same key, nothing added.
    assert await store.pay_capped(payment(1), cap, lifecycle(1)) == (False, PER_HIRE)
    results = await asyncio.gather(*(store.pay_capped(payment(1), cap, lifecycle(1)) for _ in range(10)))
    assert set(results) == {(False, PER_HIRE)}
    assert await totals(pool) == (1, PER_HIRE, PER_HIRE)


async def test_k6_agency_cap_lowered_below_what_was_paid_pays_nothing_more(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    for n in range(3):
        await store.pay_capped(payment(n), 10 * PER_HIRE, lifecycle(n))
    assert await store.pay_capped(payment(9), 2 * PER_HIRE, lifecycle(9)) == (False, 0)
    assert await totals(pool) == (3, 3 * PER_HIRE, 3 * PER_HIRE)


async def test_k6_agency_caps_are_per_payee(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    cap = PER_HIRE
    assert await store.pay_capped(payment(1), cap, lifecycle(1)) == (True, PER_HIRE)
    assert await store.pay_capped(payment(2, payee="agency/B"), cap, lifecycle(2)) == (True, PER_HIRE)
    assert await store.pay_capped(payment(3), cap, lifecycle(3)) == (False, 0)


async def test_k6_memory_store_keeps_the_same_cap_rule() -> None:
    store = MemoryStore()
    cap = 25 * PER_HIRE
    results = await asyncio.gather(*(store.pay_capped(payment(n), cap, lifecycle(n)) for n in range(60)))
    assert sum(1 for inserted, _ in results if inserted) == 25
    assert sum(p.amount for p in store.ledger.values()) == cap
    assert await store.pay_capped(payment(0), cap, lifecycle(0)) == (False, PER_HIRE)
    assert await store.pay_capped(payment(99), 25 * PER_HIRE + 7, lifecycle(99)) == (True, 7)
