"""POLICY.md part 2, "Disbursement: from ledger row to the payee's account": each rule as a
transition of policy/disbursement.py, with the shipped parameters."""

from __future__ import annotations

from datetime import date, timedelta

from policy import disbursement as rules
from policy.pack import load_pack

DUE_ON = date(2020, 5, 1)
PARAMS = load_pack().parameters("2101")
LIMITS = rules.Limits.of(PARAMS, DUE_ON)
KEY = rules.ledger_key_of("internship/P1/U1", "internship", "month-1", "payment", 0)
DUE = rules.Due(ledger_key=KEY, case_id="internship/P1/U1", payee="person/P1", fund="employment_subsidy_fund",
            city="2101", amount=120000, due_on=DUE_ON)
ACCOUNT = "person/P1#1"
NEW_ACCOUNT = "person/P1#2"


def days(n: int) -> date:
    return DUE_ON + timedelta(days=n)


def instructed(account: str = ACCOUNT) -> rules.Disbursement:
    return rules.fall_due(DUE, DUE_ON, account).state


def returned_once(reason: rules.ReturnReason, current: str | None = ACCOUNT) -> rules.Step:
    state = instructed()
    return rules.returned(state, state.instruction_id or "", days(2), reason, current, LIMITS)


def test_the_shipped_parameters_are_policy_md_defaults() -> None:
    assert LIMITS == rules.Limits(result_days=3, retry_days=5, max_attempts=3, awaiting_account_days=15)


def test_on_its_due_date_a_ledger_row_becomes_an_instruction_to_the_account_reference() -> None:
    step = rules.fall_due(DUE, DUE_ON, ACCOUNT)
    assert step.state.status == "instructed"
    assert step.state.attempt == 1
    assert step.effects == (rules.Instruct(rules.instruction_id(KEY, 1), 1, ACCOUNT, DUE_ON),)


def test_an_instruction_id_is_unique_per_attempt_stable_and_a_plain_token() -> None:
    first, second = rules.instruction_id(KEY, 1), rules.instruction_id(KEY, 2)
    assert first != second
    assert first == rules.instruction_id(KEY, 1)
    assert first != rules.instruction_id(rules.ledger_key_of("internship/P2/U1", "internship", "month-1", "payment", 0), 1)
    assert all(c.isalnum() or c in "-_" for c in first + second)


def test_instructions_are_batched_daily_per_city_and_fund() -> None:
    assert rules.batch_id("2101", "ui_fund", DUE_ON) == "PB-2101-ui_fund-20200501"
    assert rules.batch_id("2101", "ui_fund", DUE_ON) != rules.batch_id("2102", "ui_fund", DUE_ON)
    assert rules.batch_id("2101", "ui_fund", DUE_ON) != rules.batch_id("2101", "dibao_fund", DUE_ON)
    assert rules.batch_id("2101", "ui_fund", DUE_ON) != rules.batch_id("2101", "ui_fund", days(1))


def test_a_payee_without_an_account_on_the_due_date_waits() -> None:
    step = rules.fall_due(DUE, DUE_ON, None)
    assert step.state.status == "awaiting_account"
    assert step.state.attempt == 0
    assert step.effects == ()


def test_a_waiting_payee_is_instructed_once_an_account_is_registered() -> None:
    waiting = rules.fall_due(DUE, DUE_ON, None).state
    step = rules.account_changed(waiting, ACCOUNT, days(3), LIMITS)
    assert step.state.status == "instructed"
    assert step.effects == (rules.Instruct(rules.instruction_id(KEY, 1), 1, ACCOUNT, days(3)),)


def test_awaiting_account_raises_a_task_after_15_days_once() -> None:
    waiting = rules.fall_due(DUE, DUE_ON, None).state
    assert rules.tick(waiting, days(14), LIMITS).effects == ()
    step = rules.tick(waiting, days(15), LIMITS)
    (task,) = step.effects
    assert isinstance(task, rules.RaiseTask) and task.kind == "awaiting_account"
    assert rules.tick(step.state, days(16), LIMITS).effects == ()


def test_a_settled_instruction_settles_its_ledger_key() -> None:
    state = instructed()
    step = rules.settled(state, state.instruction_id or "", days(1))
    assert step.state.status == "settled"
    assert step.state.settled_by == state.instruction_id
    assert step.effects == ()
    assert not rules.is_open(step.state)


def test_the_same_settlement_delivered_twice_is_one() -> None:
    state = instructed()
    once = rules.settled(state, state.instruction_id or "", days(1)).state
    again = rules.settled(once, state.instruction_id or "", days(1))
    assert again.state == once and again.effects == ()


def test_a_second_settlement_of_a_settled_key_is_a_double_settlement_and_a_recovery_item() -> None:
    first = returned_once("account_closed", current=NEW_ACCOUNT).state  # attempt 2 instructed at once
    settled_first = rules.settled(first, rules.instruction_id(KEY, 2), days(3)).state
    step = rules.settled(settled_first, rules.instruction_id(KEY, 1), days(4))
    (double,) = step.effects
    assert isinstance(double, rules.DoubleSettlement)
    assert double.amount == DUE.amount
    assert (double.instruction_id, double.first_instruction_id) == (rules.instruction_id(KEY, 1), rules.instruction_id(KEY, 2))
    assert step.state.status == "settled"


def test_a_returned_payment_waits_for_the_payees_account_to_change() -> None:
    step = returned_once("account_closed")
    assert step.state.status == "returned" and step.effects == ()
    assert rules.tick(step.state, days(30), LIMITS).effects == ()  # only `other` is retried by time
    assert rules.account_changed(step.state, ACCOUNT, days(3), LIMITS).effects == ()  # the same account again


def test_a_returned_payment_is_instructed_again_on_account_updated_with_a_new_id_and_the_same_key() -> None:
    back = returned_once("account_frozen").state
    step = rules.account_changed(back, NEW_ACCOUNT, days(4), LIMITS)
    assert step.state.status == "instructed"
    assert step.state.due.ledger_key == KEY
    assert step.effects == (rules.Instruct(rules.instruction_id(KEY, 2), 2, NEW_ACCOUNT, days(4)),)


def test_an_account_updated_before_the_return_arrives_is_used_at_once() -> None:
    step = returned_once("name_mismatch", current=NEW_ACCOUNT)
    assert step.state.status == "instructed"
    assert step.effects == (rules.Instruct(rules.instruction_id(KEY, 2), 2, NEW_ACCOUNT, days(2)),)


def test_a_return_for_reason_other_is_instructed_again_after_retry_days() -> None:
    back = returned_once("other").state
    assert rules.tick(back, days(2 + 4), LIMITS).effects == ()
    step = rules.tick(back, days(2 + 5), LIMITS)
    assert step.effects == (rules.Instruct(rules.instruction_id(KEY, 2), 2, ACCOUNT, days(7)),)


def test_after_max_attempts_a_return_raises_payment_returned_and_is_not_instructed_again() -> None:
    state = instructed()
    for attempt in range(1, LIMITS.max_attempts):
        state = rules.returned(state, rules.instruction_id(KEY, attempt), days(attempt), "other", ACCOUNT, LIMITS).state
        state = rules.tick(state, state.since + timedelta(days=LIMITS.retry_days), LIMITS).state
    assert state.attempt == LIMITS.max_attempts
    step = rules.returned(state, rules.instruction_id(KEY, LIMITS.max_attempts), days(30), "account_closed", ACCOUNT, LIMITS)
    (task,) = step.effects
    assert isinstance(task, rules.RaiseTask) and task.kind == "payment_returned"
    assert step.state.status == "returned"
    assert rules.account_changed(step.state, NEW_ACCOUNT, days(31), LIMITS).effects == ()
    assert rules.tick(step.state, days(60), LIMITS).effects == ()


def test_a_return_of_an_earlier_attempt_changes_nothing() -> None:
    again = rules.account_changed(returned_once("account_closed").state, NEW_ACCOUNT, days(3), LIMITS).state
    step = rules.returned(again, rules.instruction_id(KEY, 1), days(4), "account_closed", NEW_ACCOUNT, LIMITS)
    assert step.state == again and step.effects == ()


def test_an_instruction_without_a_result_after_result_days_raises_payment_unconfirmed_once() -> None:
    state = instructed()
    assert rules.tick(state, days(2), LIMITS).effects == ()
    step = rules.tick(state, days(3), LIMITS)
    (task,) = step.effects
    assert isinstance(task, rules.RaiseTask) and task.kind == "payment_unconfirmed"
    assert task.task_id == rules.task_id("payment_unconfirmed", KEY, 1)
    assert rules.tick(step.state, days(4), LIMITS).effects == ()


def test_a_late_result_still_settles_an_unconfirmed_instruction() -> None:
    state = rules.tick(instructed(), days(3), LIMITS).state
    assert rules.settled(state, state.instruction_id or "", days(5)).state.status == "settled"


def test_every_transition_bumps_the_version_and_a_no_op_does_not() -> None:
    state = instructed()
    assert state.version == 1  # the first state written, instructed or waiting
    assert rules.tick(state, days(1), LIMITS).state.version == state.version
    assert rules.settled(state, state.instruction_id or "", days(1)).state.version == state.version + 1


def test_no_state_or_effect_holds_more_than_an_account_reference() -> None:
    fields = set(rules.Disbursement.__dataclass_fields__) | set(rules.Instruct.__dataclass_fields__)
    assert not {f for f in fields if "number" in f or "holder" in f}
