"""End to end on the real stack for K8 layoff_plan and monitoring (§3, §21, §23, §24): CloudEvents
produced to Kafka by `jiuye emit` go through the intake into Temporal (K8 cases) and, as
observations on the internal `<group>-monitoring` topic, into the monitoring agent's faust tables;
alerts land in PostgreSQL `alerts` and, through the outbox relay, on the Kafka `alerts` topic.

Dates are real and in the past, so deadlines that fell due are judged at once. The registrations
are emitted in one go (processing time is all "now") but spread over 9 weeks of event time: the
surge is found in the week they happened.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from contracts import kinds
from contracts.topics import ALERTS
from policy import monitoring
from testkit.events import cloud_event, line
from tests.e2e.conftest import System, TopicTail
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2114"


def enterprise_event(system: System, e: str, n: int, type_: str, on: date, data: dict[str, Any]) -> bytes:
    return line(cloud_event(source=f"hr/{CITY}-e2e", id=f"{e}-{n}", type=type_, subject=f"enterprise/{e}", on=on,
                            data={"enterprise_id": e, **data}))


async def alert_rows(system: System) -> dict[str, dict[str, Any]]:
    rows = await system.pool.fetch("SELECT alert_id, kind, city, on_date, details FROM alerts")
    return {r["alert_id"]: dict(r) for r in rows}


def kafka_alerts(tail: TopicTail) -> dict[str, dict[str, Any]]:
    found = {}
    for record in tail.of(ALERTS):
        doc = json.loads(record.value)
        found[doc["id"]] = doc
    return found


async def test_layoff_plan_through_kafka_alerts_flags_and_overdue_task(system: System) -> None:
    """K8: a mass plan raises its city's alert (PostgreSQL and Kafka `alerts`), an in-time
    execution settled closes `settled`; an execution without union notice is flagged premature
    and, unsettled after 30 days, gets the supervisor task."""
    tail = TopicTail(system.settings, [ALERTS])
    await tail.start(system.kafka)
    try:
        today = business_today()
        a, b = f"E2EK8{system.tag}A", f"E2EK8{system.tag}B"
        filed = today - timedelta(days=45)
        await system.emit([
            enterprise_event(system, a, 1, "layoff.plan_filed", filed,
                             {"city": CITY, "filed_on": filed.isoformat(), "planned_count": 60, "insured_headcount": 2000}),
            enterprise_event(system, a, 2, "layoff.union_notified", filed, {"on": filed.isoformat()}),
            enterprise_event(system, a, 3, "layoff.executed", filed + timedelta(days=30),
                             {"on": (filed + timedelta(days=30)).isoformat(), "person_ids": ["X1", "X2"]}),
            enterprise_event(system, a, 4, "layoff.obligations_settled", today - timedelta(days=1), {"on": (today - timedelta(days=1)).isoformat()}),
            enterprise_event(system, b, 1, "layoff.plan_filed", filed,
                             {"city": CITY, "filed_on": filed.isoformat(), "planned_count": 5, "insured_headcount": 100}),
            enterprise_event(system, b, 2, "layoff.executed", filed + timedelta(days=2), {"on": (filed + timedelta(days=2)).isoformat(), "person_ids": ["Y1"]}),
            enterprise_event(system, f"{b}X", 1, "layoff.obligations_settled", filed, {"on": filed.isoformat()}),
        ])
        await system.settled()
        case_a, case_b = kinds.layoff_plan_case_id(a, filed), kinds.layoff_plan_case_id(b, filed)
        alert_id = f"mass_unemployment/{case_a}"

        async def settled_a() -> None:
            row = await system.pool.fetchrow("SELECT status, closed_on, summary FROM cases WHERE case_id = $1", case_a)
            assert row is not None and row["status"] == "settled", f"{case_a}: {row and row['status']}"
            assert row["closed_on"] == today - timedelta(days=1) and row["summary"]["premature"] is False

        await assert_eventually(settled_a, timeout=90)

        async def alerted() -> None:
            rows = await alert_rows(system)
            assert alert_id in rows, f"no alert yet: {sorted(rows)}"
            assert (rows[alert_id]["kind"], rows[alert_id]["city"], rows[alert_id]["on_date"]) == ("mass_unemployment", CITY, filed)
            on_kafka = kafka_alerts(tail)
            assert alert_id in on_kafka, f"not on Kafka `alerts` yet: {sorted(on_kafka)}"
            assert on_kafka[alert_id]["type"] == "alert.mass_unemployment" and on_kafka[alert_id]["subject"] == f"city/{CITY}"

        await assert_eventually(alerted, timeout=60)

        async def overdue_b() -> None:
            row = await system.pool.fetchrow("SELECT status, summary FROM cases WHERE case_id = $1", case_b)
            assert row is not None and row["summary"].get("premature") is True, f"{case_b}: {row and row['summary']}"
            task = await system.pool.fetchrow("SELECT kind, due_on, state FROM tasks WHERE case_id = $1", case_b)
            assert task is not None, "no obligations task yet"
            assert (task["kind"], task["due_on"], task["state"]) == ("obligations_overdue", filed + timedelta(days=32), "open")

        await assert_eventually(overdue_b, timeout=90)
        # Not a mass plan (5 of 100, < 50): no alert for B; a settlement with no plan is a dead letter.
        assert f"mass_unemployment/{case_b}" not in await alert_rows(system)
        reasons = await system.pool.fetch("SELECT reason FROM dead_letters")
        assert any(f"no layoff plan on file for enterprise/{b}X" in r["reason"] for r in reasons)
    finally:
        await tail.stop()


async def test_monitoring_surge_from_registrations_spread_over_nine_weeks(system: System) -> None:
    """Monitoring: one registration a week for 8 weeks, then 101 in the 9th week (trailing mean
    1: 101 > 1.5 and 100 above) → one `weekly_surge` alert for the city and week, in PostgreSQL
    and on Kafka `alerts`, judged on event dates although everything is processed now."""
    tail = TopicTail(system.settings, [ALERTS])
    await tail.start(system.kafka)
    try:
        today = business_today()
        surge_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=3)
        surge_week = monitoring.iso_week(surge_monday)
        lines = []
        n = 0

        def registration(on: date) -> bytes:
            nonlocal n
            n += 1
            person = f"E2EM{system.tag}{n:03d}"
            return line(cloud_event(source=f"ru/{CITY}-e2e", id=f"{person}-reg", type="unemployment.registered",
                                    subject=f"person/{person}", on=on, data={
                                        "person_id": person, "city": CITY, "registered_on": on.isoformat(),
                                        "birth_date": "1985-01-01", "retirement_date": "2050-01-01"}))

        for k in range(8, 0, -1):
            lines.append(registration(surge_monday - timedelta(weeks=k) + timedelta(days=2)))
        for i in range(101):
            lines.append(registration(surge_monday + timedelta(days=i % 7)))
        await system.emit(lines)
        await system.settled(timeout=180)
        alert_id = monitoring.surge_alert_id(CITY, monitoring.UNEMPLOYMENT_REGISTRATIONS, surge_week)

        async def surged() -> None:
            rows = await alert_rows(system)
            assert alert_id in rows, f"no surge alert yet: {sorted(rows)}"
            row = rows[alert_id]
            assert (row["kind"], row["city"], row["on_date"]) == ("weekly_surge", CITY, surge_monday)
            assert row["details"]["persons"] == 101 and row["details"]["trailing_mean"] == "1"
            assert alert_id in kafka_alerts(tail), "surge alert not on Kafka `alerts` yet"

        await assert_eventually(surged, timeout=120)
        # Only the surge week alerted: no earlier week had a full history or a surge.
        assert [a for a in await alert_rows(system) if a.startswith("surge/")] == [alert_id]
    finally:
        await tail.stop()
