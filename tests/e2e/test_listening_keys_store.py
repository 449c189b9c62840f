"""The routing index of closed cases still listening for late facts on a real PostgreSQL
(migration 0008): every row written before keeps its meaning (open rows stay open, closed ones
listen to nothing), and a case's keys follow it through closing into a window, reopening and
the end of its window — what `MemoryStore` does for `jiuye simulate`."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from activities.pg_store import PgStore, create_pool
from contracts.case_index import OpenCase
from contracts.cases import CaseRecord
from deploy.migrate import MIGRATIONS_DIR, migrate
from tests.e2e.test_ledger_corrections_store import empty_database, lifecycle  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

K5 = "public_welfare_post"


def record(case_id: str, change: str, version: int, closed_on: date | None, listening_until: date | None) -> CaseRecord:
    return CaseRecord(case_id=case_id, kind=K5, subject="person/L1", city="2101",
                      status="rejected" if closed_on else "active", change=change, version=version,
                      opened_on=date(2020, 3, 16), closed_on=closed_on, listening_until=listening_until)


async def test_the_migration_keeps_every_key_row_as_it_was(empty_database: str, tmp_path: Path) -> None:  # noqa: F811
    before = tmp_path / "before"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if path.name < "0008":
            shutil.copy(path, before / path.name)
    await migrate(empty_database, before)
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute("INSERT INTO case_keys (key, case_id, kind) VALUES ('person/A', 'open-1', $1)", K5)
        await conn.execute("INSERT INTO case_keys (key, case_id, kind, open) VALUES ('person/A', 'closed-1', $1, false)", K5)
        assert await migrate(empty_database) == [p.name[:4] for p in sorted(MIGRATIONS_DIR.glob("*.sql")) if p.name >= "0008"]
        rows = await conn.fetch("SELECT case_id, open, listening_until FROM case_keys ORDER BY case_id")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("closed-1", False, None), ("open-1", True, None)]
    pool = await create_pool(empty_database, max_size=2)
    try:
        assert await PgStore(pool).open_cases(["person/A"]) == [OpenCase("open-1", K5, "person/A", {}, listening=False)]
    finally:
        await pool.close()


async def test_keys_follow_close_listen_reopen_and_the_end_of_the_window(empty_database: str) -> None:  # noqa: F811
    await migrate(empty_database)
    pool = await create_pool(empty_database, max_size=2)
    try:
        store = PgStore(pool)
        await store.register_case("c1", K5, ["person/L1"], {"post_id": "P1"})
        await store.record_case(record("c1", "closed", 1, date(2020, 3, 16), date(2020, 4, 15)), lifecycle("c"))
        assert await store.open_cases(["person/L1"]) == [OpenCase("c1", K5, "person/L1", {"post_id": "P1"}, listening=True)]
        assert await store.open_cases_of_kinds([K5], None) == []  # closed for everything else
        # ... but a shared fact fanned out to its kind still reaches it.
        assert await store.listening_cases_of_kinds([K5], "2101") == ["c1"]
        assert await store.listening_cases_of_kinds([K5], "2102") == []
        await store.record_case(record("c1", "reopened", 2, None, None), lifecycle("r"))
        assert [c.listening for c in await store.open_cases(["person/L1"])] == [False]
        await store.record_case(record("c1", "closed", 3, date(2020, 9, 1), date(2020, 10, 1)), lifecycle("c2"))
        assert [c.listening for c in await store.open_cases(["person/L1"])] == [True]
        await store.end_listening("c1")
        await store.end_listening("c1")  # a retried activity
        assert await store.open_cases(["person/L1"]) == []
        assert await store.listening_cases_of_kinds([K5], None) == []
        # Closed with no window: nothing routes to it at once, as before.
        await store.register_case("c2", K5, ["person/L2"], {})
        await store.record_case(record("c2", "closed", 1, date(2020, 3, 16), None), lifecycle("n"))
        assert await store.open_cases(["person/L2"]) == []
    finally:
        await pool.close()
