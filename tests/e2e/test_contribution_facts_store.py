"""Contribution facts at their grain (issue 16 item 2, migration 0014) on a real PostgreSQL (a
fresh, migrated database per test) and on the in-memory store `jiuye simulate` runs on: one row
per (person, month, employer), read back under the person's and the enterprise's keys as exactly
the facts the per-key rows gave; a redelivered batch changes nothing; a replacing report is kept
beside the first for the readers to supersede; K7's prior-year sum over the aggregates equals
the sum over the records; and the migration moves the facts stored before it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from activities import contribution_facts
from activities.memory_store import MemoryStore
from activities.pg_store import PgStore, create_pool
from activities.store import fact_of
from contracts.cases import Fact
from contracts.events import CloudEvent, parse_event
from contracts.settings import get_settings
from deploy import stack
from deploy.migrate import migrate
from policy import enterprise_profile
from policy.calendar import SHANGHAI
from policy.pack import load_pack
from streams.routing import keys_of
from testkit.events import cloud_event, line
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

PARAMS = load_pack().parameters("2101")
TYPES = ["contribution.paid", "enterprise.registered"]


def contribution(person: str, month: str, employer: str | None, n: int = 0, amount: int = 48000) -> CloudEvent:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 300000, "employer_amount": amount,
                            "employee_amount": 24000, "insurances": ["pension", "unemployment"]}
    if employer:
        data["employer_id"] = employer
    return parse_event(line(cloud_event(source="si/2101", id=f"c-{person}-{month}-{n}", type="contribution.paid",
                                        subject=f"person/{person}", on=datetime(2019, 3, 2, 10, n, tzinfo=SHANGHAI),
                                        data=data)))


def as_stored_per_key(events: list[CloudEvent], keys: list[str]) -> list[Fact]:
    """What subject_facts held for `keys` before migration 0014: each event under each key."""
    facts = [fact_of(e, k) for e in events for k in keys_of(e) if k in keys]
    return sorted(facts, key=lambda f: (f.event_time, f.event_key, f.key))


def ordered(facts: list[Fact]) -> list[Fact]:
    return sorted(facts, key=lambda f: (f.event_time, f.event_key, f.key))


async def _fresh_pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool("jiuye_contrib") as created:
        yield created


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async for created in _fresh_pool():
        yield created


@pytest.fixture(params=["postgres", "memory"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PgStore | MemoryStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    async for created in _fresh_pool():
        yield PgStore(created)


def payroll() -> list[CloudEvent]:
    """40 persons × 12 months of 2019 with employer E1 or E2, and 5 own contributions."""
    events = [contribution(f"P{p}", f"2019-{m:02d}", f"E{p % 2 + 1}") for p in range(40) for m in range(1, 13)]
    return events + [contribution(f"F{p}", "2019-06", None) for p in range(5)]


async def test_contribution_facts_read_back_under_person_and_enterprise_keys_as_the_per_key_rows(
        store: PgStore | MemoryStore) -> None:
    events = payroll()
    await store.store_subject_facts([(e, keys_of(e)) for e in events])
    for keys in (["person/P3"], ["enterprise/E1"], ["person/F1", "enterprise/E2", "person/P4"], ["household/H1"]):
        assert ordered(await store.subject_facts(keys, TYPES)) == as_stored_per_key(events, keys), keys
    assert await store.subject_facts(["person/P3"], ["enterprise.registered"]) == []


async def test_contribution_facts_one_row_per_person_month_and_employer(pool: asyncpg.Pool) -> None:
    events = payroll()
    await PgStore(pool).store_subject_facts([(e, keys_of(e)) for e in events])
    assert await pool.fetchval("SELECT count(*) FROM contribution_facts") == len(events)  # one grain each here
    assert await pool.fetchval("SELECT count(*) FROM subject_facts") == 0


async def test_contribution_redelivered_batches_count_once(store: PgStore | MemoryStore) -> None:
    """A batch stored again, and a batch overlapping it, leave exactly one report per record."""
    events = payroll()
    await store.store_subject_facts([(e, keys_of(e)) for e in events])
    await store.store_subject_facts([(e, keys_of(e)) for e in events])  # the batch delivered again
    await store.store_subject_facts([(e, keys_of(e)) for e in events[100:300]])  # a rewound consumer
    facts = await store.subject_facts(["enterprise/E1", "enterprise/E2"], TYPES)
    assert ordered(facts) == as_stored_per_key(events, ["enterprise/E1", "enterprise/E2"])
    assert enterprise_profile.prior_year_ui_contributions("E1", facts, 2020, PARAMS) == \
        enterprise_profile.prior_year_ui_contributions("E1", as_stored_per_key(events, ["enterprise/E1"]), 2020, PARAMS)


async def test_contribution_redelivery_rewrites_no_row(pool: asyncpg.Pool) -> None:
    """A redelivered batch is not written at all (no dead row per record of a replayed month)."""
    store, events = PgStore(pool), payroll()
    await store.store_subject_facts([(e, keys_of(e)) for e in events])
    before = await pool.fetchval("SELECT string_agg(xmin::text, ',' ORDER BY person_id, month) FROM contribution_facts")
    await store.store_subject_facts([(e, keys_of(e)) for e in events])
    assert await pool.fetchval("SELECT string_agg(xmin::text, ',' ORDER BY person_id, month) FROM contribution_facts") == before


async def test_contribution_replacing_report_is_kept_beside_the_first(store: PgStore | MemoryStore) -> None:
    """A second report for the same (person, month, employer) — a correction, EVENTS.md part 2 —
    is one more fact for the readers to supersede with, as when each record was a row; the
    first report stored stays as it was."""
    first, replacing = contribution("P1", "2019-05", "E1", 0), contribution("P1", "2019-05", "E1", 1, amount=50000)
    await store.store_subject_facts([(first, keys_of(first))])
    await store.store_subject_facts([(replacing, keys_of(replacing)), (first, keys_of(first))])
    facts = await store.subject_facts(["person/P1"], TYPES)
    assert facts == as_stored_per_key([first, replacing], ["person/P1"])
    assert [f.payload["employer_amount"] for f in facts] == [48000, 50000]


async def test_contribution_first_report_of_an_event_key_in_a_batch_stays(store: PgStore | MemoryStore) -> None:
    """The same event key twice in one batch with different content (a producer's retry that
    changed it): the first, in batch order, is stored, as a report already stored stays."""
    first = contribution("P1", "2019-05", "E1", 0)
    changed = first.model_copy(update={"data": {**first.data, "employer_amount": 1}})
    await store.store_subject_facts([(first, keys_of(first)), (changed, keys_of(changed))])
    assert [f.payload["employer_amount"] for f in await store.subject_facts(["person/P1"], TYPES)] == [48000]


async def test_contribution_stored_reports_are_the_documents_report_gives(pool: asyncpg.Pool) -> None:
    """PostgreSQL builds each report from the batch's columns (issue 16): the stored document is
    exactly `contribution_facts.report` of the event, `on` null or a date, an own contribution
    under ''."""
    events = payroll()[:30] + payroll()[-3:]
    await PgStore(pool).store_subject_facts([(e, keys_of(e)) for e in events])
    rows = {(r["person_id"], r["month"], r["employer_id"]): r["reports"]
            for r in await pool.fetch("SELECT person_id, month, employer_id, reports FROM contribution_facts")}
    assert rows == {contribution_facts.grain(e): {e.key: contribution_facts.report(e)} for e in events}


async def test_contribution_facts_migration_moves_the_facts_stored_before() -> None:
    """0014 on a database holding per-key contribution facts: the same facts, one row per grain."""
    settings = get_settings()
    name = f"jiuye_contrib_m_{uuid.uuid4().hex[:10]}"
    url = await stack.fresh_database(name, settings)
    events = payroll()[:30] + [contribution("P1", "2019-05", "E2", 1)]
    try:
        conn = await asyncpg.connect(url)
        try:
            # Back to the schema before 0014, with the facts as 0002 stored them.
            await conn.execute("DROP TABLE contribution_facts; DELETE FROM schema_migrations WHERE version = '0014'")
            for e in events:
                for key in keys_of(e):
                    await conn.execute(
                        "INSERT INTO subject_facts (key, source, event_id, type, on_date, payload, event_time) "
                        "VALUES ($1, $2, $3, $4, NULL, $5::jsonb, $6)", key, e.source, e.id, e.type,
                        line(e.data).decode(), e.time)
        finally:
            await conn.close()
        await migrate(url)
        pool = await create_pool(url, max_size=2)
        try:
            keys = ["person/P1", "enterprise/E1", "enterprise/E2"]
            assert ordered(await PgStore(pool).subject_facts(keys, TYPES)) == as_stored_per_key(events, keys)
            assert await pool.fetchval("SELECT count(*) FROM subject_facts") == 0
            # P1's two reports for 2019-05 from E2 share one row.
            assert await pool.fetchval("SELECT count(*) FROM contribution_facts") == len(events) - 1
            assert await pool.fetchval("SELECT count(*) FROM contribution_facts WHERE person_id = 'P1' AND month = '2019-05' "
                                       "AND employer_id = 'E2' AND (SELECT count(*) FROM jsonb_object_keys(reports)) = 2") == 1
        finally:
            await pool.close()
    finally:
        await stack.drop_database(name, settings)


@pytest.mark.parametrize("added", ["not a date", "2019/03/01", 5, None])
async def test_contribution_with_an_added_date_like_field_is_stored_and_never_holds_up_its_batch(
        store: PgStore | MemoryStore, added: object) -> None:
    """EVENTS.md: optional fields may be added. A contribution's `on` is no field of its model,
    so whatever a producer puts there is kept in the payload and read as no business date (it
    raised in the store before, and every retry of its batch raised again: the firehose stalled)."""
    plain = contribution("P1", "2019-03", "E1")
    added_on = plain.model_copy(update={"data": {**plain.data, "on": added}, "id": "c-added-on"})
    await store.store_subject_facts([(e, keys_of(e)) for e in (plain, added_on)])
    facts = await store.subject_facts(["person/P1"], TYPES)
    assert sorted(f.event_key for f in facts) == sorted([plain.key, added_on.key])
    assert all(f.on_date is None for f in facts)
    assert next(f for f in facts if f.event_key == added_on.key).payload["on"] == added
