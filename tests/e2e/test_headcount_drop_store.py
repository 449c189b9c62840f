"""M2's headcounts from the stored contribution facts (activities/headcount_facts.py, migration
0020) on a real PostgreSQL (a fresh, migrated database per test) and on the in-memory store
`jiuye simulate` runs on: the same comparisons for the same facts; two judges of one month at
once (two intake members, an enterprise spanning partitions) raise one alert; and the migration
records the months stored before it as compared."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore, create_pool
from contracts.events import CloudEvent, parse_event
from contracts.settings import get_settings
from deploy import stack
from deploy.migrate import migrate
from policy import headcount_drop
from policy.pack import load_pack
from streams.headcount_monitor import HeadcountMonitor
from streams.intake import Outcome
from testkit.events import cloud_event, line
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

PACK = load_pack()


def contribution(person: str, month: str, employer: str | None, n: int = 0) -> CloudEvent:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 300000, "employer_amount": 48000,
                            "employee_amount": 24000, "insurances": ["pension"]}
    if employer:
        data["employer_id"] = employer
    return parse_event(line(cloud_event(source="si/2101", id=f"c-{person}-{month}-{employer}-{n}", type="contribution.paid",
                                        subject=f"person/{person}", on=datetime.fromisoformat(f"{month}-15T10:00:00+08:00"),
                                        data=data)))


def payroll(employer: str, month: str, persons: int) -> list[CloudEvent]:
    return [contribution(f"{employer}P{i}", month, employer) for i in range(persons)]


@pytest.fixture(params=["postgres", "memory"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PgStore | MemoryStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    async with fresh_pool("jiuye_m2") as created:
        yield PgStore(created)


async def stored(store: PgStore | MemoryStore, events: list[CloudEvent]) -> None:
    await store.store_subject_facts([(e, []) for e in events])


async def test_m2_headcounts_from_the_stored_facts_answer_alike_on_both_stores(store: PgStore | MemoryStore) -> None:
    """Distinct persons per employer and month (a second report of a person, another employer's
    and an own contribution not counted); M judged once; a late older month compares nothing;
    two new months of one batch are both compared."""
    await stored(store, payroll("E1", "2020-01", 40) + payroll("E1", "2020-02", 25) + payroll("E2", "2020-02", 7)
                 + [contribution("E1P0", "2020-02", "E1", 1), contribution("E1P0", "2020-02", None), contribution("X", "2020-02", "E3")])
    ask = headcount_drop.arrivals
    assert await store.headcount_comparisons(ask([("E1", "2020-03"), ("E2", "2020-03")])) == [
        headcount_drop.Comparison("E1", "2020-01", 40, "2020-02", 25), headcount_drop.Comparison("E2", "2020-01", 0, "2020-02", 7)]
    await store.mark_headcount_judged([("E1", "2020-02")])
    await store.mark_headcount_judged([("E1", "2020-02")])  # idempotent
    assert await store.headcount_comparisons(ask([("E1", "2020-03")])) == []
    # E3's newest month is 2020-02: a first contribution of 2020-01 arriving late compares nothing.
    await stored(store, [contribution("Y", "2020-01", "E3")])
    assert await store.headcount_comparisons(ask([("E3", "2020-01")])) == []
    # E2: 2020-03 and 2020-04 in one batch, both compared.
    await stored(store, payroll("E2", "2020-03", 3) + payroll("E2", "2020-04", 2))
    assert await store.headcount_comparisons(ask([("E2", "2020-03"), ("E2", "2020-04")])) == [
        headcount_drop.Comparison("E2", "2020-01", 0, "2020-02", 7), headcount_drop.Comparison("E2", "2020-02", 7, "2020-03", 3)]


async def test_m2_two_intake_members_judging_one_month_at_once_raise_one_alert() -> None:
    """The race of two consumers of one group: both batches bring E1's first persons of May
    (contributions are keyed by person), both are stored, both judge concurrently on their own
    connections; the alert id keeps one alert and one outbox message."""
    async with fresh_pool("jiuye_m2race", max_size=4) as pool:
        base = PgStore(pool)
        await stored(base, payroll("E1", "2020-03", 60) + payroll("E1", "2020-04", 30))
        one, two = [contribution("E1P1", "2020-05", "E1")], [contribution("E1P2", "2020-05", "E1")]
        await asyncio.gather(stored(base, one), stored(base, two))

        async def member(events: list[CloudEvent]) -> list[Any]:
            return await HeadcountMonitor(PACK, PgStore(pool)).judge([Outcome("ignored", "", e) for e in events])

        raised = await asyncio.gather(member(one), member(two))
        assert sum(len(r) for r in raised) == 1
        assert await pool.fetchval("SELECT count(*) FROM alerts WHERE alert_id = $1", headcount_drop.alert_id("E1", "2020-04")) == 1
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
        assert await pool.fetchval("SELECT count(*) FROM headcount_judged WHERE employer_id = 'E1' AND month = '2020-04'") == 1


async def test_m2_migration_records_the_months_stored_before_as_compared() -> None:
    """0020 on a database holding contribution facts: every month M whose M+1 is stored counts as
    compared (the stream job judged it then), so the next batch compares only the newest month."""
    settings = get_settings()
    name = f"jiuye_m2_m_{uuid.uuid4().hex[:10]}"
    url = await stack.fresh_database(name, settings)
    try:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP TABLE headcount_judged; DELETE FROM schema_migrations WHERE version = '0020'")
        finally:
            await conn.close()
        pool = await create_pool(url, max_size=2)
        try:
            await stored(PgStore(pool), payroll("E1", "2019-12", 50) + payroll("E1", "2020-01", 20) + payroll("E1", "2020-02", 20)
                         + [contribution("P", "2020-02", None)])
        finally:
            await pool.close()
        await migrate(url)
        pool = await create_pool(url, max_size=2)
        try:
            assert [tuple(r) for r in await pool.fetch("SELECT employer_id, month FROM headcount_judged ORDER BY 1, 2")] == [
                ("E1", "2019-11"), ("E1", "2019-12"), ("E1", "2020-01")]
            # Dec → Jan fell by 30 but was judged before the migration: no alert again, Feb vs Jan is next.
            assert await PgStore(pool).headcount_comparisons(headcount_drop.arrivals([("E1", "2020-02")])) == []
            assert await PgStore(pool).headcount_comparisons(headcount_drop.arrivals([("E1", "2020-03")])) == [
                headcount_drop.Comparison("E1", "2020-01", 20, "2020-02", 20)]
        finally:
            await pool.close()
    finally:
        await stack.drop_database(name, settings)
