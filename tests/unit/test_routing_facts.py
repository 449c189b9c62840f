"""Kinds that decide from stored facts (`ROUTE_FACTS`): the intake reads those facts only for the
event types that need them, and only those kinds' handlers receive them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

import streams.routing as routing
from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts.cases import Fact
from contracts.events import CloudEvent
from policy.pack import load_pack
from streams.intake import Intake
from streams.routes.kind_route import KindRoute
from streams.routing import Ignore, StartCase, route, route_fact_types

PACK = load_pack()


def contract(person: str = "P1", employer: str = "E1", event_id: str = "c-1") -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id=event_id,
        source="lc/2101",
        type="contract.signed",
        subject=f"person/{person}",
        time=datetime(2020, 3, 2, 1, tzinfo=timezone.utc),
        data={"person_id": person, "employer_id": employer, "signed_on": "2020-03-02", "starts_on": "2020-03-02", "term_months": 12},
    )


def registered(enterprise: str, flag: bool) -> CloudEvent:
    return CloudEvent(
        specversion="1.0",
        id=f"reg-{enterprise}",
        source="mr/2101",
        type="enterprise.registered",
        subject=f"enterprise/{enterprise}",
        time=datetime(2020, 1, 2, 1, tzinfo=timezone.utc),
        data={"enterprise_id": enterprise, "city": "2101", "industry": "retail", "size": "small", "epidemic_supplies": flag},
    )


def fact_aware_kind() -> KindRoute:
    """A kind that opens a case for contracts with employers registered with a flag."""

    def opening(event: CloudEvent, open_cases: list[Any], pack: Any, *, facts: list[Fact]) -> list[Any]:
        flagged = any(f.type == "enterprise.registered" and f.payload.get("epidemic_supplies") for f in facts)
        if not flagged:
            return [Ignore("employer not flagged")]
        return [StartCase(kind="probe", case_id=f"probe/{event.id}", city="2101", keys=[event.subject])]

    return KindRoute(
        kind="probe",
        holds_shared_facts=False,
        fact_types=("enterprise.registered",),
        route_facts={"contract.signed": {"enterprise": ("enterprise.registered",)}},
        routes={"contract.signed": opening, "enterprise.registered": lambda e, o, p: [Ignore("stored only")]},
    )


def fact_blind_kind() -> KindRoute:
    return KindRoute(
        kind="blind",
        holds_shared_facts=False,
        routes={"contract.signed": lambda e, o, p: [Ignore("blind kind saw the contract")]},
    )


@pytest.fixture
def kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(routing, "KIND_ROUTES", (fact_aware_kind(), fact_blind_kind()))
    routing.forget_kinds()
    yield
    monkeypatch.undo()
    routing.forget_kinds()


def test_route_fact_types_are_the_union_of_what_kinds_declare_for_the_type(kinds: None) -> None:
    assert route_fact_types("contract.signed") == {"enterprise": ("enterprise.registered",)}
    assert route_fact_types("enterprise.registered") == {}


def test_shipped_kinds_read_contract_facts_per_key_kind() -> None:
    """A contract reads the person's registration under person/P and only the registration of
    the employer under enterprise/E (not its staff's referrals and employments)."""
    wanted = route_fact_types("contract.signed")
    assert "unemployment.registered" in wanted["person"]
    assert wanted["enterprise"] == ("enterprise.registered",)
    assert route_fact_types("contribution.paid") == {}


def test_only_kinds_that_declare_route_facts_receive_them(kinds: None) -> None:
    flagged = Fact(
        key="enterprise/E1",
        type="enterprise.registered",
        on_date=None,
        payload={"epidemic_supplies": True},
        event_time=datetime(2020, 1, 2, tzinfo=timezone.utc),
        event_key="mr/2101#reg-E1",
    )
    assert route(contract(), [], PACK, [flagged]) == [StartCase(kind="probe", case_id="probe/c-1", city="2101", keys=["person/P1"])]
    # Without facts the fact-aware kind ignores it, and so does the blind one (called the old way).
    assert isinstance(route(contract(), [], PACK)[0], Ignore)


class Gateway:
    def __init__(self) -> None:
        self.started: list[str] = []

    async def start_or_signal(self, kind: str, case_id: str, city: str | None, event: Any) -> bool:
        self.started.append(case_id)
        return True

    async def signal(self, case_id: str, event: Any) -> bool:
        return True


class Sink:
    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        raise AssertionError(reason)


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.fact_reads: list[list[str]] = []

    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]:
        self.fact_reads.append(types)
        return await super().subject_facts(keys, types)


async def test_intake_reads_stored_facts_about_the_event_keys_before_routing(kinds: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import streams.intake as intake_module

    monkeypatch.setattr(intake_module, "FACT_TYPES", routing.FACT_TYPES | {"enterprise.registered"})
    store, gateway = CountingStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    await intake.handle(registered("E1", True).model_dump_json().encode(), Origin())
    await intake.handle(registered("E2", False).model_dump_json().encode(), Origin())
    assert store.fact_reads == []  # enterprise.registered needs no facts to route
    await intake.handle(contract("P1", "E1", "c-1").model_dump_json().encode(), Origin())
    await intake.handle(contract("P2", "E2", "c-2").model_dump_json().encode(), Origin())
    assert store.fact_reads == [["enterprise.registered"], ["enterprise.registered"]]
    assert gateway.started == ["probe/c-1"]
