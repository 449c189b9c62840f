"""The intake's batches (streams/intake.py): what touches no case costs no Temporal call and is
recorded done at once; what does is applied in order per subject, subjects side by side; a
failure leaves the rest of the batch finished and the batch to be delivered again."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

import pytest

from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts import kinds
from policy.calendar import SHANGHAI
from policy.pack import load_pack
from streams.intake import Intake
from testkit.events import cloud_event, line

PACK = load_pack("liaoning-2020")


def claim(person: str, on: str = "2020-03-02") -> bytes:
    return _event("si/2101", f"claim-{person}", "ui.claim.filed", person, {
        "person_id": person, "city": "2101", "claim_on": on, "insured_months": 40, "involuntary": True,
        "retirement_date": "2045-01-01"})


def contribution(person: str, month: str, employer: str | None = "E1", n: int = 0) -> bytes:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 300000, "employer_amount": 48000,
                            "employee_amount": 24000, "insurances": ["pension", "unemployment"]}
    if employer:
        data["employer_id"] = employer
    return _event("si/2101", f"c-{person}-{month}-{n}", "contribution.paid", person, data)


def termination(person: str) -> bytes:
    return _event("hr/2101", f"t-{person}", "employment.terminated", person, {"person_id": person, "on": "2020-03-01"})


def _event(source: str, id_: str, type_: str, person: str, data: dict[str, Any]) -> bytes:
    return line(cloud_event(id=id_, source=source, type=type_, subject=f"person/{person}",
                            on=datetime(2020, 3, 2, 10, tzinfo=SHANGHAI), data=data))


class Gateway:
    """Records the calls Temporal would get; `fail` makes a case's start raise (Temporal down)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (call, case, event id)
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail: set[str] = set()

    async def _call(self, what: str, case_id: str, event: Any) -> bool:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if case_id in self.fail:
                raise ConnectionError("injected: Temporal unavailable")
            self.calls.append((what, case_id, event.id))
            return True
        finally:
            self.in_flight -= 1

    async def start_or_signal(self, kind: str, case_id: str, city: str | None, event: Any) -> bool:
        return await self._call("start", case_id, event)

    async def signal(self, case_id: str, event: Any) -> bool:
        return await self._call("signal", case_id, event)


class Sink:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        self.reasons.append(reason)


def records(raws: list[bytes]) -> list[tuple[bytes, Origin]]:
    return [(raw, Origin(topic="t", partition=0, offset=n)) for n, raw in enumerate(raws)]


async def test_records_that_touch_no_case_never_reach_temporal_and_are_recorded_done() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    batch = [termination(f"P{n}") for n in range(200)]
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["ignored"] * 200
    assert gateway.calls == []
    assert set(store.inbox.values()) == {"ignored"} and len(store.inbox) == 200
    again = await intake.handle_batch(records(batch))
    assert [o.status for o in again] == ["duplicate"] * 200


async def test_contribution_ignored_needs_no_inbox_row_and_a_redelivery_changes_nothing() -> None:
    """Issue 16 item 2: an ignored contribution's only effect is the idempotent upsert of its fact
    at its grain, so it gets no inbox row; delivered again it is ignored again, same facts."""
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    batch = [contribution(f"P{n}", "2020-04") for n in range(200)]
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["ignored"] * 200
    assert gateway.calls == [] and store.inbox == {}
    # Their facts are kept for the cases that start later (K6, K7, K15 read them): one row each.
    assert len(store.contribution_rows) == 200
    p7 = await store.subject_facts(["person/P7"], ["contribution.paid"])
    e1 = await store.subject_facts(["enterprise/E1"], ["contribution.paid"])
    assert len(p7) == 1 and len(e1) == 200
    again = await intake.handle_batch(records(batch))
    assert [o.status for o in again] == ["ignored"] * 200
    assert gateway.calls == [] and store.inbox == {} and len(store.contribution_rows) == 200
    assert await store.subject_facts(["enterprise/E1"], ["contribution.paid"]) == e1


async def test_a_case_opened_in_a_batch_gets_the_later_records_of_its_subject_in_that_batch() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    batch = [contribution("P1", "2020-02"), claim("P1"), contribution("P2", "2020-04"), contribution("P1", "2020-04")]
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["ignored", "applied", "ignored", "applied"]
    assert gateway.calls == [("start", "ui/P1/2020-03-02", "claim-P1"), ("signal", "ui/P1/2020-03-02", "c-P1-2020-04-0")]


async def test_records_of_one_subject_apply_in_order_and_subjects_side_by_side() -> None:
    store, gateway = MemoryStore(), Gateway(delay=0.01)
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    persons = [f"P{n}" for n in range(20)]
    batch = [claim(p) for p in persons] + [contribution(p, m) for m in ("2020-04", "2020-05") for p in persons]
    outcomes = await intake.handle_batch(records(batch))
    assert {o.status for o in outcomes} == {"applied"}
    for p in persons:
        mine = [event_id for _, case, event_id in gateway.calls if case == kinds.unemployment_insurance_case_id(p, "2020-03-02")]
        assert mine == [f"claim-{p}", f"c-{p}-2020-04-0", f"c-{p}-2020-05-0"]
    assert gateway.most_in_flight >= 10, "subjects were applied one after another"


async def test_a_failure_stops_its_subject_finishes_the_others_and_the_batch_is_delivered_again() -> None:
    store, gateway = MemoryStore(), Gateway()
    gateway.fail.add("ui/P1/2020-03-02")
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    batch = [claim("P1"), claim("P2"), contribution("P1", "2020-04"), contribution("P2", "2020-04")]
    with pytest.raises(ConnectionError):
        await intake.handle_batch(records(batch))
    # P2 went through; nothing of P1 did, and its contribution did not overtake its claim.
    assert [c[2] for c in gateway.calls] == ["claim-P2", "c-P2-2020-04-0"]
    gateway.fail.clear()
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["applied", "duplicate", "applied", "duplicate"]
    assert [c[2] for c in gateway.calls][2:] == ["claim-P1", "c-P1-2020-04-0"]


async def test_the_same_event_twice_in_one_batch_has_one_effect() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    outcomes = await intake.handle_batch(records([claim("P1"), claim("P1"), b"not json", contribution("P9", "2020-04")] * 2))
    assert [o.status for o in outcomes] == ["applied", "duplicate", "dead_letter", "ignored",
                                            "duplicate", "duplicate", "dead_letter", "duplicate"]
    assert len(gateway.calls) == 1


async def test_a_shared_fact_is_applied_after_the_records_before_it_and_before_those_after_it() -> None:
    store, gateway = MemoryStore(), Gateway(delay=0.01)
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    await intake.handle_batch(records([claim("P1")]))
    await store.record_case(_record("ui/P1/2020-03-02"), {"id": "x", "data": {}})
    declared = line(cloud_event(id="epi-1", source="gov/21", type="policy.epidemic.declared", subject="city/2101",
                                on=datetime(2020, 3, 5, tzinfo=SHANGHAI), data={"on": "2020-03-05"}))
    batch = [contribution("P1", "2020-04", n=1), declared, contribution("P1", "2020-05", n=2)]
    outcomes = await intake.handle_batch(records(batch))
    assert [o.status for o in outcomes] == ["applied", "applied", "applied"]
    assert [c[2] for c in gateway.calls][1:] == ["c-P1-2020-04-1", "epi-1", "c-P1-2020-05-2"]


def _record(case_id: str) -> Any:
    from datetime import date

    from contracts.cases import CaseRecord

    return CaseRecord(case_id=case_id, kind="unemployment_insurance", subject="person/P1", city="2101", status="active",
                      opened_on=date(2020, 3, 2), on=date(2020, 3, 2), change="opened", version=1, keys=["person/P1"])


async def test_a_contribution_with_an_added_date_like_field_is_ignored_not_retried_for_ever() -> None:
    """A producer's added `"on": "not a date"` on a contribution (no field of its model) must not
    make `handle_batch` raise: the consumer would retry the batch, and its topic, for ever."""
    doc = json.loads(contribution("X1", "2020-04", "E1"))
    doc["data"]["on"] = "not a date"
    intake = Intake(MemoryStore(), Gateway(), Sink(), PACK)  # type: ignore[arg-type]
    outcomes = await intake.handle_batch(records([json.dumps(doc).encode(), contribution("X2", "2020-04", "E1")]))
    assert [o.status for o in outcomes] == ["ignored", "ignored"]
