"""The project's metrics (observability/metrics.py): what the intake counts per batch, what a
payment adds, and the consumer-lag gauge following the partitions assigned now. Counters are
process-wide, so each test reads the change it caused under a topic or label of its own."""

from __future__ import annotations

import re
import uuid

from prometheus_client import REGISTRY

from activities.case_activities import CaseActivities
from activities.memory_store import MemoryStore
from activities.store import Origin
from contracts.cases import PaymentRequest
from observability import metrics
from policy.pack import load_pack
from streams.intake import Intake
from tests.unit.test_intake_batch import Gateway, Sink, claim, contribution, termination

PACK = load_pack("liaoning-2020")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_batch_counts_each_record_by_topic_and_outcome_and_its_dead_letters_by_reason() -> None:
    topic = f"test.{uuid.uuid4().hex[:8]}"
    intake = Intake(MemoryStore(), Gateway(), Sink(), PACK)  # type: ignore[arg-type]
    # Ignored records with an inbox row (an ignored contribution has none: issue 16; below).
    raws = [termination("P1"), termination("P2"), claim("P3"), b"not json", b"{}"]
    outcomes = await intake.handle_batch([(raw, Origin(topic=topic, partition=1, offset=n)) for n, raw in enumerate(raws)])
    assert [o.status for o in outcomes] == ["ignored", "ignored", "applied", "dead_letter", "dead_letter"]

    assert sample("jiuye_intake_records_total", topic=topic, outcome="ignored") == 2
    assert sample("jiuye_intake_records_total", topic=topic, outcome="applied") == 1
    assert sample("jiuye_intake_records_total", topic=topic, outcome="dead_letter") == 2
    assert sample("jiuye_dead_letters_total", topic=topic, reason="invalid") == 2
    assert sample("jiuye_dead_letters_total", topic=topic, reason="rejected") == 0
    assert sample("jiuye_intake_batch_seconds_count", topic=topic) == 1

    # The same records again are duplicates: counted as such, nothing else moves.
    await intake.handle_batch([(raw, Origin(topic=topic, partition=1, offset=n)) for n, raw in enumerate(raws[:3])])
    assert sample("jiuye_intake_records_total", topic=topic, outcome="duplicate") == 3
    assert sample("jiuye_intake_records_total", topic=topic, outcome="applied") == 1
    assert sample("jiuye_intake_batch_seconds_count", topic=topic) == 2

    # An ignored contribution delivered again is ignored again (no inbox row to call it a
    # duplicate; its only effect, the fact's upsert, is idempotent): counted as ignored.
    again = [(contribution("P4", "2020-04"), Origin(topic=topic, partition=1, offset=9))]
    await intake.handle_batch(again)
    await intake.handle_batch(again)
    assert sample("jiuye_intake_records_total", topic=topic, outcome="ignored") == 4
    assert sample("jiuye_intake_records_total", topic=topic, outcome="duplicate") == 3


async def test_a_valid_event_that_routing_refuses_is_a_rejected_dead_letter() -> None:
    topic = f"test.{uuid.uuid4().hex[:8]}"
    intake = Intake(MemoryStore(), Gateway(), Sink(), PACK)  # type: ignore[arg-type]
    # A second claim while the first is open: the route refuses it.
    raws = [claim("P1", "2020-03-02"), claim("P1", "2020-03-09").replace(b"claim-P1", b"claim-P1-b")]
    outcomes = await intake.handle_batch([(raw, Origin(topic=topic, partition=0, offset=n)) for n, raw in enumerate(raws)])
    assert [o.status for o in outcomes] == ["applied", "dead_letter"]
    assert sample("jiuye_dead_letters_total", topic=topic, reason="rejected") == 1
    assert sample("jiuye_dead_letters_total", topic=topic, reason="invalid") == 0


async def test_a_failed_batch_is_counted_when_it_is_delivered_again_not_before() -> None:
    topic = f"test.{uuid.uuid4().hex[:8]}"
    gateway = Gateway()
    gateway.fail.add("ui/P1/2020-03-02")
    intake = Intake(MemoryStore(), gateway, Sink(), PACK)  # type: ignore[arg-type]
    batch = [(claim("P1"), Origin(topic=topic, partition=0, offset=0))]
    try:
        await intake.handle_batch(batch)
    except ConnectionError:
        pass
    else:
        raise AssertionError("the injected Temporal failure did not reach the caller")
    assert sample("jiuye_intake_records_total", topic=topic, outcome="applied") == 0
    gateway.fail.clear()
    await intake.handle_batch(batch)
    assert sample("jiuye_intake_records_total", topic=topic, outcome="applied") == 1


async def test_a_payment_counts_once_with_its_fen_by_kind_and_fund_and_a_repeat_counts_nothing() -> None:
    fund = f"fund_{uuid.uuid4().hex[:8]}"
    acts = CaseActivities(MemoryStore(), PACK)
    payment = PaymentRequest(case_id="hubei_grant/P1", kind="hubei_graduate_grant", payee="person/P1",
                             program="hubei_graduate_grant", period="once", amount=100_000, fund=fund,
                             due_on="2020-06-01", city="2101", rule="test")
    assert (await acts.pay(payment)).inserted
    assert not (await acts.pay(payment)).inserted  # the activity retried: the ledger row exists
    assert sample("jiuye_payments_total", kind="hubei_graduate_grant", fund=fund) == 1
    assert sample("jiuye_payments_fen_total", kind="hubei_graduate_grant", fund=fund) == 100_000


def test_consumer_lag_reports_only_the_partitions_assigned_now() -> None:
    metrics.set_consumer_lag({("t.lag", 0): 5, ("t.lag", 1): 0, ("t.lag", 2): -3})
    assert sample("jiuye_consumer_lag", topic="t.lag", partition="0") == 5
    assert sample("jiuye_consumer_lag", topic="t.lag", partition="2") == 0  # never negative
    metrics.set_consumer_lag({("t.lag", 1): 7})  # partitions 0 and 2 went to another member
    assert REGISTRY.get_sample_value("jiuye_consumer_lag", {"topic": "t.lag", "partition": "0"}) is None
    assert sample("jiuye_consumer_lag", topic="t.lag", partition="1") == 7
    metrics.set_consumer_lag({})


def test_every_metric_of_the_project_is_named_jiuye_and_served_in_the_text_format() -> None:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    text = body.decode()
    for name in ("jiuye_intake_records", "jiuye_intake_batch_seconds", "jiuye_consumer_lag", "jiuye_dead_letters",
                 "jiuye_payments", "jiuye_payments_fen", "jiuye_outbox_published"):
        assert re.search(rf"^# HELP {name}(_total)? ", text, re.M), name


def test_sdk_metrics_are_off_at_port_zero() -> None:
    assert metrics.sdk_metrics_runtime("127.0.0.1", 0) is None
