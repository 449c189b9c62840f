"""Netting and dated parameters of the disbursement desk on both stores (a fresh, migrated
PostgreSQL database per test, and the in-memory store): a deduction written after its payment was
instructed nets against the payee's next keys of the fund, at most the recovery ratio of each,
recorded with the key it was netted against, never lost nor taken twice (desks racing included);
and the desk's parameters follow `policy.parameter.changed` from its effective date."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from typing import Any

import pytest

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.memory_store import MemoryStore
from activities.pg_store import PgStore
from activities.store import SharedFact, Store
from contracts.events import CloudEvent
from policy import disbursement as rules
from policy.pack import load_pack
from tests.e2e import test_disbursement_store as base
from tests.e2e.test_disbursement_store import CASE, DUE_ON, NUMBER, account_event, outbox_of, row, write_ledger

pytestmark = pytest.mark.e2e

LATER = date(2020, 6, 1)
store, vault = base.store, base.vault  # the fixtures: both stores, a test keyring


def key(period: str, entry: str = "payment", seq: int = 0) -> str:
    return rules.ledger_key_of(CASE, "internship", period, entry, seq)


async def nettings(store: Store) -> dict[tuple[str, str], int]:
    if isinstance(store, MemoryStore):
        return dict(store.nettings)
    assert isinstance(store, PgStore)
    rows = await store.pool.fetch("SELECT deduction_key, ledger_key, amount_fen FROM disbursement_nettings")
    return {(r["deduction_key"], r["ledger_key"]): r["amount_fen"] for r in rows}


async def instructed_amounts(store: Store) -> dict[str, int]:
    return {e["data"]["ledger_key"]["period"]: e["data"]["amount"] for e in await outbox_of(store, "payment.instructed")}


async def test_a_deduction_before_its_payment_is_taken_nets_in_full_and_is_recorded(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000), row("month-1", 30000, entry="deduction", seq=1))
    assert await desk.instruct_due(DUE_ON) == 1
    assert await instructed_amounts(store) == {"month-1": 90000}
    assert await nettings(store) == {(key("month-1", "deduction", 1), key("month-1")): 30000}
    assert await store.late_deductions(["person/P1"]) == []  # netted: nothing left for later keys


async def test_a_late_deduction_nets_against_the_next_keys_at_most_the_ratio_and_once(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000))
    await desk.instruct_due(DUE_ON)
    # The case finds month-1 overpaid after it was instructed: the deduction comes too late for it.
    await write_ledger(store, row("month-1", 90000, entry="deduction", seq=1))
    assert await store.late_deductions(["person/P1"]) == [
        rules.OpenDeduction(key("month-1", "deduction", 1), "person/P1", "employment_subsidy_fund", 90000)]
    await write_ledger(store, row("month-2", 120000, due_on=LATER), row("month-3", 120000, due_on=LATER),
                       row("month-4", 8000, due_on=LATER, payee="person/P9"))  # another payee: untouched
    assert await desk.instruct_due(LATER) == 3
    # recovery.max_deduction_ratio is 50%: month-2 pays 60000 (60000 netted), month-3 90000 (the 30000 left).
    assert await instructed_amounts(store) == {"month-1": 120000, "month-2": 60000, "month-3": 90000}
    deduction = key("month-1", "deduction", 1)
    assert await nettings(store) == {(deduction, key("month-2")): 60000, (deduction, key("month-3")): 30000}
    assert await store.late_deductions(["person/P1"]) == []
    states = {s.due.ledger_key: s for s in await store.disbursements()}
    assert states[key("month-2")].due.amount == 60000 and states[key("month-3")].due.amount == 90000
    await write_ledger(store, row("month-5", 120000, due_on=LATER))
    assert await desk.instruct_due(LATER) == 1
    assert (await instructed_amounts(store))["month-5"] == 120000  # taken once: nothing left to net


async def test_desks_racing_net_a_late_deduction_exactly_once(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-0", 1000))
    await desk.instruct_due(DUE_ON)
    await write_ledger(store, row("month-0", 1000, entry="deduction", seq=1))
    await write_ledger(store, *(row(f"month-{n}", 300, due_on=LATER) for n in range(1, 13)))
    # Until every due key is taken (a desk whose netting lost a race leaves its key for a later pass).
    for _ in range(5):
        await asyncio.gather(*(desk.instruct_due(LATER) for _ in range(4)))
        if not await store.due_for_disbursement(LATER, 100):
            break
    amounts = await instructed_amounts(store)
    assert len(amounts) == 13
    netted = await nettings(store)
    assert sum(netted.values()) == 1000  # all of the deduction, not a fen more
    gross = 1000 + 12 * 300
    assert sum(amounts.values()) == gross - 1000
    assert all(fen <= 150 for fen in netted.values())  # 50% of a 300-fen key


def parameter_changed(name: str, value: Any, effective_on: str, city: str | None) -> tuple[CloudEvent, SharedFact]:
    data = {"city": city, "name": name, "value": value, "effective_on": effective_on}
    time = datetime(2020, 4, 20, tzinfo=timezone.utc)
    event = CloudEvent(specversion="1.0", id=f"p-{name}-{city}", source=f"policy/{city or 21}", type="policy.parameter.changed",
                       subject=f"city/{city}" if city else "province/21", time=time, data=data)
    return event, SharedFact(type=event.type, scope=city or "province", on_date=date.fromisoformat(effective_on),
                             payload=data, event_time=time)


async def test_the_desk_follows_dated_parameter_changes_of_its_city(store: Store, vault: AccountVault) -> None:
    for change in (parameter_changed(rules.RESULT_DAYS, 10, "2020-05-02", "2101"),
                   parameter_changed(rules.RESULT_DAYS, 1, "2020-05-02", "2102"),  # another city's
                   parameter_changed(rules.MAX_ATTEMPTS, 5, "2020-06-01", None)):  # the province's
        await store.store_shared_fact(*change)
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    before, after = await desk.limits("2101", DUE_ON), await desk.limits("2101", date(2020, 5, 2))
    assert (before.result_days, after.result_days) == (3, 10)  # the pack's value until the change
    assert (await desk.limits("2102", date(2020, 5, 2))).result_days == 1
    assert [(await desk.limits("2101", day)).max_attempts for day in (DUE_ON, LATER)] == [3, 5]
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000))
    await desk.instruct_due(DUE_ON)
    assert await desk.pass_day(date(2020, 5, 4)) == 0  # 3 days would have raised payment_unconfirmed
    assert await desk.pass_day(date(2020, 5, 10)) == 0
    assert await desk.pass_day(date(2020, 5, 11)) == 1  # 10 days, in force since 2020-05-02
    (task,) = await outbox_of(store, "case.task_raised")
    assert task["data"]["kind"] == "payment_unconfirmed"


async def test_a_return_arriving_after_the_settlement_of_its_instruction_does_not_undo_it(store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await write_ledger(store, row("month-1", 120000))
    await desk.instruct_due(DUE_ON)
    first = rules.instruction_id(key("month-1"), 1)
    await desk.result(base.result_event("payment.settled", first, "2020-05-02"))
    await desk.result(base.result_event("payment.returned", first, "2020-05-01", reason="other"))  # out of order
    assert (await store.disbursement(key("month-1"))).status == "settled"
    if isinstance(store, PgStore):
        assert await store.pool.fetchval("SELECT result FROM payment_instructions WHERE instruction_id = $1", first) == "settled"
    elif isinstance(store, MemoryStore):
        assert store.instructions[first][1].result == "settled"
