"""Faults 6, 7, 8 and 9 of issue 6 on the real stack (Temporal dev server, Kafka, PostgreSQL):
faults in what is delivered, no service killed. Each test sends a bounded load recorded by id
before sending, injects its fault, waits for the system to catch up and ends with
`check_invariants` (no event lost, no payment twice, read model = ledger, no workflow failed or
stuck, lag 0), whose figures go to test-artifacts/faults.json (docs/RELIABILITY.md).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from app.emit import EmitError
from contracts import kinds
from contracts.cases import CaseView
from contracts.kafka import client_security
from contracts.topics import INPUT_TOPICS
from policy import flexible, internship
from policy.calendar import add_months, month_of
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today
from tests.faults._invariants import check_invariants, record_figures
from tests.faults._load import AGREED_MONTHS, CITY, MONTHS_AGO, Internship, Load, internships
from tests.faults._runtime import CountingRuntime

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

PERSONS = 150  # × 2 events, 8 payments each: 300 events and 1,200 payments per load


async def rewind(system: System, offsets: dict[TopicPartition, int]) -> None:
    """Commit earlier `offsets` for the test's (stopped) consumer group: it reads again from there."""

    async def committed() -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=system.settings.kafka_bootstrap, group_id=system.settings.intake_group,
                                    enable_auto_commit=False, **client_security(system.settings))
        await consumer.start()
        try:
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
        except Exception as exc:  # the group may still be leaving its last generation
            raise AssertionError(f"cannot rewind yet: {exc}") from exc
        finally:
            await consumer.stop()

    await assert_eventually(committed, timeout=60, interval=1.0)


async def test_f6_events_delivered_twice_and_replayed_from_an_earlier_offset_apply_once(bare_system: System) -> None:
    """Every record is produced twice, then the group is rewound to before the first copy and
    everything is consumed a third and fourth time: one effect per event id."""
    system, started, outcomes = bare_system, time.monotonic(), Counter[str]()
    load = internships(system.tag, PERSONS, system.pack)
    before = await system.kafka.ends(INPUT_TOPICS)
    app = await system.start_intake(CountingRuntime(system.settings, outcomes))
    await system.emit(load.lines, name="first.jsonl")
    await system.emit(load.lines, name="again.jsonl")  # the same events delivered twice
    await system.settled(timeout=240)
    await system.stop_intake(app)
    await rewind(system, before)  # replayed from an earlier offset: both copies once more
    await system.start_intake(CountingRuntime(system.settings, outcomes))
    await system.settled(timeout=240)

    n = len(load.lines)
    figures = await check_invariants(system, load, "6 duplicates + replay from earlier offset", started=started,
                                     duplicates_absorbed=outcomes["duplicate"], records_sent=2 * n)
    assert outcomes["applied"] == n  # the first copy of each; every later delivery was absorbed
    assert outcomes["duplicate"] == 3 * n
    assert figures.payments == PERSONS * len(Internship(system.tag, 0, system.pack).expected_payments())


def poison_records(system: System, person: Internship) -> dict[str, bytes]:
    """One record of each kind of poison, unique to the test (its tag is in each)."""
    tag = system.tag
    wrong_types = json.loads(person.signed())
    wrong_types["id"] += "-wrong"
    wrong_types["data"]["months"] = "twelve"
    bad_date = json.loads(person.signed())
    bad_date["id"] += "-date"
    bad_date["data"]["starts_on"] = "2020-02-30"
    negative = cloud_event(source=person.source, id=f"{person.id}-neg", type="contribution.paid",
                           subject=f"person/{person.id}", on=person.today,
                           data={"person_id": person.id, "month": month_of(person.today), "base": 300000,
                                 "employer_amount": 0, "employee_amount": -24000, "insurances": ["pension"]})
    large = cloud_event(source=person.source, id=f"{person.id}-large", type="internship.ended",
                        subject=f"person/{person.id}", on=person.today,
                        data={"person_id": person.id, "unit_id": person.unit, "on": person.today.isoformat(),
                              "reason": "quit", "padding": "x" * 1_010_000})
    return {
        "not JSON": f'{{"broken": "{tag}"'.encode(),
        "not a CloudEvent": json.dumps({"hello": tag, "type": "internship.ended"}).encode(),
        "unknown type": line(cloud_event(source=person.source, id=f"{person.id}-tele", type="internship.teleported",
                                         subject=f"person/{person.id}", on=person.today, data={"person_id": person.id})),
        "wrong field types": line(wrong_types),
        "invalid date": line(bad_date),
        "negative money": line(negative),
        "over 1 MB (within the broker's limit)": line(large),
    }


async def test_f8_poison_records_of_every_kind_are_dead_lettered_while_good_traffic_flows(system: System) -> None:
    """Poison records interleaved with a good load: each in the dead letters with its reason,
    every good event applied once. A 2 MB record is refused by the producer (the broker's
    1 MB default): it never enters the system, and the emit says which line."""
    started = time.monotonic()
    load = internships(system.tag, PERSONS, system.pack)
    good = list(load.lines)
    load.lines.clear()
    victim = Internship(system.tag, 99_999, system.pack)
    poisons = poison_records(system, victim)
    expected_reasons = {
        "not JSON": "not JSON", "not a CloudEvent": "not a CloudEvent", "unknown type": "unknown type",
        "wrong field types": "months", "invalid date": "starts_on", "negative money": "employee_amount",
        "over 1 MB (within the broker's limit)": "record too large",
    }
    step = max(1, len(good) // (len(poisons) + 1))
    for i, raw in enumerate(good):
        load.lines.append(raw)
        if i % step == step - 1 and len(load.poison) < len(poisons):
            label = list(poisons)[len(load.poison)]
            load.add_poison(label, poisons[label])
    await system.emit(load.lines)

    huge = line(cloud_event(source=victim.source, id=f"{victim.id}-2mb", type="internship.ended",
                            subject=f"person/{victim.id}", on=victim.today,
                            data={"person_id": victim.id, "unit_id": victim.unit, "on": victim.today.isoformat(),
                                  "reason": "quit", "padding": "x" * 2_000_000}))
    with pytest.raises(EmitError, match="huge.jsonl:1"):
        await system.emit([huge], name="huge.jsonl")

    await system.settled(timeout=240)
    figures = await check_invariants(system, load, "8 poison records", started=started, records_sent=len(load.lines))
    stored = {bytes(r["raw"]): r["reason"] for r in await system.pool.fetch("SELECT raw, reason FROM dead_letters")}
    for label, raw in load.poison.items():
        assert expected_reasons[label] in stored[raw], (label, stored[raw])
    assert huge not in stored
    assert figures.dead_lettered == len(poisons)


async def test_f7_events_of_one_subject_shuffled_end_as_if_in_order(system: System) -> None:
    """Twins: the same internship in order (signed, interrupted, resumed, ended) and shuffled
    (signed, resumed before interrupted, ended). The case gathers a backlog (it opens behind
    business time) and applies it in business-time order, so each shuffled twin is paid exactly
    as its in-order twin — never more."""
    started = time.monotonic()
    load = Load()
    pairs = 40
    twins: list[tuple[Internship, Internship]] = []
    for n in range(pairs):
        in_order, shuffled = Internship(system.tag, 2 * n, system.pack), Internship(system.tag, 2 * n + 1, system.pack)
        paused, back = add_months(in_order.today, -4), add_months(in_order.today, -3)
        for person, order in ((in_order, "in order"), (shuffled, "shuffled")):
            signed, interrupted, resumed, ended = person.signed(), person.interrupted(paused), person.resumed(back), person.ended()
            sequence = [signed, interrupted, resumed, ended] if order == "in order" else [signed, resumed, interrupted, ended]
            for raw in sequence:
                load.add(raw)
            load.statuses[person.case_id] = "ended"
        twins.append((in_order, shuffled))
    await system.emit(load.lines)
    await system.settled(timeout=240)

    async def all_closed() -> None:
        open_ = await system.pool.fetchval("SELECT count(*) FROM cases WHERE closed_on IS NULL")
        count = await system.pool.fetchval("SELECT count(*) FROM cases")
        assert count == 2 * pairs and open_ == 0, f"{count} cases, {open_} open"

    await assert_eventually(all_closed, timeout=180)
    for in_order, shuffled in twins:
        # §14: an "other" interruption pauses accrual (without moving the end): the completed
        # months are counted on the served days, for both twins alike.
        pause = internship.Pause(start=add_months(in_order.today, -4), end=add_months(in_order.today, -3), epidemic=False)
        months = internship.completed_months(in_order.starts_on, AGREED_MONTHS, [pause], in_order.today)
        assert months < MONTHS_AGO
        expected = [(f"month-{m}", in_order.monthly) for m in range(1, months + 1)]
        load.payments[in_order.case_id] = expected
        load.payments[shuffled.case_id] = expected
    await check_invariants(system, load, "7 one subject's events shuffled", started=started)


async def test_f9_a_case_of_five_years_crosses_continue_as_new_without_lost_or_double_effect(bare_system: System) -> None:
    """K4 for a person whose retirement lies just under 5 years after the period start (§13:
    the period then runs until retirement), the case started with a continue-as-new threshold of
    40 history events. One own contribution a month for 57 months arrives in half-year batches
    (each batch twice, a source system's retry), each batch paid before the next comes, so the
    case continues-as-new several times while paying; stable employment ends it `employed`.
    Every month is paid once, at 2/3 of what was paid, rounded down."""
    system, started, outcomes = bare_system, time.monotonic(), Counter[str]()
    await system.start_intake(CountingRuntime(system.settings, outcomes, history_limit=40))
    params = system.pack.parameters(CITY)
    today = business_today()
    person = f"F{system.tag}LONG"
    source = f"es/{CITY}-faults"
    applied = add_months(today, -57)
    start = flexible.period_start(applied)
    retirement = add_months(start, 59)  # within 5 years of the start: the period runs until then
    months = [month_of(add_months(start, i)) for i in range(57)]
    case_id = kinds.flexible_employment_case_id(person, applied)
    counter = iter(range(1, 10_000))

    def event(type_: str, on: date, data: dict[str, object]) -> bytes:
        return line(cloud_event(source=source, id=f"{person}-{next(counter)}", type=type_, subject=f"person/{person}",
                                on=on, data=data))

    load = Load(scope="flexible/")
    registration = load.add(event("unemployment.registered", add_months(applied, -2), {
        "person_id": person, "city": CITY, "registered_on": add_months(applied, -2).isoformat(),
        "birth_date": (retirement - timedelta(days=365 * 60 + 15)).isoformat(),
        "retirement_date": retirement.isoformat(), "categories": ["disabled"]}))
    application = load.add(event("application.submitted", applied, {
        "program": flexible.PROGRAM, "applicant": person, "on": applied.isoformat(), "details": {}}))
    contributions = [load.add(event("contribution.paid", min(add_months(start, i) + timedelta(days=14), today), {
        "person_id": person, "month": m, "base": 300000, "employer_amount": 60000, "employee_amount": 24001,
        "insurances": ["pension"]})) for i, m in enumerate(months)]
    contract = load.add(event("contract.signed", today, {
        "person_id": person, "employer_id": f"E{system.tag}", "signed_on": today.isoformat(),
        "starts_on": today.isoformat(), "term_months": None}))
    # 2/3 × 84001 = 56000.67 → 56000 fen for each month (POLICY.md K4, rounding down).
    load.payments[case_id] = [(m, flexible.subsidy(84001, m, params)) for m in months]
    assert {a for _, a in load.payments[case_id]} == {56000}
    load.statuses[case_id] = "employed"

    async def paid(n: int) -> None:
        count = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", case_id)
        if count != n:
            periods = [r["period"] for r in await system.pool.fetch("SELECT period FROM ledger WHERE case_id = $1 ORDER BY period", case_id)]
            view = await system.client.get_workflow_handle(case_id).query("state")
            raise AssertionError(f"{count} of {n} months paid: {periods[-3:]}; state: {str(view)[-3000:]}")

    # Registration (K12 fact) first, as in production; then the application.
    await system.emit([registration], name="registration.jsonl")
    await system.settled()
    await system.emit([application], name="application.jsonl")
    await assert_eventually(lambda: _opened(system, case_id), timeout=60)
    for first in range(0, len(contributions), 6):
        batch = contributions[first:first + 6]
        await system.emit(batch + batch, name=f"batch-{first}.jsonl")
        await assert_eventually(lambda: paid(min(first + 6, len(contributions))), timeout=60)  # noqa: B023 (awaited in the iteration)
    await system.emit([contract], name="contract.jsonl")
    await system.settled(timeout=120)
    figures = await check_invariants(system, load, "9 five-year case across continue-as-new", started=started,
                                     duplicates_absorbed=outcomes["duplicate"], records_sent=len(load.lines) + len(contributions))
    described = await system.client.get_workflow_handle(case_id).describe()
    row = await system.pool.fetchrow("SELECT closed_on, summary FROM cases WHERE case_id = $1", case_id)
    generations = row["summary"]["generation"]  # continue-as-new count the case carried to its end
    figures.notes["continue_as_new"] = generations
    record_figures(figures)
    assert outcomes["duplicate"] == len(contributions)
    assert generations >= 3, f"only {generations} continue-as-new: the case did not cross it as intended"
    assert row["closed_on"] == today
    # Closed, and (it paid through reconciliation) listening for late facts for
    # ledger.correction_days: the run goes on, healthy, until that window ends.
    assert described.status.name == "RUNNING"
    view = await system.client.get_workflow_handle(case_id).query("state", result_type=CaseView)
    assert view.closed_on == today and view.status not in ("active", "paused")


async def _opened(system: System, case_id: str) -> None:
    assert await system.pool.fetchval("SELECT 1 FROM cases WHERE case_id = $1", case_id), f"{case_id} not opened yet"
