"""A supervisor's decisions on the disbursement desk's tasks (policy/disbursement_decisions.py,
activities/disbursement_tasks.py), one test per transition, over the in-memory store: the key's
new state, its instruction and result rows, and the task decided in the same write."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from activities.disbursement_desk import DisbursementDesk, write_of
from activities.disbursement_tasks import decide
from activities.memory_store import MemoryStore
from activities.store import PayeeAccountRow, TaskNotOpen
from contracts.cases import TaskRecord
from policy import disbursement as rules
from policy.disbursement_decisions import ACTIONS, Refused
from policy.pack import load_pack

PACK = load_pack()
DAY = date(2020, 5, 6)
PAYEE = "person/P1"
DUE = rules.Due(ledger_key=rules.ledger_key_of("hubei_grant/P1", "hubei_graduate_grant", "once", "payment", 0),
                case_id="hubei_grant/P1", payee=PAYEE, fund="employment_subsidy_fund", city="2101", amount=150000,
                due_on=DAY)
LIMITS = rules.Limits.of(PACK.parameters("2101"), DAY)


async def account(store: MemoryStore, last4: str, n: int) -> str:
    return await store.register_account(PayeeAccountRow(payee=PAYEE, bank="B1", key_id="k", number_sealed=b"x",
                                                        holder_sealed=b"y", last4=last4, on_date=DAY, event_key=f"e{n}"))


async def write(store: MemoryStore, before: rules.Disbursement | None, step: rules.Step) -> rules.Disbursement:
    assert await store.write_disbursement(write_of(before.version if before else 0, step, today=step.state.since))
    return step.state


async def returned_for_good(store: MemoryStore) -> rules.Disbursement:
    """A key returned (reason `other`, retried after `retry_days`) on all its `max_attempts` attempts:
    task payment_returned."""
    ref = await account(store, "1230", 1)
    state = await write(store, None, rules.fall_due(DUE, DAY, ref))
    for attempt in range(1, LIMITS.max_attempts + 1):
        state = await write(store, state, rules.returned(state, state.instruction_id or "", DAY, "other", ref, LIMITS))
        if attempt < LIMITS.max_attempts:
            state = await write(store, state, rules.tick(state, DAY + timedelta(days=LIMITS.retry_days), LIMITS))
    assert state.status == "returned" and state.attempt == LIMITS.max_attempts
    return state


async def unconfirmed(store: MemoryStore) -> rules.Disbursement:
    ref = await account(store, "4567", 1)
    state = await write(store, None, rules.fall_due(DUE, DAY, ref))
    return await write(store, state, rules.tick(state, DAY + timedelta(days=LIMITS.result_days), LIMITS))


async def waiting(store: MemoryStore) -> rules.Disbursement:
    state = await write(store, None, rules.fall_due(DUE, DAY, None))
    return await write(store, state, rules.tick(state, DAY + timedelta(days=LIMITS.awaiting_account_days), LIMITS))


def task_of(store: MemoryStore, kind: str) -> TaskRecord:
    (row,) = [t for t in store.tasks.values() if t["kind"] == kind and t["state"] == "open"]
    return TaskRecord.model_validate(row)


async def decided(store: MemoryStore, kind: str, decision: dict[str, Any], on: date = DAY) -> rules.Disbursement:
    task = task_of(store, kind)
    state = await decide(store, PACK, task, "sup-2101", decision, on)
    assert store.tasks[task.task_id]["state"] == "decided" and store.tasks[task.task_id]["decided_by"] == "sup-2101"
    assert store.disbursement_states[DUE.ledger_key] == state
    return state


def results(store: MemoryStore) -> list[tuple[int, str | None]]:
    return sorted((row.attempt, result.result if result else None) for row, result in store.instructions.values())


async def test_a_returned_key_is_instructed_again_to_the_payees_new_account() -> None:
    store = MemoryStore()
    await returned_for_good(store)
    new = await account(store, "9871", 2)
    state = await decided(store, "payment_returned", {"action": "reinstruct"}, DAY + timedelta(days=20))
    assert (state.status, state.attempt, state.account_ref) == ("instructed", LIMITS.max_attempts + 1, new)
    assert state.instruction_id == rules.instruction_id(DUE.ledger_key, LIMITS.max_attempts + 1)
    assert results(store)[-1] == (LIMITS.max_attempts + 1, None)


async def test_a_key_returned_from_a_closed_account_is_not_sent_there_again() -> None:
    store = MemoryStore()
    ref = await account(store, "1230", 1)
    state = await write(store, None, rules.fall_due(DUE, DAY, ref))
    one = rules.Limits(LIMITS.result_days, LIMITS.retry_days, 1, LIMITS.awaiting_account_days)
    await write(store, state, rules.returned(state, state.instruction_id or "", DAY, "account_closed", ref, one))
    with pytest.raises(Refused, match="closed"):
        await decide(store, PACK, task_of(store, "payment_returned"), "sup", {"action": "reinstruct"}, DAY)
    assert task_of(store, "payment_returned").state == "open"


async def test_a_returned_key_is_stopped_with_a_reason_and_the_days_no_longer_move_it() -> None:
    store = MemoryStore()
    await returned_for_good(store)
    with pytest.raises(Refused, match="needs a reason"):
        await decide(store, PACK, task_of(store, "payment_returned"), "sup", {"action": "stop"}, DAY)
    state = await decided(store, "payment_returned", {"action": "stop", "reason": "payee deceased"})
    assert state.status == "stopped" and not rules.is_open(state)
    assert await store.disbursements(open_only=True) == []
    desk = DisbursementDesk(store, PACK, None, clock=lambda: DAY)
    assert await desk.pass_day(DAY + timedelta(days=100)) == 0


async def test_an_unconfirmed_payment_is_marked_settled_with_the_treasurys_reference() -> None:
    store = MemoryStore()
    await unconfirmed(store)
    with pytest.raises(Refused, match="reference"):
        await decide(store, PACK, task_of(store, "payment_unconfirmed"), "sup", {"action": "settled"}, DAY)
    state = await decided(store, "payment_unconfirmed", {"action": "settled", "reference": "TR-2020-0506-17"})
    assert state.status == "settled" and state.settled_by == rules.instruction_id(DUE.ledger_key, 1)
    assert results(store) == [(1, "settled")]
    decision = next(iter(store.tasks.values()))["decision"]
    assert decision == {"action": "settled", "reference": "TR-2020-0506-17"}


async def test_an_unconfirmed_payment_is_marked_returned_with_a_return_reason() -> None:
    store = MemoryStore()
    await unconfirmed(store)
    with pytest.raises(Refused, match="account_closed"):
        await decide(store, PACK, task_of(store, "payment_unconfirmed"), "sup", {"action": "returned", "reason": "lost"}, DAY)
    state = await decided(store, "payment_unconfirmed", {"action": "returned", "reason": "account_frozen"})
    assert (state.status, state.reason) == ("returned", "account_frozen")
    assert results(store) == [(1, "returned")]


async def test_an_unconfirmed_payment_is_sent_again_and_a_late_second_settlement_is_a_double_settlement() -> None:
    store = MemoryStore()
    await unconfirmed(store)
    state = await decided(store, "payment_unconfirmed", {"action": "reinstruct"})
    assert (state.status, state.attempt) == ("instructed", 2)
    first, second = (rules.instruction_id(DUE.ledger_key, n) for n in (1, 2))
    state = await write(store, state, rules.settled(state, first, DAY))
    late = rules.settled(state, second, DAY)
    assert [type(e).__name__ for e in late.effects] == ["DoubleSettlement"]


async def test_a_payee_without_an_account_is_waited_on_or_closed() -> None:
    store = MemoryStore()
    before = await waiting(store)
    state = await decided(store, "awaiting_account", {"action": "wait"})
    assert state.status == "awaiting_account" and state.version == before.version + 1
    ref = await account(store, "5555", 1)
    moved = rules.account_changed(state, ref, DAY, LIMITS)
    assert moved.state.status == "instructed"

    other = MemoryStore()
    await waiting(other)
    closed = await decided(other, "awaiting_account", {"action": "close", "reason": "payee moved abroad"})
    assert closed.status == "stopped"


async def test_a_decision_the_task_cannot_take_is_refused_with_the_actions_it_takes() -> None:
    store = MemoryStore()
    await waiting(store)
    with pytest.raises(Refused, match=re.escape("wait | close")):
        await decide(store, PACK, task_of(store, "awaiting_account"), "sup", {"action": "reinstruct"}, DAY)
    with pytest.raises(Refused, match="unknown field"):
        await decide(store, PACK, task_of(store, "awaiting_account"), "sup", {"action": "wait", "months": 6}, DAY)
    assert set(ACTIONS) == {"payment_returned", "payment_unconfirmed", "awaiting_account"}


async def test_a_task_the_key_has_moved_past_is_refused_as_out_of_date() -> None:
    store = MemoryStore()
    state = await waiting(store)
    ref = await account(store, "5555", 1)
    await write(store, state, rules.account_changed(state, ref, DAY, LIMITS))
    with pytest.raises(Refused, match="out of date"):
        await decide(store, PACK, task_of(store, "awaiting_account"), "sup", {"action": "close", "reason": "x"}, DAY)


async def test_a_task_decided_twice_is_not_open_the_second_time() -> None:
    store = MemoryStore()
    await waiting(store)
    task = task_of(store, "awaiting_account")
    await decide(store, PACK, task, "sup-a", {"action": "wait"}, DAY)
    with pytest.raises(TaskNotOpen):
        await decide(store, PACK, task, "sup-b", {"action": "wait"}, DAY)
    assert store.tasks[task.task_id]["decided_by"] == "sup-a"
