"""M2 headcount_drop after a batch (streams/headcount_monitor.py): which contributions call for a
comparison, alerts before the months are recorded as compared, redeliveries, the city and the
layoff-plan look-up from the stored facts. On MemoryStore, whose `headcount_comparisons` answers
as PgStore's statement does (tests/e2e/test_headcount_drop_store.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from activities.memory_store import MemoryStore
from contracts.events import parse_event
from policy import headcount_drop
from policy.pack import load_pack
from streams.headcount_monitor import HeadcountMonitor, arrivals_of
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


async def batch(monitor: HeadcountMonitor, store: MemoryStore, outcomes: list[Outcome]) -> list[Any]:
    """What the intake and streams/app.py do with a batch: its facts stored, then M2 judged."""
    await store.store_subject_facts([(o.event, []) for o in outcomes if o.event is not None and o.status != "dead_letter"])
    return await monitor.judge(outcomes)


def month_of(enterprise: str, month: str, persons: int) -> list[Outcome]:
    return [contribution(f"P{i}", month, enterprise) for i in range(persons)]


def test_m2_a_batch_asks_for_the_distinct_enterprise_months_of_its_employer_contributions() -> None:
    outcomes = [contribution("P1", "2020-03", "E1"), contribution("P2", "2020-03", None),
                contribution("P3", "2020-03", "E2"), contribution("P4", "2020-04", "E1"),
                contribution("P6", "2020-03", "E1"),
                Outcome("dead_letter", "bad"), Outcome("duplicate", "", contribution("P5", "2020-05", "E2").event)]
    assert arrivals_of(outcomes) == [headcount_drop.Arrival("E1", "2020-03"), headcount_drop.Arrival("E1", "2020-04"),
                                     headcount_drop.Arrival("E2", "2020-03"), headcount_drop.Arrival("E2", "2020-05")]


async def registered(store: MemoryStore, enterprise: str, city: str) -> None:
    event = parse_event(line(cloud_event(id=f"reg-{enterprise}", source=f"mr/{city}", type="enterprise.registered",
                                         subject=f"enterprise/{enterprise}", on=date(2020, 1, 2),
                                         data={"enterprise_id": enterprise, "city": city, "industry": "retail", "size": "small"})))
    await store.store_subject_facts([(event, [f"enterprise/{enterprise}"])])


async def test_m2_alert_names_the_enterprise_months_and_headcounts_with_the_registered_city() -> None:
    store = MemoryStore()
    await registered(store, "E1", "2105")
    monitor = HeadcountMonitor(PACK, store)
    await batch(monitor, store, month_of("E1", "2020-03", 60))
    await batch(monitor, store, month_of("E1", "2020-04", 30))
    [alert] = await batch(monitor, store, [contribution("P1", "2020-05", "E1")])
    assert (alert.alert_id, alert.kind, alert.city, alert.on_date) == ("headcount_drop/E1/2020-04", "headcount_drop", "2105", date(2020, 4, 1))
    assert {k: alert.details[k] for k in ("enterprise_id", "previous_month", "previous_headcount", "month", "headcount")} == {
        "enterprise_id": "E1", "previous_month": "2020-03", "previous_headcount": 60, "month": "2020-04", "headcount": 30}
    # Redelivered (the same record again) or more of May: nothing more.
    assert await batch(monitor, store, [contribution("P1", "2020-05", "E1"), contribution("P2", "2020-05", "E1")]) == []
    assert [a["alert_id"] for a in store.alerts] == ["headcount_drop/E1/2020-04"]
    assert store.headcount_judged == {("E1", "2020-02"), ("E1", "2020-03"), ("E1", "2020-04")}


class FailingAlerts(MemoryStore):
    """A store whose alert write fails once (a crash between the facts and the alert)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    async def raise_alert(self, alert: Any, message: dict[str, Any]) -> bool:
        if self.fail:
            self.fail = False
            raise ConnectionError("store down")
        return await super().raise_alert(alert, message)


async def test_m2_a_failed_alert_records_no_judgement_and_the_redelivery_alerts_once() -> None:
    store = FailingAlerts()
    monitor = HeadcountMonitor(PACK, store)
    await batch(monitor, store, month_of("E1", "2020-03", 60))
    await batch(monitor, store, month_of("E1", "2020-04", 30))
    judged = set(store.headcount_judged)
    records = [contribution("P1", "2020-05", "E1")]
    try:
        await batch(monitor, store, records)
    except ConnectionError:
        pass
    # May's fact is stored (durable before the judging) but April is not recorded as compared:
    # the redelivered batch compares the same months again.
    assert store.headcount_judged == judged and store.alerts == []
    [alert] = await batch(monitor, store, records)
    assert alert.alert_id == "headcount_drop/E1/2020-04" and len(store.alerts) == 1


async def test_m2_two_batches_that_both_find_the_month_uncompared_alert_once() -> None:
    """Two intake members may judge the same month (a race): the alert id keeps it one."""
    store = MemoryStore()
    monitor = HeadcountMonitor(PACK, store)
    await batch(monitor, store, month_of("E1", "2020-03", 60))
    await batch(monitor, store, month_of("E1", "2020-04", 30))
    first, second = [contribution("P1", "2020-05", "E1")], [contribution("P2", "2020-05", "E1")]
    await store.store_subject_facts([(o.event, []) for o in first + second if o.event is not None])
    raised = [await monitor.judge(first), await HeadcountMonitor(PACK, store).judge(second)]
    assert sorted(len(r) for r in raised) == [0, 1] and len(store.alerts) == 1


async def test_m2_no_alert_when_the_stored_layoff_plan_explains_the_drop() -> None:
    store = MemoryStore()
    plan = parse_event(line(cloud_event(id="hr-1", source="hr/2101", type="layoff.plan_filed", subject="enterprise/E1", on=date(2020, 2, 10),
                                        data={"enterprise_id": "E1", "city": "2101", "filed_on": "2020-02-10", "planned_count": 30,
                                              "insured_headcount": 60})))
    await store.store_subject_facts([(plan, ["enterprise/E1"])])
    monitor = HeadcountMonitor(PACK, store)
    await batch(monitor, store, month_of("E1", "2020-03", 60))
    await batch(monitor, store, month_of("E1", "2020-04", 30))
    assert await batch(monitor, store, [contribution("P1", "2020-05", "E1")]) == []
    assert store.alerts == [] and ("E1", "2020-04") in store.headcount_judged


def test_comparison_arguments_give_each_arrival_its_own_months() -> None:
    """The statement's months per arrival (worked out once per distinct month) are the arrival's
    own, across enterprises, months and a year boundary."""
    from activities.headcount_facts import comparison_arguments

    arrivals = headcount_drop.arrivals([("E1", "2021-01"), ("E2", "2020-06"), ("E1", "2020-06"), ("E3", "2021-01"),
                                        ("E2", "2020-07")])
    enterprises, next_months, months, befores, batch_months = comparison_arguments(arrivals)
    assert enterprises == [a.enterprise_id for a in arrivals]
    assert next_months == [a.next_month for a in arrivals]
    assert months == [a.month for a in arrivals] and "2020-12" in months
    assert befores == [a.previous_month for a in arrivals] and "2020-11" in befores
    assert batch_months == [",".join(b.next_month for b in arrivals if b.enterprise_id == a.enterprise_id) for a in arrivals]
