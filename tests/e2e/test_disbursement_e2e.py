"""Disbursement end to end on the real stack (PostgreSQL, Kafka; POLICY.md part 2): a ledger row
due today is instructed by the worker's schedule, published by the outbox relay on
payments.instructions, answered by `jiuye treasury-sim` (a separate process: the labelled
stand-in for the treasury) on payments.results, and taken by the real intake:

  registered account ending in 0 → instructed → returned account_closed → payee.account_updated
  → instructed again (new instruction id, same ledger key) → settled.

The ledger row is written through the store's `pay`, as the worker's `pay` activity writes it
(the case → ledger path has its own tests). Then no account number is anywhere it must not be:
not in the database outside the sealed column, not on payments.instructions, not in any log
line of this process or of the treasury stand-in, not in the Temporal dev server's raw store.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from activities.disbursement_desk import DisbursementDesk
from activities.disbursement_runner import DisbursementRunner
from activities.pg_store import PgStore
from app.treasury_sim import RESULTS
from contracts.cases import PaymentRequest
from contracts.settings import Settings, settings_env
from contracts.topics import PAYMENT_INSTRUCTIONS
from policy import disbursement as rules
from testkit.events import cloud_event, line
from testkit.processes import JIUYE, Process
from tests.e2e.conftest import System, TopicTail
from tests.e2e.helpers import assert_eventually, business_today
from tests.e2e.test_pii_e2e import _raw_temporal_db

pytestmark = pytest.mark.e2e


def _numbers(tag: str) -> tuple[str, str]:
    """Two account numbers unique to this run: the first ends in 0 (closed at the stand-in)."""
    digits = f"{int(tag, 16) % 10**10:010d}"
    return f"62220{digits}0", f"62220{digits}7"


async def test_instructed_returned_reinstructed_on_a_new_account_and_settled(
        bare_system: System, stack_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    system = bare_system
    closed_number, new_number = _numbers(system.tag)
    payee = f"person/PD-{system.tag}"
    case_id = f"internship/PD-{system.tag}/U1"
    today = business_today()
    store = PgStore(system.pool)
    tail = TopicTail(system.settings, [PAYMENT_INSTRUCTIONS, RESULTS])
    await tail.start(system.kafka)

    group = f"jiuye-treasury-sim-{system.tag}"
    await system.kafka.start_group_at_end(group, [PAYMENT_INSTRUCTIONS])
    sim = Process("treasury-sim", [str(JIUYE), "-v", "treasury-sim", "--group", group],
                  settings_env(system.settings), system.folder)
    stop = asyncio.Event()
    runner = DisbursementRunner(DisbursementDesk(store, system.pack, None, clock=lambda: today), 0.5, lambda: today)
    running = asyncio.create_task(runner.run(stop))
    try:
        await system.start_intake()

        def account(n: int, type_: str, number: str) -> bytes:
            return line(cloud_event(source="bank/2101", id=f"acct-{system.tag}-{n}", type=type_, subject=payee, on=today,
                                    data={"payee": payee, "bank": "B1", "account_number": number,
                                          "holder_name": "张测试", "on": today.isoformat()}))

        await system.emit([account(1, "payee.account_registered", closed_number)])
        await system.settled()
        assert await store.current_accounts([payee]) == {payee: f"{payee}#1"}

        await store.pay(PaymentRequest(case_id=case_id, kind="internship_subsidy", payee=payee, program="internship",
                                       period="month-1", amount=120000, fund="employment_subsidy_fund",
                                       due_on=today, city="2101", rule="§14"), {"id": f"{case_id}:pay", "data": {}})
        key = rules.ledger_key_of(case_id, "internship", "month-1", "payment", 0)

        async def stands(status: str, attempt: int) -> Any:
            sim.check()
            state = await store.disbursement(key)
            assert state is not None and (state.status, state.attempt) == (status, attempt), state
            return state

        returned = await assert_eventually(lambda: stands("returned", 1), timeout=90)
        assert returned.reason == "account_closed"

        await system.emit([account(2, "payee.account_updated", new_number)])
        settled = await assert_eventually(lambda: stands("settled", 2), timeout=90)
        assert settled.settled_by == rules.instruction_id(key, 2) and settled.account_ref == f"{payee}#2"

        rows = await system.pool.fetch(
            "SELECT instruction_id, attempt, result, reason FROM payment_instructions WHERE ledger_key = $1 ORDER BY attempt",
            key)
        assert [tuple(r) for r in rows] == [(rules.instruction_id(key, 1), 1, "returned", "account_closed"),
                                            (rules.instruction_id(key, 2), 2, "settled", None)]

        async def published() -> list[dict[str, Any]]:
            mine = [json.loads(r.value) for r in tail.of(PAYMENT_INSTRUCTIONS)]
            mine = [e for e in mine if e["type"] == "payment.instructed" and e["data"]["payee"] == payee]
            assert len(mine) == 2
            return mine

        instructed = await assert_eventually(published, timeout=30)
        assert {e["data"]["attempt"] for e in instructed} == {1, 2}
        assert {e["data"]["ledger_key"]["case_id"] for e in instructed} == {case_id}
        assert {e["data"]["account_ref"] for e in instructed} == {f"{payee}#1", f"{payee}#2"}
    finally:
        stop.set()
        await running
        sim.stop()
        await tail.stop()

    # Personal data: the numbers and the holder's name appear nowhere but sealed.
    secrets = (closed_number, new_number, "张测试")
    dump = await system.pool.fetchval(
        """SELECT concat_ws(' ', (SELECT string_agg(t::text, ' ') FROM outbox t),
                                 (SELECT string_agg(t::text, ' ') FROM inbox t),
                                 (SELECT string_agg(t::text, ' ') FROM disbursements t),
                                 (SELECT string_agg(t::text, ' ') FROM payment_instructions t),
                                 (SELECT string_agg(t::text, ' ') FROM payment_batches t),
                                 (SELECT string_agg(t::text, ' ') FROM tasks t),
                                 (SELECT string_agg(t::text, ' ') FROM payee_accounts t))""")
    assert payee in dump  # the scan sees the rows
    assert not [s for s in secrets if s in dump]
    kafka_text = " ".join(r.value.decode() for r in tail.records)
    assert {r.topic for r in tail.records} == {PAYMENT_INSTRUCTIONS, RESULTS}
    assert payee in kafka_text and not [s for s in secrets if s in kafka_text]
    # Payee accounts never reach Temporal (the intake hands them to the desk, not to a case): the
    # dev server's raw store holds neither number (tests/e2e/test_pii_e2e.py shows this scan sees
    # what the server stores).
    raw = _raw_temporal_db(stack_settings)
    assert raw and not [s for s in secrets if s.encode() in raw]
    logs = caplog.text + sim.log.read_text()
    assert "treasury-sim: payment.returned" in logs  # the stand-in's log is the one we read
    assert not [s for s in secrets if s in logs]
