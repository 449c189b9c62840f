"""M2 headcount_drop on the stream (streams/headcount_monitor.py): what the intake forwards, the
monitor over a mapping as a faust Table is used (one write per key and message, alerts before
the counts), redeliveries, the city and the layoff-plan look-up from the stored facts."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import date, datetime
from typing import Any

from activities.memory_store import MemoryStore
from contracts.events import parse_event
from policy import headcount_drop
from policy.pack import load_pack
from streams.headcount_monitor import (
    Contributions,
    HeadcountMonitor,
    PendingWrites,
    contributions_of,
    decode,
    forwards,
    partition_of,
)
from streams.intake import Outcome
from testkit.events import cloud_event, line

PACK = load_pack()


def contribution(person: str, month: str, employer: str | None, n: int = 0) -> Outcome:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 400000, "employer_amount": 64000,
                            "employee_amount": 32000, "insurances": ["pension"]}
    if employer is not None:
        data["employer_id"] = employer
    raw = line(cloud_event(id=f"c-{person}-{month}-{n}", source="si/2101", type="contribution.paid", subject=f"person/{person}",
                           on=datetime.fromisoformat(f"{month}-15T10:00:00+08:00"), data=data))
    return Outcome("ignored", "", parse_event(raw))


def test_m2_the_intake_forwards_per_enterprise_its_employer_contributions_in_order() -> None:
    outcomes = [contribution("P1", "2020-03", "E1"), contribution("P2", "2020-03", None),
                contribution("P3", "2020-03", "E2"), contribution("P4", "2020-04", "E1"),
                Outcome("dead_letter", "bad"), Outcome("duplicate", "", contribution("P5", "2020-03", "E2").event)]
    assert contributions_of(outcomes) == [
        Contributions("E1", (("2020-03", "P1"), ("2020-04", "P4"))),
        Contributions("E2", (("2020-03", "P3"), ("2020-03", "P5"))),  # a duplicate is forwarded too
    ]
    # One message per partition of the internal topic, each enterprise always in its partition.
    messages = contributions_of(outcomes)
    sent = forwards(messages, 4)
    assert sorted(sent) == sorted({partition_of("E1", 4), partition_of("E2", 4)})
    assert sorted((c for raw in sent.values() for c in decode(raw)), key=lambda c: c.enterprise_id) == messages
    # Kafka's default partitioner (murmur2) on the enterprise id: as if keyed by the enterprise.
    from aiokafka.partitioner import DefaultPartitioner
    assert all(partition_of(e, 12) == DefaultPartitioner()(e.encode(), list(range(12)), list(range(12)))
               for e in ("E1", "E2", "M2A", "enterprise-0042"))


class CountingTable(MutableMapping[str, Any]):
    """A dict that counts assignments and deletions, as a faust Table writes its changelog."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        self.writes += 1
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


async def registered(store: MemoryStore, enterprise: str, city: str) -> None:
    event = parse_event(line(cloud_event(id=f"reg-{enterprise}", source=f"mr/{city}", type="enterprise.registered",
                                         subject=f"enterprise/{enterprise}", on=date(2020, 1, 2),
                                         data={"enterprise_id": enterprise, "city": city, "industry": "retail", "size": "small"})))
    await store.store_subject_facts([(event, [f"enterprise/{enterprise}"])])


async def test_m2_one_write_per_key_per_message_and_every_key_starts_with_the_enterprise() -> None:
    table = CountingTable()
    monitor = HeadcountMonitor(PACK, table, MemoryStore())
    await monitor.apply(Contributions("E1", tuple(("2020-03", f"P{i}") for i in range(200))))
    assert table.writes <= headcount_drop.BUCKETS + 1  # the buckets touched and the meta, once each
    # A later message of the same month writes only the buckets of its new persons.
    table.writes = 0
    await monitor.apply(Contributions("E1", (("2020-03", "P1"), ("2020-03", "Pnew"))))
    assert table.writes == 1
    assert all(key.startswith("E1|") for key in table)
    assert monitor.size() == 201


async def test_m2_alert_names_the_enterprise_months_and_headcounts_with_the_registered_city() -> None:
    store = MemoryStore()
    await registered(store, "E1", "2105")
    monitor = HeadcountMonitor(PACK, {}, store)
    await monitor.apply(Contributions("E1", tuple(("2020-03", f"P{i}") for i in range(60))))
    await monitor.apply(Contributions("E1", tuple(("2020-04", f"P{i}") for i in range(30))))
    [alert] = await monitor.apply(Contributions("E1", (("2020-05", "P1"),)))
    assert (alert.alert_id, alert.kind, alert.city, alert.on_date) == ("headcount_drop/E1/2020-04", "headcount_drop", "2105", date(2020, 4, 1))
    assert {k: alert.details[k] for k in ("enterprise_id", "previous_month", "previous_headcount", "month", "headcount")} == {
        "enterprise_id": "E1", "previous_month": "2020-03", "previous_headcount": 60, "month": "2020-04", "headcount": 30}
    # Redelivered (the whole message again) or more of May: nothing more, and nothing counted twice.
    assert await monitor.apply(Contributions("E1", (("2020-05", "P1"), ("2020-05", "P2")))) == []
    assert [a["alert_id"] for a in store.alerts] == ["headcount_drop/E1/2020-04"]
    assert headcount_drop.HeadcountState(monitor.state).headcount("E1", "2020-05") == 2


class FailingAlerts(MemoryStore):
    """A store whose alert write fails once (a crash between the alert and the counts)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    async def raise_alert(self, alert: Any, message: dict[str, Any]) -> bool:
        if self.fail:
            self.fail = False
            raise ConnectionError("store down")
        return await super().raise_alert(alert, message)


async def test_m2_a_failed_alert_writes_no_counts_and_the_retry_alerts_once() -> None:
    store = FailingAlerts()
    state: dict[str, Any] = {}
    monitor = HeadcountMonitor(PACK, state, store)
    await monitor.apply(Contributions("E1", tuple(("2020-03", f"P{i}") for i in range(60))))
    await monitor.apply(Contributions("E1", tuple(("2020-04", f"P{i}") for i in range(30))))
    before = dict(state)
    message = Contributions("E1", (("2020-05", "P1"),))
    try:
        await monitor.apply(message)
    except ConnectionError:
        pass
    assert state == before  # nothing written: the redelivery compares the same months again
    [alert] = await monitor.apply(message)
    assert alert.alert_id == "headcount_drop/E1/2020-04" and len(store.alerts) == 1


async def test_m2_no_alert_when_the_stored_layoff_plan_explains_the_drop() -> None:
    store = MemoryStore()
    plan = parse_event(line(cloud_event(id="hr-1", source="hr/2101", type="layoff.plan_filed", subject="enterprise/E1", on=date(2020, 2, 10),
                                        data={"enterprise_id": "E1", "city": "2101", "filed_on": "2020-02-10", "planned_count": 30,
                                              "insured_headcount": 60})))
    await store.store_subject_facts([(plan, ["enterprise/E1"])])
    monitor = HeadcountMonitor(PACK, {}, store)
    await monitor.apply(Contributions("E1", tuple(("2020-03", f"P{i}") for i in range(60))))
    await monitor.apply(Contributions("E1", tuple(("2020-04", f"P{i}") for i in range(30))))
    assert await monitor.apply(Contributions("E1", (("2020-05", "P1"),))) == []
    assert store.alerts == []


def test_m2_pending_writes_read_their_own_changes_and_flush_once() -> None:
    base = CountingTable()
    base["a"] = 1
    base["b"] = 2
    base.writes = 0
    pending = PendingWrites(base)
    pending["a"] = 10
    pending["a"] = 11
    del pending["b"]
    pending["c"] = 3
    assert (pending["a"], "b" in pending, sorted(pending)) == (11, False, ["a", "c"])
    assert base.writes == 0
    pending.flush()
    assert base.data == {"a": 11, "c": 3} and base.writes == 3
