"""The disbursement desk: carries out policy/disbursement.py's transitions against the store.

- `instruct_due(today)`: every paying ledger row due by `today` becomes an instruction (or waits
  for an account), less its deductions and the payee's late deductions of the fund
  (policy/disbursement.net_late_deductions); `pass_day(today)`: the passing of days (retries,
  unconfirmed and waiting tasks) and the closing of earlier days' batches. The worker calls both on a schedule
  (activities/disbursement_runner.py).
- `account(event)` and `result(event)`: the `payees.accounts` and `payments.results` events the
  intake hands over (streams/intake.py).

Every transition is written with its instructions, tasks, alerts and outbox rows in one
transaction over the state it was computed from (`Store.write_disbursement`), so a process
killed between writing and publishing loses nothing (the outbox relay publishes what was
written), and two desks racing on one key recompute instead of instructing twice.

Logs name ledger keys, instruction ids and payees, never an account number or holder name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from fractions import Fraction
from functools import partial

from activities.account_vault import AccountVault
from activities.disbursement_events import instructed_event
from activities.parameters_in_force import parameters_in_force
from activities.store import (
    DisbursementWrite,
    InstructionResult,
    InstructionRow,
    PayeeAccountRow,
    Recovery,
    Store,
    alert_event,
    lifecycle_event,
)
from contracts.cases import AlertRecord, TaskRecord
from contracts.codec import KeyringError
from contracts.events import CloudEvent
from contracts.topics import PAYMENT_INSTRUCTIONS
from policy import disbursement as rules
from policy.calendar import business_date
from policy.pack import PolicyPack

log = logging.getLogger(__name__)

DUE_BATCH = 500
# A transition that loses its compare-and-set to another writer is recomputed from the new state.
MAX_CONFLICTS = 10


class DisbursementConflict(RuntimeError):
    """A key kept moving under this desk (another desk writing it all the time)."""


def write_of(expected_version: int, step: rules.Step, results: tuple[InstructionResult, ...] = (),
             today: date | None = None) -> DisbursementWrite:
    """What a transition writes: its state and the rows and outbox events of its effects. An
    instruction joins the batch of the day it is made (`today`, or the day of the fact that made
    it if later), never an earlier day's batch, which may be closed already."""
    state, due = step.state, step.state.due
    instructions: list[InstructionRow] = []
    outbox: list[tuple[str, str, dict[str, object]]] = []
    tasks: list[tuple[TaskRecord, dict[str, object]]] = []
    alerts: list[tuple[AlertRecord, dict[str, object]]] = []
    recoveries: list[Recovery] = []
    for effect in step.effects:
        if isinstance(effect, rules.Instruct):
            row = InstructionRow(
                instruction_id=effect.instruction_id, ledger_key=due.ledger_key, attempt=effect.attempt,
                account_ref=effect.account_ref, amount=due.amount,
                batch_id=rules.batch_id(due.city, due.fund, max(effect.on, today or effect.on)),
                city=due.city, fund=due.fund, on=max(effect.on, today or effect.on),
            )
            instructions.append(row)
            outbox.append((PAYMENT_INSTRUCTIONS, due.payee, instructed_event(state, row)))
        elif isinstance(effect, rules.RaiseTask):
            task = TaskRecord(task_id=effect.task_id, case_id=due.case_id, kind=effect.kind, city=due.city,
                              due_on=effect.due_on, details=dict(effect.details))
            data = task.model_dump(mode="json")
            tasks.append((task, lifecycle_event(f"{task.task_id}:open", "task_raised", task.case_id, data)))
        else:
            alert = AlertRecord(alert_id=effect.alert_id, kind="double_settlement", city=due.city, on_date=effect.on,
                                details={"ledger_key": due.ledger_key, "case_id": due.case_id, "payee": due.payee,
                                         "instruction_id": effect.instruction_id,
                                         "first_instruction_id": effect.first_instruction_id,
                                         "amount": effect.amount, "fund": due.fund})
            alerts.append((alert, alert_event(alert)))
            recoveries.append(Recovery(effect.alert_id, due.ledger_key, effect.instruction_id, effect.amount, effect.on))
    return DisbursementWrite(state=state, expected_version=expected_version, instructions=tuple(instructions),
                             results=results, tasks=tuple(tasks), alerts=tuple(alerts),
                             recoveries=tuple(recoveries), outbox=tuple(outbox))


@dataclass
class DisbursementDesk:
    store: Store
    pack: PolicyPack
    vault: AccountVault | None  # None: this desk takes no accounts (disbursement_runner.desk_from_settings)
    # The business date (Asia/Shanghai) the desk acts on when an event, not the schedule, moves a key.
    clock: Callable[[], date] = lambda: business_date(datetime.now(timezone.utc))

    async def limits(self, city: str | None, on: date) -> rules.Limits:
        """The city's disbursement parameters in force on `on`, dated changes included."""
        return rules.Limits.of(await parameters_in_force(self.store, self.pack, city), on)

    # -- the schedule --------------------------------------------------------------------------
    async def instruct_due(self, today: date) -> int:
        """Turn the ledger rows due by `today` into instructions; how many keys were taken."""
        taken = 0
        ratio_of: dict[str | None, Fraction] = {}  # a city's recovery ratio, read once a pass
        while due_rows := await self.store.due_for_disbursement(today, DUE_BATCH):
            payees = sorted({d.payee for d in due_rows})
            accounts = await self.store.current_accounts(payees)
            late = await self.store.late_deductions(payees)
            for due in due_rows:
                if late:
                    if due.city not in ratio_of:
                        parameters = await parameters_in_force(self.store, self.pack, due.city)
                        ratio_of[due.city] = parameters.ratio(rules.MAX_DEDUCTION_RATIO, today)
                    due = rules.net_late_deductions(due, late, ratio_of[due.city])
                step = rules.fall_due(due, today, accounts.get(due.payee))
                if await self.store.write_disbursement(write_of(0, step, today=today)):
                    taken += 1
                    late = rules.less_netted(late, due)
                elif late:
                    # Another desk took the key or netted a deduction first: what is left is reread.
                    late = await self.store.late_deductions(payees)
            if len(due_rows) < DUE_BATCH:
                break
        return taken

    async def pass_day(self, today: date) -> int:
        """Retries, tasks and batch closing as of `today`; how many keys moved."""
        moved = 0
        limits_of: dict[str | None, rules.Limits] = {}  # a city's parameters, built once a pass
        for state in await self.store.disbursements(open_only=True):
            city = state.due.city
            if city not in limits_of:
                limits_of[city] = await self.limits(city, today)
            limits = limits_of[city]
            if await self._move(state, partial(_tick, today=today, limits=limits), today=today):
                moved += 1
        await self.store.close_batches(today)
        return moved

    # -- the intake's events -------------------------------------------------------------------
    async def handle(self, event: CloudEvent) -> str:
        """A `payees.accounts` or `payments.results` event (streams/intake.py); the inbox note."""
        if event.type in ("payee.account_registered", "payee.account_updated"):
            return await self.account(event)
        return await self.result(event)

    async def account(self, event: CloudEvent) -> str:
        """A payee's new or changed account: stored sealed, then what waited for it instructed."""
        if self.vault is None:
            raise KeyringError("payee accounts need the payload keyring to be sealed with")
        data = event.data
        payee = str(data["payee"])
        number = str(data["account_number"])
        sealed_number = self.vault.seal(payee, "account_number", number)
        sealed_holder = self.vault.seal(payee, "holder_name", str(data["holder_name"]))
        ref = await self.store.register_account(PayeeAccountRow(
            payee=payee, bank=str(data["bank"]), key_id=sealed_number.key_id, number_sealed=sealed_number.blob,
            holder_sealed=sealed_holder.blob, last4=number[-4:], on_date=date.fromisoformat(str(data["on"])),
            event_key=event.key,
        ))
        today = date.fromisoformat(str(data["on"]))
        moved = 0
        for state in await self.store.disbursements(payee=payee, open_only=True):
            limits = await self.limits(state.due.city, today)
            if await self._move(state, partial(_account_changed, ref=ref, today=today, limits=limits)):
                moved += 1
        return f"account {ref} recorded; {moved} disbursement(s) moved"

    async def result(self, event: CloudEvent) -> str:
        """The treasury's answer to an instruction."""
        instruction = str(event.data["instruction_id"])
        on = date.fromisoformat(str(event.data["on"]))
        state = await self.store.disbursement_of_instruction(instruction)
        if state is None:
            log.warning("disbursement: a result for unknown instruction %s", instruction)
            return f"unknown instruction {instruction}"
        if event.type == "payment.settled":
            result = InstructionResult(instruction, "settled", on)

            def transition(s: rules.Disbursement) -> rules.Step:
                return rules.settled(s, instruction, on)
        else:
            reason = event.data["reason"]
            result = InstructionResult(instruction, "returned", on, str(reason))
            current = (await self.store.current_accounts([state.due.payee])).get(state.due.payee)
            limits = await self.limits(state.due.city, on)

            def transition(s: rules.Disbursement) -> rules.Step:
                return rules.returned(s, instruction, on, reason, current, limits)
        await self._move(state, transition, results=(result,), always=True)
        moved = await self.store.disbursement(state.due.ledger_key)
        return f"{event.type} {instruction}: {state.due.ledger_key} {moved.status if moved else '?'}"

    async def _move(self, state: rules.Disbursement, transition: Callable[[rules.Disbursement], rules.Step],
                    results: tuple[InstructionResult, ...] = (), always: bool = False, today: date | None = None) -> bool:
        """Apply `transition` and write it over `state`, recomputing from the stored state when
        another writer moved the key first. A step that changes nothing is not written unless
        `always` (a result is recorded on its instruction even when the key does not move)."""
        for _ in range(MAX_CONFLICTS):
            step = transition(state)
            if step.state.version == state.version and not step.effects and not always:
                return False
            if await self.store.write_disbursement(write_of(state.version, step, results, today or self.clock())):
                for effect in step.effects:
                    log.info("disbursement %s: %s", state.due.ledger_key, type(effect).__name__)
                return True
            fresh = await self.store.disbursement(state.due.ledger_key)
            if fresh is None:
                return False
            state = fresh
        raise DisbursementConflict(f"disbursement {state.due.ledger_key} kept changing under this desk")


def _tick(state: rules.Disbursement, *, today: date, limits: rules.Limits) -> rules.Step:
    return rules.tick(state, today, limits)


def _account_changed(state: rules.Disbursement, *, ref: str, today: date, limits: rules.Limits) -> rules.Step:
    return rules.account_changed(state, ref, today, limits)
