"""Disbursement: from a ledger row to the payee's account (POLICY.md part 2), as pure transitions
of one ledger key's disbursement state.

A ledger row that pays (a `payment` less the deductions taken from it, or an `arrears` row) is an
entitlement; on its due date it is instructed to the treasury, which answers settled or returned.
Each function below takes the state and what happened and returns the next state with the
effects to carry out (instruct, raise a task, raise an alert, record a recovery item). The caller
(activities/disbursement_desk.py) writes the state and its effects in one transaction, so a
transition taken twice does nothing twice: instruction and task ids are derived from the ledger
key and the attempt.

Account references only: the state never holds an account number, only the reference of the
payee's account version (`account_ref`), so an instruction, a log line or an id cannot leak one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import Literal

from contracts.parameters import Parameters

# `stopped`: a supervisor stopped the key (policy/disbursement_decisions.py); nothing moves it again.
Status = Literal["awaiting_account", "instructed", "settled", "returned", "stopped"]
ReturnReason = Literal["account_closed", "account_frozen", "name_mismatch", "other"]
TaskKind = Literal["payment_returned", "payment_unconfirmed", "awaiting_account"]

# The parameters of this module (policy/packs/liaoning-2020.toml), in one place.
RESULT_DAYS = "disbursement.result_days"
RETRY_DAYS = "disbursement.retry_days"
MAX_ATTEMPTS = "disbursement.max_attempts"
AWAITING_ACCOUNT_DAYS = "disbursement.awaiting_account_days"
MAX_DEDUCTION_RATIO = "recovery.max_deduction_ratio"


@dataclass(frozen=True)
class Limits:
    """The disbursement parameters of a city in force on a date."""

    result_days: int
    retry_days: int
    max_attempts: int
    awaiting_account_days: int

    @classmethod
    def of(cls, parameters: Parameters, on: date) -> Limits:
        return cls(
            result_days=parameters.integer(RESULT_DAYS, on),
            retry_days=parameters.integer(RETRY_DAYS, on),
            max_attempts=parameters.integer(MAX_ATTEMPTS, on),
            awaiting_account_days=parameters.integer(AWAITING_ACCOUNT_DAYS, on),
        )


@dataclass(frozen=True)
class Netting:
    """Fen of one `deduction` ledger row netted against the instruction of a paying key."""

    deduction_key: str  # the deduction row's ledger key
    amount: int  # fen, > 0


@dataclass(frozen=True)
class Due:
    """A ledger row that pays, as the disbursement sees it: its key, the payee, the net amount and
    the deductions netted to reach it (recorded with the key when it is taken, so a deduction is
    never netted twice: the store refuses a key whose nettings exceed what a deduction has left)."""

    ledger_key: str  # "case_id|program|period|entry|seq" (ledger_key_of)
    case_id: str
    payee: str
    fund: str
    city: str | None
    amount: int  # fen, > 0: the row's amount less the deductions netted against it
    due_on: date
    deducted: tuple[Netting, ...] = ()  # as taken; not read back with a stored key

    @property
    def gross(self) -> int:
        """The ledger row's own amount."""
        return self.amount + sum(n.amount for n in self.deducted)


@dataclass(frozen=True)
class OpenDeduction:
    """A late deduction: a `deduction` row written after the payment it was taken from had been
    instructed, with the fen not yet netted against any instruction."""

    deduction_key: str
    payee: str
    fund: str
    remaining: int  # fen, > 0


@dataclass(frozen=True)
class Disbursement:
    """Where one ledger key stands. `attempt` counts instructions (0 while awaiting an account);
    `since` is the date of the last transition; `raised` the task ids raised so far."""

    due: Due
    status: Status
    since: date
    attempt: int = 0
    instruction_id: str | None = None
    account_ref: str | None = None
    instructed_on: date | None = None
    reason: ReturnReason | None = None
    settled_by: str | None = None
    raised: tuple[str, ...] = ()
    version: int = 0  # bumped by every transition; the store writes a state over its predecessor only


@dataclass(frozen=True)
class Instruct:
    instruction_id: str
    attempt: int
    account_ref: str
    on: date


@dataclass(frozen=True)
class RaiseTask:
    task_id: str
    kind: TaskKind
    due_on: date
    details: dict[str, object]


@dataclass(frozen=True)
class DoubleSettlement:
    """A settled key settled again: an alert `double_settlement` and a recovery item of the amount."""

    alert_id: str
    instruction_id: str
    first_instruction_id: str
    amount: int
    on: date


Effect = Instruct | RaiseTask | DoubleSettlement


@dataclass(frozen=True)
class Step:
    state: Disbursement
    effects: tuple[Effect, ...] = ()


def net_late_deductions(due: Due, open_deductions: Iterable[OpenDeduction], ratio: Fraction) -> Due:
    """`due` less the late deductions of its payee and fund (POLICY.md part 2: recovered from the
    same payee's later payments of the same fund), oldest first as given, together at most `ratio`
    of the amount `due` would pay; what a deduction has left beyond that waits for the next key.
    A deduction's own payment nets it in full before this (the store's due rows), so a late one
    only ever meets later keys."""
    room = int(due.amount * ratio)  # whole fen, rounded down: never more than the ratio
    taken: list[Netting] = []
    for open_ in open_deductions:
        if room <= 0:
            break
        if open_.payee != due.payee or open_.fund != due.fund or open_.remaining <= 0:
            continue
        amount = min(room, open_.remaining)
        taken.append(Netting(open_.deduction_key, amount))
        room -= amount
    if not taken:
        return due
    return replace(due, amount=due.amount - sum(n.amount for n in taken), deducted=(*due.deducted, *taken))


def less_netted(open_deductions: Iterable[OpenDeduction], due: Due) -> list[OpenDeduction]:
    """What the late deductions have left once `due` is taken with its nettings."""
    used: dict[str, int] = {}
    for n in due.deducted:
        used[n.deduction_key] = used.get(n.deduction_key, 0) + n.amount
    left = [replace(o, remaining=o.remaining - used.get(o.deduction_key, 0)) for o in open_deductions]
    return [o for o in left if o.remaining > 0]


def ledger_key_of(case_id: str, program: str, period: str, entry: str, seq: int) -> str:
    return f"{case_id}|{program}|{period}|{entry}|{seq}"


def instruction_id(ledger_key: str, attempt: int) -> str:
    """Unique per (ledger key, attempt), stable across retries, and a plain token (EVENTS.md ids):
    the ledger key holds `/` and `|`, so it is named by a digest."""
    digest = hashlib.sha256(ledger_key.encode()).hexdigest()[:24]
    return f"PI-{digest}-{attempt}"


def batch_id(city: str | None, fund: str, day: date) -> str:
    """The daily treasury file of a (city, fund)."""
    return f"PB-{city or 'province'}-{fund}-{day:%Y%m%d}"


def task_id(kind: TaskKind, ledger_key: str, attempt: int) -> str:
    return f"{kind}:{ledger_key}:{attempt}"


def _next(state: Disbursement, **changes: object) -> Disbursement:
    return replace(state, version=state.version + 1, **changes)  # type: ignore[arg-type]


def _instruct(state: Disbursement, account_ref: str, today: date) -> Step:
    attempt = state.attempt + 1
    iid = instruction_id(state.due.ledger_key, attempt)
    new = _next(state, status="instructed", since=today, attempt=attempt, instruction_id=iid,
                account_ref=account_ref, instructed_on=today, reason=None)
    return Step(new, (Instruct(iid, attempt, account_ref, today),))


def _task(state: Disbursement, kind: TaskKind, today: date, **details: object) -> Step:
    tid = task_id(kind, state.due.ledger_key, state.attempt)
    if tid in state.raised:
        return Step(state)
    new = _next(state, raised=(*state.raised, tid))
    return Step(new, (RaiseTask(tid, kind, today, {"ledger_key": state.due.ledger_key, **details}),))


def reinstruct(state: Disbursement, account_ref: str, today: date) -> Step:
    """A new attempt to `account_ref` (new instruction id, same key), as a supervisor decides it."""
    return _instruct(state, account_ref, today)


def fall_due(due: Due, today: date, account_ref: str | None) -> Step:
    """On its due date a ledger row becomes an instruction to the payee's current account, or, if
    the payee has none, waits for one (`awaiting_account`)."""
    start = Disbursement(due=due, status="awaiting_account", since=today)
    if account_ref is None:
        return Step(replace(start, version=1))
    return _instruct(start, account_ref, today)


def account_changed(state: Disbursement, account_ref: str, today: date, limits: Limits) -> Step:
    """A payee's new or changed account: a key waiting for an account is instructed; a returned
    one is instructed again (new instruction id, same key) unless its attempts are used up."""
    if state.status == "awaiting_account":
        return _instruct(state, account_ref, today)
    if state.status == "returned" and state.attempt < limits.max_attempts and account_ref != state.account_ref:
        return _instruct(state, account_ref, today)
    return Step(state)


def settled(state: Disbursement, instruction: str, on: date) -> Step:
    """The treasury settled `instruction`. A key is settled at most once: settling a settled key
    again is a `double_settlement` (alert and recovery item); the first settlement of any of the
    key's instructions settles it (a late answer to an earlier attempt still moved the money)."""
    if state.status == "settled":
        if instruction == state.settled_by:
            return Step(state)  # the same answer delivered again
        alert = f"double_settlement:{state.due.ledger_key}:{instruction}"
        return Step(state, (DoubleSettlement(alert, instruction, state.settled_by or "", state.due.amount, on),))
    return Step(_next(state, status="settled", since=on, settled_by=instruction, reason=None))


def returned(state: Disbursement, instruction: str, on: date, reason: ReturnReason,
             current_account: str | None, limits: Limits) -> Step:
    """The treasury returned `instruction`. Only the current attempt's return counts (an earlier
    attempt was already returned). After `max_attempts` a supervisor task `payment_returned`;
    otherwise a payee whose account changed since the instruction is instructed again at once."""
    if state.status != "instructed" or instruction != state.instruction_id:
        return Step(state)
    back = _next(state, status="returned", since=on, reason=reason)
    if state.attempt >= limits.max_attempts:
        return _task(back, "payment_returned", on, reason=reason, attempts=state.attempt)
    if current_account is not None and current_account != state.account_ref:
        return _instruct(back, current_account, on)
    return Step(back)


def tick(state: Disbursement, today: date, limits: Limits) -> Step:
    """What the passing of days does: a return for reason `other` is tried again to the same
    account after `retry_days`; an instruction with no answer after `result_days` raises
    `payment_unconfirmed`; a payee with no account after `awaiting_account_days` raises
    `awaiting_account`."""
    elapsed = today - state.since
    if state.status == "returned" and state.reason == "other" and state.attempt < limits.max_attempts \
            and elapsed >= timedelta(days=limits.retry_days) and state.account_ref is not None:
        return _instruct(state, state.account_ref, today)
    if state.status == "instructed" and elapsed >= timedelta(days=limits.result_days):
        return _task(state, "payment_unconfirmed", today, instruction_id=state.instruction_id)
    if state.status == "awaiting_account" and elapsed >= timedelta(days=limits.awaiting_account_days):
        return _task(state, "awaiting_account", today, payee=state.due.payee)
    return Step(state)


def is_open(state: Disbursement) -> bool:
    """Whether the passing of days can still change the key (what `tick` needs to look at)."""
    return state.status not in ("settled", "stopped")
