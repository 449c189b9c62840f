"""The store's side of per-case quarantine (0017 `quarantined_events`), on PostgreSQL and in
memory: an event a case refused is kept against that case once, with the record as it came
(value and headers) and where it was read; the same event refused again by the same case (a
re-drive) updates its reason and puts it back to `quarantined`; another case refusing the same
event keeps a row of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from activities.store import Origin, Store
from contracts.events import CloudEvent
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

EVENT = CloudEvent(specversion="1.0", id="P1-3", source="es/2101", type="welfare_post.placed", subject="person/P1",
                   time=datetime(2020, 6, 1, 1, tzinfo=timezone.utc),
                   data={"person_id": "P1", "post_id": "B", "city": "2101", "kind": "regular", "starts_on": "2020-06-01"})
RAW = b'{"binary": "mode value"}'
ORIGIN = Origin("events.employment", 2, 41, (("ce_id", b"P1-3"), ("ce_type", b"welfare_post.placed")))


@pytest.fixture(params=["pg", "memory"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    async with fresh_pool("jiuye_quar") as pool:
        yield PgStore(pool)


async def rows(store: Store) -> list[dict[str, object]]:
    if isinstance(store, MemoryStore):
        return [{"case_id": c, "event_id": e, "reason": q["reason"], "status": q["status"], "raw": q["raw"],
                 "headers": q["origin"].headers, "offset": q["origin"].offset}
                for (c, _, e), q in sorted(store.quarantined.items())]
    assert isinstance(store, PgStore)
    found = await store.pool.fetch(
        """SELECT case_id, event_id, reason, status, raw, header_names, header_values, kafka_offset
             FROM quarantined_events ORDER BY case_id""")
    return [{"case_id": r["case_id"], "event_id": r["event_id"], "reason": r["reason"], "status": r["status"],
             "raw": bytes(r["raw"]), "headers": tuple(zip(r["header_names"], map(bytes, r["header_values"]), strict=True)),
             "offset": r["kafka_offset"]} for r in found]


async def test_a_refused_event_is_kept_once_per_case_as_it_came(store: Store) -> None:
    await store.quarantine("welfare/P1/A", EVENT, "still placed", RAW, ORIGIN)
    await store.quarantine("welfare/P1/A", EVENT, "still placed", RAW, ORIGIN)  # a redelivered batch
    assert await rows(store) == [{"case_id": "welfare/P1/A", "event_id": "P1-3", "reason": "still placed",
                                  "status": "quarantined", "raw": RAW, "headers": ORIGIN.headers, "offset": 41}]


async def test_refused_again_updates_the_reason_and_quarantines_it_again(store: Store) -> None:
    await store.quarantine("welfare/P1/A", EVENT, "still placed", RAW, ORIGIN)
    if isinstance(store, PgStore):
        await store.pool.execute("UPDATE quarantined_events SET status = 'redriven'")
    else:
        assert isinstance(store, MemoryStore)
        store.quarantined[("welfare/P1/A", EVENT.source, EVENT.id)]["status"] = "redriven"
    await store.quarantine("welfare/P1/A", EVENT, "the case closed before the event arrived", RAW, ORIGIN)
    await store.quarantine("welfare/P1/Z", EVENT, "another case refuses it too", RAW, ORIGIN)
    assert [(r["case_id"], r["reason"], r["status"]) for r in await rows(store)] == [
        ("welfare/P1/A", "the case closed before the event arrived", "quarantined"),
        ("welfare/P1/Z", "another case refuses it too", "quarantined")]
