"""Events that name only an enterprise reaching the cases keyed by their persons with that
enterprise as employer (`EMPLOYER_CASES`, POLICY.md part 2): a K15 fee exemption reaches the
employer's hires, open or closed and still listening, and no other employer's; the intake looks
them up once per segment holding such events, and never for the firehose (contributions)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts import kinds
from contracts.case_index import OpenCase
from contracts.cases import CaseRecord
from contracts.events import CloudEvent
from policy.pack import load_pack
from streams.intake import Intake
from streams.routing import Ignore, SignalCase, employer_case_kinds, route
from testkit.events import cloud_event, line

PACK = load_pack()
K15 = kinds.ENTERPRISE_SI_SUBSIDY


def exemption(enterprise: str, event_id: str = "x-1") -> CloudEvent:
    return CloudEvent(specversion="1.0", id=event_id, source="si/2101", type="si.fee_exemption", subject=f"enterprise/{enterprise}",
                      time=datetime(2020, 6, 10, 1, tzinfo=timezone.utc),
                      data={"enterprise_id": enterprise, "from_month": "2020-04", "to_month": "2020-04"})


def hire(case_id: str, person: str, employer: str, listening: bool = False) -> OpenCase:
    return OpenCase(case_id=case_id, kind=K15, key=f"person/{person}", match={"employer_id": employer}, listening=listening)


def test_only_the_fee_exemption_is_looked_up_by_employer() -> None:
    assert employer_case_kinds("si.fee_exemption") == (K15,)
    assert employer_case_kinds("contribution.paid") == ()
    assert employer_case_kinds("contract.signed") == ()


def test_a_fee_exemption_signals_the_employers_open_and_listening_hires() -> None:
    found = [hire("h-open", "P1", "E1"), hire("h-closed", "P2", "E1", listening=True),
             OpenCase("other-kind", kinds.HIRING_SUBSIDY, "person/P3", {"employer_id": "E1"})]
    assert route(exemption("E1"), [], PACK, employer_cases=found) == [SignalCase("h-open"), SignalCase("h-closed")]
    # Only the enterprise the exemption is of, whatever else the look-up returned.
    assert route(exemption("E2"), [], PACK, employer_cases=found) == [Ignore(f"no open or listening {K15} case of E2")]
    # Without the look-up's cases (none open or listening) it is ignored, saying why.
    assert route(exemption("E1"), [], PACK) == [Ignore(f"no open or listening {K15} case of E1")]


def record(case_id: str, closed_on: date | None, listening_until: date | None) -> CaseRecord:
    return CaseRecord(case_id=case_id, kind=K15, subject="person/P", city="2101", status="ended" if closed_on else "active",
                      change="closed" if closed_on else "opened", version=2 if closed_on else 1,
                      opened_on=date(2020, 3, 5), closed_on=closed_on, listening_until=listening_until)


async def test_the_memory_store_finds_an_employers_routed_cases() -> None:
    store = MemoryStore()
    await store.register_case("h-open", K15, ["person/P1"], {"employer_id": "E1"})
    await store.register_case("h-closed", K15, ["person/P2"], {"employer_id": "E1"})
    await store.register_case("h-done", K15, ["person/P3"], {"employer_id": "E1"})
    await store.register_case("h-other", K15, ["person/P4"], {"employer_id": "E2"})
    await store.record_case(record("h-closed", date(2020, 6, 1), date(2021, 6, 1)), {})
    await store.record_case(record("h-done", date(2020, 6, 1), None), {})
    assert await store.employer_cases([K15], ["E1"]) == [hire("h-closed", "P2", "E1", listening=True), hire("h-open", "P1", "E1")]
    await store.end_listening("h-closed")
    assert await store.employer_cases([K15], ["E1"]) == [hire("h-open", "P1", "E1")]
    assert await store.employer_cases([kinds.HIRING_SUBSIDY], ["E1"]) == []


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[list[str]] = []

    async def employer_cases(self, kinds: list[str], employer_ids: list[str]) -> list[OpenCase]:
        self.lookups.append(employer_ids)
        return await super().employer_cases(kinds, employer_ids)


class Gateway:
    def __init__(self) -> None:
        self.signalled: list[str] = []

    async def start_or_signal(self, kind: str, case_id: str, city: str | None, event: Any) -> bool:
        raise AssertionError(f"nothing opens here: {case_id}")

    async def signal(self, case_id: str, event: Any) -> bool:
        self.signalled.append(case_id)
        return True


class Sink:
    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        raise AssertionError(reason)


def contribution(person: str, employer: str, n: int) -> bytes:
    data = {"person_id": person, "month": "2020-05", "employer_id": employer, "base": 300000, "employer_amount": 50000,
            "employee_amount": 20000, "insurances": ["pension"]}
    return line(cloud_event(id=f"c-{n}", source="si/2101", type="contribution.paid", subject=f"person/{person}",
                            on=datetime(2020, 6, 10, 1, tzinfo=timezone.utc), data=data))


async def test_the_intake_looks_up_once_per_batch_of_exemptions_and_never_for_contributions() -> None:
    store, gateway = CountingStore(), Gateway()
    await store.register_case("h-1", K15, ["person/P1"], {"employer_id": "E1"})
    await store.register_case("h-2", K15, ["person/P2"], {"employer_id": "E2"})
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    outcomes = await intake.handle_batch([(contribution(f"Q{n}", "E1", n), Origin(offset=n)) for n in range(50)])
    assert {o.status for o in outcomes} == {"ignored"}
    assert store.lookups == []
    batch = [exemption("E1", "x-1"), exemption("E2", "x-2"), exemption("E3", "x-3")]
    outcomes = await intake.handle_batch([(e.model_dump_json().encode(), Origin(offset=100 + n)) for n, e in enumerate(batch)])
    assert store.lookups == [["E1", "E2", "E3"]]
    assert [(o.status, o.detail) for o in outcomes] == [
        ("applied", "→ h-1"), ("applied", "→ h-2"), ("ignored", f"no open or listening {K15} case of E3")]
    assert gateway.signalled == ["h-1", "h-2"]
