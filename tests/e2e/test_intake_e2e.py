"""End to end on the real stack: CloudEvents produced to Kafka by `jiuye emit` go through the
intake (its consumer group, streams/consumer.py), Temporal and the worker into the PostgreSQL
ledger, and come back out on `cases.lifecycle` and `events.dlq`.

Dates are real: the internship started months before today, so the months it has completed are
paid as soon as the case opens, with no waiting on timers.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from aiokafka import TopicPartition

from activities.store import Origin
from app.emit import FALLBACK_TOPIC
from contracts import kinds
from contracts.settings import Settings
from policy import internship as internship_policy
from policy.calendar import add_months
from streams.app import IntakeRuntime
from streams.intake import Applied, Claimed, Intake, OpenView
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"
MONTHS_AGO = 8  # started this long ago: that many completed months are due at once
AGREED_MONTHS = 12


class Internship:
    """The events of one K1 internship of a person unique to the test."""

    def __init__(self, system: System, suffix: str = "A"):
        self.system = system
        self.person = f"E2E{system.tag}{suffix}"
        self.unit = f"U{system.tag}{suffix}"
        self.source = f"es/{CITY}-e2e"
        self.today = business_today()
        self.starts_on = add_months(self.today, -MONTHS_AGO)
        params = system.pack.parameters(CITY)
        self.cohort = params.get("internship.cohorts", self.starts_on)[0]
        self.monthly = params.get("internship.monthly_subsidy", self.starts_on)
        self.case_id = kinds.internship_case_id(self.person, self.unit, self.starts_on)

    @property
    def subject(self) -> str:
        return f"person/{self.person}"

    def completed_months(self, on: date) -> int:
        return internship_policy.completed_months(self.starts_on, AGREED_MONTHS, [], on)

    def event(self, n: int, type: str, on: date, data: dict[str, Any]) -> dict[str, Any]:
        return cloud_event(source=self.source, id=f"{self.person}-{n}", type=type, subject=self.subject, on=on, data=data)

    def signed(self, n: int = 1) -> dict[str, Any]:
        return self.event(n, "internship.agreement_signed", self.starts_on, {
            "person_id": self.person, "unit_id": self.unit, "city": CITY, "starts_on": self.starts_on.isoformat(),
            "months": AGREED_MONTHS, "cohort": self.cohort,
        })

    def ended(self, n: int = 2) -> dict[str, Any]:
        return self.event(n, "internship.ended", self.today, {
            "person_id": self.person, "unit_id": self.unit, "on": self.today.isoformat(), "reason": "quit",
        })


async def case_closed(system: System, internship: Internship) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, closed_on FROM cases WHERE case_id = $1", internship.case_id)
    assert row is not None, f"no read-model row for {internship.case_id} yet"
    assert row["closed_on"] is not None, f"case still {row['status']}"
    return dict(row)


async def ledger(system: System, internship: Internship) -> list[dict[str, Any]]:
    rows = await system.pool.fetch(
        "SELECT period, amount_fen, payee, fund, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on",
        internship.case_id)
    return [dict(r) for r in rows]


async def test_internship_events_reach_ledger_and_lifecycle(system: System) -> None:
    """(a) K1 events emitted to Kafka: paid in the PostgreSQL ledger, told on cases.lifecycle."""
    internship = Internship(system)
    months = internship.completed_months(internship.today)
    assert months == MONTHS_AGO  # the dates really put completed months in the past

    report = await system.emit([line(internship.signed()), line(internship.ended())])
    assert report.per_topic == {"employment.service": 2}

    closed = await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    assert closed == {"status": "ended", "closed_on": internship.today}
    rows = await ledger(system, internship)
    assert [r["period"] for r in rows] == [f"month-{n}" for n in range(1, months + 1)]
    assert {r["amount_fen"] for r in rows} == {internship.monthly}
    assert {r["payee"] for r in rows} == {f"enterprise/{internship.unit}"}

    async def published() -> list[dict[str, Any]]:
        events = [json.loads(r.value) for r in system.tail.of("cases.lifecycle") if r.key == internship.case_id.encode()]
        types = [e["type"] for e in events]
        assert "case.closed" in types, f"lifecycle so far: {types}"
        return events

    events = await assert_eventually(published, timeout=30)
    types = [e["type"] for e in events]
    assert types[0] == "case.opened"
    assert types.count("case.payment") == months
    assert types[-1] == "case.closed"
    assert {e["subject"] for e in events} == {internship.case_id}
    assert await system.pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0


async def test_duplicate_event_pays_once(system: System) -> None:
    """(b) The same (source, id) delivered twice has the effect of one."""
    internship = Internship(system)
    months = internship.completed_months(internship.today)
    signed, ended = line(internship.signed()), line(internship.ended())

    await system.emit([signed, signed, ended, ended])
    await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    await system.settled()  # every copy has been handled, not just the first

    rows = await ledger(system, internship)
    assert len(rows) == months
    assert sum(r["amount_fen"] for r in rows) == months * internship.monthly
    inbox = await system.pool.fetch("SELECT event_id, state FROM inbox WHERE source = $1 ORDER BY event_id",
                                    internship.source)
    assert [(r["event_id"], r["state"]) for r in inbox] == [(f"{internship.person}-1", "applied"),
                                                              (f"{internship.person}-2", "applied")]
    cases = await system.pool.fetchval("SELECT count(*) FROM cases WHERE subject = $1", internship.subject)
    assert cases == 1


async def test_bad_records_go_to_dead_letters_and_good_ones_go_on(system: System) -> None:
    """(c) Not JSON, an unknown type, a missing field: each in events.dlq with its reason, and the
    good events around them are processed."""
    internship = Internship(system)
    not_json = f'{{"broken": "{system.tag}"'.encode()
    unknown = line(internship.event(7, "internship.teleported", internship.today, {"person_id": internship.person}))
    missing = internship.signed(8)
    del missing["data"]["unit_id"]
    missing_field = line(missing)
    bad = {not_json: "not JSON", unknown: "unknown type: internship.teleported", missing_field: "unit_id"}

    report = await system.emit([line(internship.signed()), not_json, unknown, missing_field, line(internship.ended())])
    assert report.unroutable == 2  # not JSON and the unknown type still went out, to be rejected
    assert report.per_topic == {FALLBACK_TOPIC: 5}

    async def dead_lettered() -> dict[bytes, dict[str, str]]:
        found = {r.value: {k: v.decode() for k, v in r.headers} for r in system.tail.of("events.dlq") if r.value in bad}
        assert set(found) == set(bad), f"{len(found)} of {len(bad)} bad records in events.dlq"
        return found

    found = await assert_eventually(dead_lettered, timeout=60)
    for raw, expected in bad.items():
        headers = found[raw]
        assert expected in headers["dlq.reason"], headers
        assert headers["dlq.topic"] == FALLBACK_TOPIC
        assert int(headers["dlq.partition"]) >= 0 and int(headers["dlq.offset"]) >= 0

    closed = await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    assert closed["status"] == "ended"
    assert len(await ledger(system, internship)) == internship.completed_months(internship.today)
    stored = await system.pool.fetch("SELECT reason, raw FROM dead_letters ORDER BY kafka_offset")
    assert {bytes(r["raw"]) for r in stored} == set(bad)


class FlakyRuntime(IntakeRuntime):
    """The real intake (PostgreSQL, Temporal, DLQ) behind a switch: while `outage` is set, the
    records chosen by `affected` fail the way they would with Temporal unreachable. Every
    attempt is logged, so the test sees what the agent retried, and in which order."""

    def __init__(self, settings: Settings, affected: bytes):
        super().__init__(settings)
        self.affected = affected
        self.outage = True
        self.attempts: list[tuple[bytes, Origin]] = []

    async def intake(self) -> Intake:
        real = await super().intake()
        runtime = self

        class Flaky(Intake):
            def __init__(self) -> None:
                super().__init__(real.store, real.gateway, real.dead_letters, real.pack)

            async def apply(self, claimed: Claimed, view: OpenView) -> Applied:
                runtime.attempts.append((claimed.raw, claimed.origin))
                if runtime.outage and claimed.raw == runtime.affected:
                    raise ConnectionError("injected: Temporal unavailable")
                return await super().apply(claimed, view)

        return Flaky()

    def tries(self, raw: bytes) -> list[Origin]:
        return [origin for seen, origin in self.attempts if seen == raw]


async def outage_has_lasted(system: System, runtime: FlakyRuntime, raw: bytes, attempts: int) -> Origin:
    """Wait until `raw` failed `attempts` times; return where it sits in Kafka."""

    async def retried() -> Origin:
        tries = runtime.tries(raw)
        assert len(tries) >= attempts, f"{len(tries)} attempts so far"
        assert tries[0].topic is not None and tries[0].partition is not None and tries[0].offset is not None
        return tries[0]

    # Backoff 0.5, 1, 2 s: four attempts span 3.5 s, in which later batches of the topic would
    # have been handled and committed had the failing one been skipped.
    return await assert_eventually(retried, timeout=30)


def offset_of(origin: Origin) -> int:
    assert origin.offset is not None
    return origin.offset


async def committed_offset(system: System, origin: Origin) -> int | None:
    assert origin.topic is not None and origin.partition is not None
    tp = TopicPartition(system.settings.topics.physical(origin.topic), origin.partition)
    return await system.kafka.committed(system.settings.consumer_group, tp)


async def test_infrastructure_error_retries_the_same_record_and_commits_nothing_past_it(bare_system: System) -> None:
    """While the intake cannot reach Temporal, the failing record is retried, the records after
    it in its partition wait, and the group's offset does not move past it; once Temporal is
    back, everything is applied once."""
    system = bare_system
    internship = Internship(system)
    signed, ended = line(internship.signed()), line(internship.ended())
    runtime = FlakyRuntime(system.settings, affected=signed)
    await system.start_intake(runtime)

    await system.emit([signed, ended])
    origin = await outage_has_lasted(system, runtime, signed, attempts=4)
    assert runtime.tries(ended) == [], "a later record of the same subject overtook the failing one"
    assert {o.offset for o in runtime.tries(signed)} == {origin.offset}  # the same record each time
    committed = await committed_offset(system, origin)
    assert committed is not None and committed <= offset_of(origin), f"committed {committed} past {origin.offset}"

    runtime.outage = False
    await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    await system.settled()
    assert len(await ledger(system, internship)) == internship.completed_months(internship.today)


async def test_record_interrupted_by_shutdown_is_delivered_again(bare_system: System) -> None:
    """An intake stopped while it is still retrying a record does not commit it: the next
    intake of the group gets the record again and applies it."""
    system = bare_system
    internship = Internship(system)
    signed, ended = line(internship.signed()), line(internship.ended())
    runtime = FlakyRuntime(system.settings, affected=signed)
    first = await system.start_intake(runtime)

    await system.emit([signed, ended])
    origin = await outage_has_lasted(system, runtime, signed, attempts=2)
    await system.stop_intake(first)
    committed = await committed_offset(system, origin)
    assert committed is not None and committed <= offset_of(origin), f"committed {committed} past {origin.offset}"
    # Claimed (the failure is Temporal's, after the claim) but nothing finished: the next intake
    # takes both records as retries.
    assert await system.pool.fetchval("SELECT count(*) FROM inbox WHERE state <> 'received'") == 0

    await system.start_intake()
    closed = await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    assert closed["status"] == "ended"
    await system.settled()
    assert len(await ledger(system, internship)) == internship.completed_months(internship.today)


async def test_streams_process_reports_ready_and_lag_zero_once_caught_up(system: System) -> None:
    """What the readiness probe and the lag metric read: every dependency answers, partitions are
    assigned, and once the emitted records are committed this member's lag is 0 where it fetched."""
    process = system.intakes[0]
    internship = Internship(system)
    await system.emit([line(internship.signed()), line(internship.ended())])
    await assert_eventually(lambda: case_closed(system, internship), timeout=90)
    await system.settled()

    async def ready() -> dict[str, bool]:
        checks = await process.ready_checks()
        assert checks == {"postgres": True, "temporal": True, "kafka": True, "partitions_assigned": True}, checks
        return checks

    await assert_eventually(ready, timeout=30)
    lag = process.lag()
    assert any(topic == "employment.service" for topic, _ in lag), lag  # the partitions it read
    assert set(lag.values()) == {0}, lag
