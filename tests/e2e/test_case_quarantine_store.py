"""The store's side of per-case quarantine (0017 `quarantined_events`), on PostgreSQL and in
memory: an event a case refused is kept against that case once, with the record as it came
(value and headers) and where it was read; the same event refused again by the same case (a
re-drive) updates its reason and puts it back to `quarantined`; another case refusing the same
event keeps a row of its own. A refusal the case decided in its workflow (0018, origin
`workflow`) is kept with its rule and the event as the case received it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from activities.store import Origin, Store
from contracts.cases import CaseEvent, RefusalRecord
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


CASE_EVENT = CaseEvent(source=EVENT.source, id=EVENT.id, type=EVENT.type, subject=EVENT.subject, time=EVENT.time, data=EVENT.data)


async def refusals(store: Store) -> list[dict[str, object]]:
    """The rows of refusals the case decided (0018 `origin` 'workflow'), as both stores keep them."""
    if isinstance(store, MemoryStore):
        return [{"case_id": c, "reason": q["reason"], "rule": q["rule"], "status": q["status"],
                 "event": CaseEvent.model_validate_json(q["raw"]), "topic": None}
                for (c, _, _), q in sorted(store.quarantined.items()) if q["refused_by"] == "workflow"]
    assert isinstance(store, PgStore)
    found = await store.pool.fetch(
        "SELECT case_id, reason, rule, status, raw, topic FROM quarantined_events WHERE origin = 'workflow' ORDER BY case_id")
    return [{"case_id": r["case_id"], "reason": r["reason"], "rule": r["rule"], "status": r["status"],
             "event": CaseEvent.model_validate_json(bytes(r["raw"])), "topic": r["topic"]} for r in found]


async def test_a_refusal_the_case_decided_is_kept_with_its_rule_and_the_event_as_the_case_received_it(store: Store) -> None:
    stands = RefusalRecord(case_id="welfare/P1/A", event=CASE_EVENT, reason="late welfare_post.placed: the decision stands")
    await store.quarantine_refused(stands)
    await store.quarantine_refused(stands)  # a retried activity
    assert await refusals(store) == [{"case_id": "welfare/P1/A", "reason": stands.reason, "rule": None, "status": "quarantined",
                                      "event": CASE_EVENT, "topic": None}]
    # Re-driven, and refused again by the case: quarantined again with the new reason and rule.
    if isinstance(store, PgStore):
        await store.pool.execute("UPDATE quarantined_events SET status = 'redriven'")
    else:
        assert isinstance(store, MemoryStore)
        store.quarantined[("welfare/P1/A", EVENT.source, EVENT.id)]["status"] = "redriven"
    await store.quarantine_refused(stands.model_copy(update={"reason": "after the window for late facts: not taken", "rule": "§17"}))
    assert [(r["reason"], r["rule"], r["status"]) for r in await refusals(store)] == [
        ("after the window for late facts: not taken", "§17", "quarantined")]
