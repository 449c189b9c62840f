"""End to end on the real stack for monitoring M2 headcount_drop (§23, §3): contributions produced
to Kafka by `jiuye emit` go through the intake, which stores them in `contribution_facts` and,
after each batch, judges the months they call for from the stored facts
(streams/headcount_monitor.py); the alert lands in PostgreSQL `alerts` and, through the outbox
relay, on the Kafka `alerts` topic.

Contributions are keyed by person, so one month's records of an enterprise reach the intake over
several partitions in no set order; the months are emitted one after the other (each handled
before the next is emitted) so that the first contribution of M+1 meets M−1 and M complete.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.topics import ALERTS
from policy import headcount_drop
from policy.calendar import add_months, first_of_month, month_of
from testkit.events import cloud_event, line
from tests.e2e.conftest import System, TopicTail
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2113"


def contribution(system: System, enterprise: str, person: str, month: str, suffix: str = "") -> bytes:
    pid = f"{enterprise}P{person}"
    return line(cloud_event(source=f"si/{CITY}-e2e", id=f"c-{pid}-{month}{suffix}", type="contribution.paid",
                            subject=f"person/{pid}", on=first_of_month(month).replace(day=15), data={
                                "person_id": pid, "month": month, "employer_id": enterprise, "base": 400000,
                                "employer_amount": 64000, "employee_amount": 32000, "insurances": ["pension"]}))


async def headcount_alerts(system: System) -> list[dict[str, Any]]:
    rows = await system.pool.fetch("SELECT alert_id, kind, city, on_date, details FROM alerts WHERE kind = $1", headcount_drop.ALERT)
    return [dict(r) for r in rows]


def kafka_alerts_of(tail: TopicTail, alert_id: str) -> list[dict[str, Any]]:
    return [doc for doc in (json.loads(r.value) for r in tail.of(ALERTS)) if doc["id"] == alert_id]


async def test_headcount_drop_through_kafka_alerts_once_also_when_redelivered(system: System) -> None:
    """40 persons in M−1, 10 in M (10 ≤ 32 and 30 ≥ 20 fewer), registered in 2113, no plan: the
    first contribution of M+1 raises one `headcount_drop` row and its Kafka `alerts` event; the
    same record delivered again and a further M+1 contribution raise no second."""
    tail = TopicTail(system.settings, [ALERTS])
    await tail.start(system.kafka)
    try:
        enterprise = f"E2EM2{system.tag}"
        this_month = first_of_month(month_of(business_today()))
        before, month, after = (month_of(add_months(this_month, k)) for k in (-3, -2, -1))
        registration = line(cloud_event(source=f"mr/{CITY}-e2e", id=f"reg-{enterprise}", type="enterprise.registered",
                                        subject=f"enterprise/{enterprise}", on=business_today(), data={
                                            "enterprise_id": enterprise, "city": CITY, "industry": "retail", "size": "small"}))
        await system.emit([registration], "registration.jsonl")
        await system.settled()
        await system.emit([contribution(system, enterprise, f"{i:02d}", before) for i in range(40)], "before.jsonl")
        await system.settled()
        await system.emit([contribution(system, enterprise, f"{i:02d}", month) for i in range(10)], "month.jsonl")
        await system.settled()
        first_after = contribution(system, enterprise, "00", after)
        await system.emit([first_after], "after.jsonl")
        await system.settled()
        alert_id = headcount_drop.alert_id(enterprise, month)

        async def alerted() -> None:
            rows = await headcount_alerts(system)
            assert [r["alert_id"] for r in rows] == [alert_id], f"headcount_drop alerts so far: {rows}"
            row = rows[0]
            assert (row["kind"], row["city"], row["on_date"]) == (headcount_drop.ALERT, CITY, first_of_month(month))
            assert {k: row["details"][k] for k in ("enterprise_id", "previous_month", "previous_headcount", "month", "headcount")} == {
                "enterprise_id": enterprise, "previous_month": before, "previous_headcount": 40, "month": month, "headcount": 10}
            on_kafka = kafka_alerts_of(tail, alert_id)
            assert len(on_kafka) == 1, f"alert events on Kafka `alerts`: {len(on_kafka)}"
            assert on_kafka[0]["type"] == f"alert.{headcount_drop.ALERT}" and on_kafka[0]["subject"] == f"city/{CITY}"

        await assert_eventually(alerted, timeout=120)

        # The same record again (a redelivery: same source and id), then a new contribution of M+1.
        await system.emit([first_after], "again.jsonl")
        await system.settled()
        await system.emit([contribution(system, enterprise, "01", after)], "more.jsonl")
        await system.settled()
        # The redelivery stored nothing twice: M+1 holds two persons; month M is recorded as compared.
        assert await system.pool.fetchval("SELECT count(*) FROM contribution_facts WHERE employer_id = $1 AND month = $2",
                                          enterprise, after) == 2
        assert await system.pool.fetchval("SELECT count(*) FROM headcount_judged WHERE employer_id = $1 AND month = $2",
                                          enterprise, month) == 1
        assert [r["alert_id"] for r in await headcount_alerts(system)] == [alert_id]
        assert len(kafka_alerts_of(tail, alert_id)) == 1
    finally:
        await tail.stop()


async def test_headcount_drop_with_two_intake_members_alerts_each_enterprise_once(bare_system: System) -> None:
    """Two intake processes in one group (the house rule for shared limits): contributions are
    keyed by person, so each enterprise's first contributions of M+1 reach both members'
    partitions and both judge month M concurrently; each enterprise's drop is one alert row and
    one Kafka `alerts` event, and every month M is recorded as compared once."""
    system = bare_system
    await system.start_intake()
    await system.start_intake()
    tail = TopicTail(system.settings, [ALERTS])
    await tail.start(system.kafka)
    try:
        enterprises = [f"E2EM2R{system.tag}{n}" for n in range(6)]
        this_month = first_of_month(month_of(business_today()))
        before, month, after = (month_of(add_months(this_month, k)) for k in (-3, -2, -1))
        await system.emit([contribution(system, e, f"{i:02d}", before) for e in enterprises for i in range(40)], "before.jsonl")
        await system.settled(timeout=120)
        await system.emit([contribution(system, e, f"{i:02d}", month) for e in enterprises for i in range(10)], "month.jsonl")
        await system.settled(timeout=120)
        # Eight persons of M+1 per enterprise, interleaved: their partitions are spread over both members.
        await system.emit([contribution(system, e, f"{i:02d}", after) for i in range(8) for e in enterprises], "after.jsonl")
        await system.settled(timeout=120)
        expected = sorted(headcount_drop.alert_id(e, month) for e in enterprises)

        async def alerted_once() -> None:
            assert sorted(r["alert_id"] for r in await headcount_alerts(system)) == expected
            assert sorted(doc["id"] for doc in (json.loads(r.value) for r in tail.of(ALERTS))) == expected

        await assert_eventually(alerted_once, timeout=120)
        assert await system.pool.fetchval("SELECT count(*) FROM headcount_judged WHERE month = $1 AND employer_id = ANY($2::text[])",
                                          month, enterprises) == len(enterprises)
    finally:
        await tail.stop()
