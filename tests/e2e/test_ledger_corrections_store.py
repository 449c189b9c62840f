"""The ledger with corrections on a real PostgreSQL (POLICY.md part 2; migration 0006): every row
that was there before the migration is kept as an original payment, a correction is a further
row that never edits one, each row is written once under retries, and the original payment of a
(case, program, period) stays unique."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore, create_pool
from contracts.cases import PaymentRequest
from contracts.settings import get_settings
from deploy.migrate import MIGRATIONS_DIR, migrate
from deploy.stack.postgres import drop_database, with_database

pytestmark = pytest.mark.e2e

CASE = "ui/P-corr/2020-03-02"


def row(period: str, amount: int, entry: str = "payment", seq: int = 0, corrects: str | None = None,
        cause: str | None = None, fund: str = "ui_fund") -> PaymentRequest:
    return PaymentRequest(
        case_id=CASE, kind="unemployment_insurance", payee="person/P-corr", program="ui_benefit", period=period,
        amount=amount, fund=fund, due_on=date(2020, 4, 2), city="2101", rule="§18", entry=entry,
        seq=seq, corrects=corrects, cause=cause,
    )


def lifecycle(n: str) -> dict:
    return {"id": f"corr-{n}-{uuid.uuid4().hex}", "data": {}}


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """A new database with no migration applied (the role may create databases)."""
    settings = get_settings()
    name = f"jiuye_ledger_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(with_database(settings.database_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(settings.database_url, name)
    finally:
        await drop_database(name, settings)


async def test_the_migration_keeps_every_existing_row_as_an_original_payment(empty_database: str, tmp_path: Path) -> None:
    before, through = tmp_path / "before", tmp_path / "through"
    before.mkdir()
    through.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0006":
            shutil.copy(path, before / path.name)
        if path.name < "0007":  # later migrations are not this test's
            shutil.copy(path, through / path.name)
    await migrate(empty_database, before)
    conn = await asyncpg.connect(empty_database)
    try:
        for n in range(1, 4):
            await conn.execute(
                """INSERT INTO ledger (case_id, program, period, kind, payee, amount_fen, fund, due_on, city, rule)
                   VALUES ($1, 'ui_benefit', $2, 'unemployment_insurance', 'person/P-corr', 150000, 'ui_fund', $3, '2101', '§18')""",
                CASE, f"month-{n}", date(2020, 3 + n, 2))
        assert await migrate(empty_database, through) == ["0006"]
        rows = await conn.fetch("SELECT period, entry, seq, corrects, cause, amount_fen FROM ledger ORDER BY period")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [(f"month-{n}", "payment", 0, None, None, 150000) for n in range(1, 4)]


async def test_a_correction_is_a_further_row_written_once_and_the_original_stays_unique(empty_database: str) -> None:
    await migrate(empty_database)
    pool = await create_pool(empty_database, max_size=4)
    try:
        store = PgStore(pool)
        assert await store.pay(row("month-1", 150000), lifecycle("p")) is True
        assert await store.pay(row("month-1", 170000), lifecycle("p2")) is False  # the original key, paid before
        arrears = row("month-1", 20000, "arrears", 1, "month-1", "policy/21#lift-2")
        assert await store.pay(arrears, lifecycle("a")) is True
        assert await store.pay(arrears, lifecycle("a-retry")) is False  # a retried activity
        assert await store.pay(row("month-1", 5000, "overpayment", 1, "month-1", "si/2101#x"), lifecycle("o")) is True
        assert await store.pay(row("month-2", 2500, "deduction", 1, "month-1"), lifecycle("d")) is True
        rows = await pool.fetch("SELECT period, entry, seq, corrects, cause, amount_fen FROM ledger ORDER BY entry, seq")
        assert sorted(tuple(r) for r in rows) == sorted([
            ("month-1", "payment", 0, None, None, 150000),
            ("month-1", "arrears", 1, "month-1", "policy/21#lift-2", 20000),
            ("month-1", "overpayment", 1, "month-1", "si/2101#x", 5000),
            ("month-2", "deduction", 1, "month-1", None, 2500),
        ])
        # A correction must name what it corrects; an original must not.
        with pytest.raises(asyncpg.CheckViolationError):
            await store.pay(row("month-3", 100, "arrears", 1, None), lifecycle("bad"))
        with pytest.raises(asyncpg.CheckViolationError):
            await store.pay(row("month-3", 100, "payment", 0, "month-1"), lifecycle("bad2"))
        # The funds of POLICY.md part 2 are accepted.
        assert await store.pay(row("month-4", 100, fund="inclusive_finance_fund"), lifecycle("f")) is True
        assert await store.pay(row("month-5", 100, fund="skills_upgrading_fund"), lifecycle("g")) is True
    finally:
        await pool.close()


async def test_the_memory_store_keeps_the_same_keys() -> None:
    store = MemoryStore()
    assert await store.pay(row("month-1", 150000), lifecycle("p")) is True
    assert await store.pay(row("month-1", 170000), lifecycle("p2")) is False
    arrears = row("month-1", 20000, "arrears", 1, "month-1")
    assert await store.pay(arrears, lifecycle("a")) is True
    assert await store.pay(arrears, lifecycle("a2")) is False
    assert sorted((p.entry, p.amount) for p in store.ledger.values()) == [("arrears", 20000), ("payment", 150000)]
