"""The disbursement part of the store (migration 0009) on a real PostgreSQL — a fresh, migrated
database per test — and the in-memory store `jiuye simulate` runs on, which keeps the same rules:
sealed payee accounts with versions, the paying ledger rows due (a payment less its deductions,
arrears), every transition a compare-and-set written with its instructions, daily batches, tasks,
alerts and outbox events in one transaction, and the closing of earlier days' batches."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from typing import Any

import pytest

from activities.account_vault import AccountVault, Sealed
from activities.disbursement_desk import DisbursementDesk, write_of
from activities.disbursement_report import reconcile, text
from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from activities.store import Store
from contracts.cases import PaymentRequest
from contracts.codec import Keyring
from contracts.events import CloudEvent
from policy import disbursement as rules
from policy.pack import load_pack
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

DUE_ON = date(2020, 5, 1)
NUMBER = "6222020200112233"  # the account number no table may hold in clear
NEW_NUMBER = "6222020200998877"
CASE = "internship/P1/U1"


@pytest.fixture(params=["pg", "memory"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    async with fresh_pool("jiuye_disb", max_size=20) as pool:
        yield PgStore(pool)


@pytest.fixture
def vault() -> AccountVault:
    return AccountVault(Keyring(current_id="t1", keys={"t1": os.urandom(32)}))


def row(period: str, amount: int, entry: str = "payment", seq: int = 0, due_on: date = DUE_ON,
        payee: str = "person/P1") -> PaymentRequest:
    return PaymentRequest(
        case_id=CASE, kind="internship_subsidy", payee=payee, program="internship", period=period, amount=amount,
        fund="employment_subsidy_fund", due_on=due_on, city="2101", rule="§14", entry=entry,
        seq=seq, corrects=None if entry == "payment" else period,
    )


async def write_ledger(store: Store, *rows: PaymentRequest) -> None:
    for r in rows:
        assert await store.pay(r, {"id": f"{r.ledger_key}", "data": {}})


def account_event(number: str, event_id: str, payee: str = "person/P1") -> CloudEvent:
    return CloudEvent(
        specversion="1.0", id=event_id, source="bank/2101", type="payee.account_updated", subject=payee,
        time=datetime(2020, 5, 2, tzinfo=timezone.utc),
        data={"payee": payee, "bank": "B1", "account_number": number, "holder_name": "Zhang San", "on": "2020-05-02"},
    )


def result_event(type_: str, instruction: str, on: str, **extra: Any) -> CloudEvent:
    return CloudEvent(specversion="1.0", id=f"r-{uuid.uuid4().hex[:8]}", source="treasury/2101", type=type_, subject="person/P1",
                      time=datetime(2020, 5, 3, tzinfo=timezone.utc), data={"instruction_id": instruction, "on": on, **extra})


async def outbox_of(store: Store, type_: str) -> list[dict[str, Any]]:
    if isinstance(store, MemoryStore):
        return [m for m in store.outbox if m.get("type") == type_]
    assert isinstance(store, PgStore)
    rows = await store.pool.fetch("SELECT value FROM outbox WHERE value->>'type' = $1 ORDER BY seq", type_)
    return [r["value"] for r in rows]


async def test_a_payment_less_its_deductions_and_arrears_are_due_overpayments_and_later_rows_are_not(store: Store) -> None:
    await write_ledger(
        store,
        row("month-1", 120000),
        row("month-1", 30000, entry="deduction", seq=1),
        row("month-2", 120000),
        row("month-2", 120000, entry="deduction", seq=1),  # deducted in full: nothing to pay
        row("month-1", 5000, entry="arrears", seq=1),
        row("month-3", 7000, entry="overpayment", seq=1),
        row("month-4", 120000, due_on=date(2020, 6, 1)),
    )
    due = await store.due_for_disbursement(DUE_ON, 100)
    assert {(d.ledger_key, d.amount) for d in due} == {
        (f"{CASE}|internship|month-1|payment|0", 90000),
        (f"{CASE}|internship|month-1|arrears|1", 5000),
    }
    assert [d.ledger_key for d in await store.due_for_disbursement(DUE_ON, 1)] == [min(d.ledger_key for d in due)]


async def test_accounts_are_stored_sealed_in_versions_and_a_redelivery_adds_none(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await desk.account(account_event(NUMBER, "a1"))
    await desk.account(account_event(NEW_NUMBER, "a2"))
    assert await store.current_accounts(["person/P1", "person/P2"]) == {"person/P1": "person/P1#2"}
    versions = await store.account_versions("person/P1")
    assert [v.last4 for v in versions] == ["2233", "8877"]
    assert vault.open("person/P1", "account_number", Sealed(versions[0].key_id, versions[0].number_sealed)) == NUMBER
    assert vault.open("person/P1", "holder_name", Sealed(versions[1].key_id, versions[1].holder_sealed)) == "Zhang San"
    assert all(NUMBER.encode() not in v.number_sealed for v in versions)
    if isinstance(store, PgStore):
        dump = await store.pool.fetchval(
            "SELECT string_agg(t::text, ' ') FROM payee_accounts t")
        assert NUMBER not in dump and NEW_NUMBER not in dump and "Zhang San" not in dump


async def test_a_due_row_is_instructed_into_its_days_batch_and_the_outbox_in_one_write(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000), row("month-2", 120000), row("month-3", 5000, payee="person/P9"))
    assert await desk.instruct_due(DUE_ON) == 3
    assert await desk.instruct_due(DUE_ON) == 0  # every due row has its disbursement now
    states = {s.due.ledger_key: s for s in await store.disbursements()}
    first = states[f"{CASE}|internship|month-1|payment|0"]
    assert (first.status, first.attempt, first.account_ref) == ("instructed", 1, "person/P1#1")
    assert states[f"{CASE}|internship|month-3|payment|0"].status == "awaiting_account"
    events = await outbox_of(store, "payment.instructed")
    assert sorted(e["data"]["amount"] for e in events) == [120000, 120000]
    assert all(NUMBER not in str(e) for e in events)
    assert {e["data"]["account_ref"] for e in events} == {"person/P1#1"}
    assert await store.disbursement_of_instruction(rules.instruction_id(first.due.ledger_key, 1)) == first
    (batch,) = await store.batches()
    assert (batch.batch_id, batch.count, batch.total, batch.closed) == (
        rules.batch_id("2101", "employment_subsidy_fund", DUE_ON), 2, 240000, False)


async def test_a_write_over_a_stale_version_writes_nothing(store: Store) -> None:
    await write_ledger(store, row("month-1", 120000))
    (due,) = await store.due_for_disbursement(DUE_ON, 10)
    step = rules.fall_due(due, DUE_ON, "person/P1#1")
    assert await store.write_disbursement(write_of(0, step))
    assert not await store.write_disbursement(write_of(0, step))  # the key exists: nothing twice
    settled = rules.settled(step.state, step.state.instruction_id or "", DUE_ON)
    assert await store.write_disbursement(write_of(step.state.version, settled))
    stale = rules.tick(step.state, date(2020, 5, 9), load_limits())
    assert stale.effects  # payment_unconfirmed, computed from the state before the settlement
    assert not await store.write_disbursement(write_of(step.state.version, stale))
    assert (await store.disbursement(due.ledger_key)).status == "settled"
    assert len((await store.batches())) == 1 and (await store.batches())[0].count == 1


async def test_concurrent_desks_instruct_each_key_once(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, *(row(f"month-{n}", 1000 + n) for n in range(1, 31)))
    taken = await asyncio.gather(*(desk.instruct_due(DUE_ON) for _ in range(4)))
    assert sum(taken) == 30
    (batch,) = await store.batches()
    assert (batch.count, batch.total) == (30, sum(1000 + n for n in range(1, 31)))
    assert len(await outbox_of(store, "payment.instructed")) == 30


async def test_results_settle_return_reinstruct_and_a_second_settlement_is_a_recovery(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000))
    await desk.instruct_due(DUE_ON)
    key = f"{CASE}|internship|month-1|payment|0"
    first, second = rules.instruction_id(key, 1), rules.instruction_id(key, 2)
    await desk.result(result_event("payment.returned", first, "2020-05-02", reason="account_closed"))
    assert (await store.disbursement(key)).status == "returned"
    await desk.account(account_event(NEW_NUMBER, "a2"))
    state = await store.disbursement(key)
    assert state is not None and (state.status, state.instruction_id, state.account_ref) == ("instructed", second, "person/P1#2")
    await desk.result(result_event("payment.settled", second, "2020-05-03"))
    await desk.result(result_event("payment.settled", first, "2020-05-04"))  # the closed account paid after all
    assert (await store.disbursement(key)).status == "settled"
    (alert,) = await outbox_of(store, "alert.double_settlement")
    assert alert["data"]["details"]["amount"] == 120000
    if isinstance(store, PgStore):
        assert await store.pool.fetchval("SELECT amount_fen FROM disbursement_recoveries") == 120000
        assert await store.pool.fetchval("SELECT result FROM payment_instructions WHERE instruction_id = $1", first) == "settled"
    elif isinstance(store, MemoryStore):
        assert [r.amount for r in store.recoveries.values()] == [120000]
    # Each attempt joined the batch of the day it was made (the re-instruction: the account's day).
    assert [(b.on_date, b.count) for b in await store.batches()] == [(DUE_ON, 1), (date(2020, 5, 2), 1)]


async def test_the_days_raise_tasks_once_and_close_earlier_batches_once(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000), row("month-2", 5000, payee="person/P9"))
    await desk.instruct_due(DUE_ON)
    assert await desk.pass_day(date(2020, 5, 4)) == 1  # payment_unconfirmed (3 days)
    assert await desk.pass_day(date(2020, 5, 5)) == 0
    assert await desk.pass_day(date(2020, 5, 16)) == 1  # awaiting_account (15 days)
    raised = await outbox_of(store, "case.task_raised")
    assert sorted(e["data"]["kind"] for e in raised) == ["awaiting_account", "payment_unconfirmed"]
    (closed,) = await outbox_of(store, "payment.batch_closed")
    assert (closed["data"]["count"], closed["data"]["total"], closed["data"]["date"]) == (1, 120000, "2020-05-01")
    assert all(b.closed for b in await store.batches())


def load_limits() -> rules.Limits:
    return rules.Limits.of(load_pack().parameters("2101"), DUE_ON)



async def test_reconciliation_shows_where_each_fen_stands_and_masks_accounts(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000), row("month-2", 100000), row("month-3", 5000, payee="person/P9"),
                       row("month-4", 7000, due_on=date(2020, 5, 2)))
    await desk.instruct_due(DUE_ON)
    await desk.result(result_event("payment.settled", rules.instruction_id(f"{CASE}|internship|month-1|payment|0", 1),
                                   "2020-05-02"))
    report = await reconcile(store, date(2020, 5, 2))
    (line,) = report.lines
    assert (line.city, line.fund, line.keys, line.total) == ("2101", "employment_subsidy_fund", 3, 225000)
    assert line.by_status == {"settled": [1, 120000], "instructed": [1, 100000], "returned": [0, 0],
                              "awaiting_account": [1, 5000], "stopped": [0, 0]}
    assert (report.not_taken, report.batches_open) == (1, 1)
    assert {(u.status, u.account) for u in report.exceptions} == {("instructed", "****2233"), ("awaiting_account", None)}
    shown = text(report)
    assert "****2233" in shown and NUMBER not in shown and NUMBER not in str(report.as_json())
    assert (await reconcile(store, date(2020, 5, 2), city="2102")).lines == []
