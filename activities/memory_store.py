"""The store in process memory, for `jiuye simulate`: same keys and guarantees as PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from activities import contribution_facts, headcount_facts
from activities.contribution_facts import AGGREGATED_TYPES, CONTRIBUTION, Grain
from activities.disbursement_events import batch_closed_event
from activities.store import (
    BatchRow,
    BudgetRow,
    ClaimState,
    DisbursementWrite,
    FundMonth,
    InstructionResult,
    InstructionRow,
    Origin,
    PayeeAccountRow,
    Recovery,
    SharedFact,
    TaskNotOpen,
    account_ref,
    fact_of,
)
from contracts.case_index import OpenCase
from contracts.cases import AlertRecord, CaseRecord, Fact, PastCase, PaymentRequest, RefusalRecord, ScheduleRecord, TaskRecord
from contracts.events import CloudEvent
from policy.calendar import month_of
from policy.corrections import replaces
from policy.disbursement import Disbursement, Due, Netting, OpenDeduction, is_open, ledger_key_of
from policy.headcount_drop import Arrival, Comparison


@dataclass
class MemoryStore:
    inbox: dict[tuple[str, str], str] = field(default_factory=dict)
    keys: dict[str, dict[str, OpenCase]] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)
    # Closed cases still taking late facts (`record.listening_until`).
    listening: set[str] = field(default_factory=set)
    cases: dict[str, CaseRecord] = field(default_factory=dict)
    ledger: dict[tuple[str, str, str, str, int], PaymentRequest] = field(default_factory=dict)  # by PaymentRequest.ledger_key
    slots: dict[str, list[str]] = field(default_factory=dict)  # scope -> holders (take_slot)
    facts: dict[tuple[str, str], SharedFact] = field(default_factory=dict)
    subject_facts_by_key: dict[str, dict[str, Fact]] = field(default_factory=dict)
    # Contributions at their grain (migration 0014's contribution_facts): reports by event key.
    contribution_rows: dict[Grain, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # Its two look-ups (the primary key's person, the by-employer index).
    contribution_rows_of: dict[str, set[Grain]] = field(default_factory=dict)  # person/<id>, enterprise/<id>
    # M2's (enterprise, month M) compared already (migration 0020's headcount_judged).
    headcount_judged: set[tuple[str, str]] = field(default_factory=set)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    # Refused events kept against the case that refused them, by (case, source, event id); `refused_by`
    # is 0018's origin (intake or workflow), `origin` the Kafka origin of an intake refusal.
    quarantined: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Totals paid per (payee, program) under a cap (`pay_capped`), like the payee_caps table.
    payee_totals: dict[tuple[str, str], int] = field(default_factory=dict)
    # Disbursement (migration 0009's tables): sealed account versions per payee, oldest first.
    accounts: dict[str, list[PayeeAccountRow]] = field(default_factory=dict)
    disbursement_states: dict[str, Disbursement] = field(default_factory=dict)
    instructions: dict[str, tuple[InstructionRow, InstructionResult | None]] = field(default_factory=dict)
    payment_batches: dict[str, BatchRow] = field(default_factory=dict)
    recoveries: dict[str, Recovery] = field(default_factory=dict)
    nettings: dict[tuple[str, str], int] = field(default_factory=dict)  # (deduction key, ledger key) -> fen
    # Funds, budgets and forecasts (migration 0015's tables): each case's schedule, the budgets.
    schedules: dict[str, ScheduleRecord] = field(default_factory=dict)
    fund_budgets: dict[tuple[str, str, int], BudgetRow] = field(default_factory=dict)

    async def claim_many(self, items: Sequence[tuple[CloudEvent, Origin]]) -> list[ClaimState]:
        claims: list[ClaimState] = []
        for event, _ in items:
            key = (event.source, event.id)
            state = self.inbox.get(key)
            if state is None:
                self.inbox[key] = "received"
                claims.append("new")
            else:
                claims.append("retry" if state == "received" else "duplicate")
        return claims

    async def finish_many(self, items: Sequence[tuple[CloudEvent, str, str]]) -> None:
        for event, state, _ in items:
            self.inbox[(event.source, event.id)] = state

    async def record_ignored(self, items: Sequence[tuple[CloudEvent, Origin, str]]) -> list[bool]:
        written = []
        for event, _, _ in items:
            key = (event.source, event.id)
            written.append(self.inbox.get(key, "received") == "received")
            if written[-1]:
                self.inbox[key] = "ignored"
        return written

    async def open_cases(self, keys: list[str]) -> list[OpenCase]:
        return [
            c if c.case_id not in self.closed else replace(c, listening=True)
            for k in keys
            for c in self.keys.get(k, {}).values()
            if c.case_id not in self.closed or c.case_id in self.listening
        ]

    async def employer_cases(self, kinds: list[str], employer_ids: list[str]) -> list[OpenCase]:
        routed = [
            c if c.case_id not in self.closed else replace(c, listening=True)
            for cases in self.keys.values()
            for c in cases.values()
            if c.kind in kinds and c.match.get("employer_id") in employer_ids
            and (c.case_id not in self.closed or c.case_id in self.listening)
        ]
        return sorted(routed, key=lambda c: (c.case_id, c.key))

    async def open_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]:
        return sorted(
            r.case_id
            for r in self.cases.values()
            if r.kind in kinds and r.closed_on is None and r.case_id not in self.closed and (city is None or r.city == city)
        )

    async def listening_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]:
        return sorted(
            r.case_id
            for r in self.cases.values()
            if r.kind in kinds and r.case_id in self.listening and (city is None or r.city == city)
        )

    async def register_case(self, case_id: str, kind: str, keys: list[str], match: dict[str, Any]) -> None:
        for key in keys:
            # Like ON CONFLICT DO NOTHING: the first registration (by intake, with its match) stays.
            self.keys.setdefault(key, {}).setdefault(case_id, OpenCase(case_id=case_id, kind=kind, key=key, match=match))

    async def store_shared_fact(self, event: CloudEvent, fact: SharedFact) -> None:
        self.facts.setdefault((event.source, event.id), fact)

    async def dead_letter(self, origin: Origin, reason: str, raw: bytes) -> None:
        self.dead_letters.append({"origin": origin, "reason": reason, "raw": raw})

    async def quarantine(self, case_id: str, event: CloudEvent, reason: str, raw: bytes, origin: Origin) -> None:
        self.quarantined[(case_id, event.source, event.id)] = {"reason": reason, "raw": raw, "origin": origin,
                                                                "status": "quarantined", "refused_by": "intake"}

    async def quarantine_refused(self, refusal: RefusalRecord) -> None:
        ev = refusal.event
        self.quarantined[(refusal.case_id, ev.source, ev.id)] = {
            "reason": refusal.reason, "rule": refusal.rule, "raw": ev.model_dump_json().encode(), "origin": None, "refused_by": "workflow",
            "status": "quarantined", "event": ev}

    async def shared_facts(self, types: list[str], city: str | None) -> list[SharedFact]:
        return sorted(
            (f for f in self.facts.values() if f.type in types and f.scope in ("province", city)),
            key=lambda f: f.event_time,
        )

    async def store_subject_facts(self, items: Sequence[tuple[CloudEvent, list[str]]]) -> None:
        for row, reports in contribution_facts.merged(e for e, _ in items if e.type in AGGREGATED_TYPES).items():
            stored = self.contribution_rows.setdefault(row, {})
            person, _, employer = row
            self.contribution_rows_of.setdefault(f"person/{person}", set()).add(row)
            if employer != contribution_facts.OWN:
                self.contribution_rows_of.setdefault(f"enterprise/{employer}", set()).add(row)
            for key, report in reports.items():
                stored.setdefault(key, report)
        for event, keys in items:
            if event.type in AGGREGATED_TYPES:
                continue
            for key in keys:
                self.subject_facts_by_key.setdefault(key, {}).setdefault(event.key, fact_of(event, key))

    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]:
        found = [f for k in keys for f in self.subject_facts_by_key.get(k, {}).values() if f.type in types]
        if CONTRIBUTION in types:
            for key in keys:
                for row in self.contribution_rows_of.get(key, ()):
                    found += contribution_facts.facts_of(key, self.contribution_rows[row].values())
        return sorted(found, key=lambda f: (f.event_time, f.event_key))

    async def past_cases(self, subject: str, kinds: list[str], exclude_case_id: str | None) -> list[PastCase]:
        return [
            PastCase(case_id=r.case_id, kind=r.kind, status=r.status, opened_on=r.opened_on, closed_on=r.closed_on, summary=r.summary)
            for r in sorted(self.cases.values(), key=lambda r: (r.opened_on or r.on, r.case_id))
            if r.subject == subject and r.kind in kinds and r.case_id != exclude_case_id
        ]

    async def record_case(self, record: CaseRecord, lifecycle: dict[str, Any]) -> None:
        if record.change == "opened" and record.keys:
            await self.register_case(record.case_id, record.kind, record.keys, {})
        current = self.cases.get(record.case_id)
        if current is None or current.version < record.version:
            self.cases[record.case_id] = record
            self.outbox.append(lifecycle)
        if record.closed_on is not None:
            self.closed.add(record.case_id)
            if record.listening_until is not None:
                self.listening.add(record.case_id)
            else:
                self.listening.discard(record.case_id)
        elif record.change == "reopened":
            self.closed.discard(record.case_id)
            self.listening.discard(record.case_id)

    async def end_listening(self, case_id: str) -> None:
        self.listening.discard(case_id)

    async def pay(self, payment: PaymentRequest, lifecycle: dict[str, Any]) -> bool:
        key = payment.ledger_key
        if key in self.ledger:
            return False
        self.ledger[key] = payment
        self.outbox.append(lifecycle)
        return True

    async def take_slots(self, holder: str, limits: Sequence[tuple[str, int]]) -> tuple[bool, list[int]]:
        async with self.lock:
            scopes = [self.slots.setdefault(scope, []) for scope, _ in limits]
            free = all(holder in holders or len(holders) < limit for holders, (_, limit) in zip(scopes, limits, strict=True))
            if free:
                for holders in scopes:
                    if holder not in holders:
                        holders.append(holder)
            return free, [len(holders) for holders in scopes]

    async def pay_capped(self, payment: PaymentRequest, cap: int, lifecycle: dict[str, Any]) -> tuple[bool, int]:
        async with self.lock:
            key = payment.ledger_key
            if key in self.ledger:
                return False, self.ledger[key].amount
            total = (payment.payee, payment.program)
            amount = min(payment.amount, max(cap - self.payee_totals.get(total, 0), 0))
            if amount <= 0:
                return False, 0
            self.ledger[key] = payment.model_copy(update={"amount": amount})
            self.payee_totals[total] = self.payee_totals.get(total, 0) + amount
            self.outbox.append({**lifecycle, "data": {**lifecycle.get("data", {}), "amount": amount}})
            return True, amount

    async def record_task(self, task: TaskRecord, lifecycle: dict[str, Any]) -> None:
        current = self.tasks.get(task.task_id)
        if current is None or current["state"] != task.state:
            self.outbox.append(lifecycle)
        self.tasks[task.task_id] = {
            **task.model_dump(),
            "due_on": task.due_on.isoformat() if task.due_on else None,
        }

    async def headcount_comparisons(self, arrivals: Sequence[Arrival]) -> list[Comparison]:
        return headcount_facts.memory_comparisons(self.contribution_rows_of, self.headcount_judged, arrivals)

    async def mark_headcount_judged(self, judged: Sequence[tuple[str, str]]) -> None:
        self.headcount_judged.update(judged)

    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool:
        if any(a["alert_id"] == alert.alert_id for a in self.alerts):
            return False
        # The shape `jiuye simulate --json` prints (EVENTS.md "alerts").
        self.alerts.append({
            "alert_id": alert.alert_id,
            "kind": alert.kind,
            "city": alert.city,
            "on": alert.on_date.isoformat() if alert.on_date else None,
            "details": alert.details,
        })
        self.outbox.append(message)
        return True

    # -- funds, budgets and forecasts --------------------------------------------------------
    async def record_schedule(self, record: ScheduleRecord) -> None:
        if record.lines:
            self.schedules[record.case_id] = record
        else:
            self.schedules.pop(record.case_id, None)

    async def set_budget(self, budget: BudgetRow) -> bool:
        key = (budget.city, budget.fund, budget.year)
        known = self.fund_budgets.get(key)
        if known is not None and not replaces(budget.event_time, budget.event_key, known.event_time, known.event_key):
            return known.event_key == budget.event_key
        self.fund_budgets[key] = budget
        return True

    async def budgets(self, city: str | None, fund: str | None, year: int) -> list[BudgetRow]:
        return [b for k, b in sorted(self.fund_budgets.items())
                if b.year == year and city in (None, b.city) and fund in (None, b.fund)]

    async def scheduled_by_month(self, city: str | None, fund: str | None, year: int, since: date) -> list[FundMonth]:
        sums: dict[tuple[str, str, str], int] = {}
        for record in self.schedules.values():
            if record.city is None or city not in (None, record.city):
                continue
            for line in record.lines:
                if line.due_on.year == year and line.due_on >= since and fund in (None, line.fund):
                    key = (record.city, line.fund, month_of(line.due_on))
                    sums[key] = sums.get(key, 0) + line.amount
        return [FundMonth(c, f, m, a) for (c, f, m), a in sorted(sums.items())]

    async def spend_by_month(self, city: str | None, fund: str | None, year: int) -> list[FundMonth]:
        sums: dict[tuple[str, str, str], int] = {}
        for d in self.disbursement_states.values():
            on = d.instructed_on
            if d.status not in ("instructed", "settled") or on is None or on.year != year or d.due.city is None:
                continue
            if city in (None, d.due.city) and fund in (None, d.due.fund):
                key = (d.due.city, d.due.fund, month_of(on))
                sums[key] = sums.get(key, 0) + d.due.amount
        return [FundMonth(c, f, m, a) for (c, f, m), a in sorted(sums.items())]

    # -- disbursement ------------------------------------------------------------------------
    async def register_account(self, account: PayeeAccountRow) -> str:
        versions = self.accounts.setdefault(account.payee, [])
        for n, known in enumerate(versions, start=1):
            if known.event_key == account.event_key:
                return account_ref(account.payee, n)
        versions.append(account)
        return account_ref(account.payee, len(versions))

    async def current_accounts(self, payees: list[str]) -> dict[str, str]:
        return {p: account_ref(p, len(self.accounts[p])) for p in payees if self.accounts.get(p)}

    async def account_versions(self, payee: str) -> list[PayeeAccountRow]:
        return list(self.accounts.get(payee, []))

    async def due_for_disbursement(self, today: date, limit: int) -> list[Due]:
        deducted: dict[tuple[str, str, str], list[Netting]] = {}
        for row in sorted(self.ledger.values(), key=lambda r: r.seq):
            if row.entry == "deduction":
                key = (row.case_id, row.program, row.period)
                deducted.setdefault(key, []).append(Netting(ledger_key_of(*row.ledger_key), row.amount))
        due = []
        for row in self.ledger.values():
            ledger_key = ledger_key_of(*row.ledger_key)
            if row.entry not in ("payment", "arrears") or row.due_on > today or ledger_key in self.disbursement_states:
                continue
            own = tuple(deducted.get((row.case_id, row.program, row.period), [])) if row.entry == "payment" else ()
            amount = row.amount - sum(n.amount for n in own)
            if amount > 0:
                due.append(Due(ledger_key=ledger_key, case_id=row.case_id, payee=row.payee, fund=row.fund, city=row.city,
                               amount=amount, due_on=row.due_on, deducted=own))
        return sorted(due, key=lambda d: (d.due_on, d.ledger_key))[:limit]

    async def late_deductions(self, payees: list[str]) -> list[OpenDeduction]:
        late = []
        for row in self.ledger.values():
            if row.entry != "deduction" or row.payee not in payees:
                continue
            if ledger_key_of(row.case_id, row.program, row.period, "payment", 0) not in self.disbursement_states:
                continue
            key = ledger_key_of(*row.ledger_key)
            remaining = row.amount - self._netted(key)
            if remaining > 0:
                late.append(OpenDeduction(key, row.payee, row.fund, remaining))
        return sorted(late, key=lambda d: d.deduction_key)

    def _netted(self, deduction_key: str) -> int:
        return sum(fen for (d, _), fen in self.nettings.items() if d == deduction_key)

    async def disbursement(self, ledger_key: str) -> Disbursement | None:
        return self.disbursement_states.get(ledger_key)

    async def disbursement_of_instruction(self, instruction_id: str) -> Disbursement | None:
        known = self.instructions.get(instruction_id)
        return self.disbursement_states.get(known[0].ledger_key) if known else None

    async def disbursements(self, *, payee: str | None = None, open_only: bool = False) -> list[Disbursement]:
        chosen = [d for d in self.disbursement_states.values()
                  if (payee is None or d.due.payee == payee) and not (open_only and not is_open(d))]
        return sorted(chosen, key=lambda d: (d.due.due_on, d.due.ledger_key))

    async def write_disbursement(self, write: DisbursementWrite) -> bool:
        key = write.state.due.ledger_key
        stored = self.disbursement_states.get(key)
        if (stored.version if stored else 0) != write.expected_version:
            return False
        for task, _ in write.decided:
            if (self.tasks.get(task.task_id) or {}).get("state") != "open":
                raise TaskNotOpen(f"task {task.task_id} is no longer open")
        if write.expected_version == 0:
            amounts = {ledger_key_of(*r.ledger_key): r.amount for r in self.ledger.values() if r.entry == "deduction"}
            if any(amounts.get(n.deduction_key, 0) - self._netted(n.deduction_key) < n.amount for n in write.state.due.deducted):
                return False  # another key netted the deduction first
            for n in write.state.due.deducted:
                self.nettings[(n.deduction_key, key)] = n.amount
        for task, lifecycle in write.decided:
            await self.record_task(task, lifecycle)
        self.disbursement_states[key] = write.state
        for row in write.instructions:
            batch = self.payment_batches.get(row.batch_id) or BatchRow(row.batch_id, row.city, row.fund, row.on, 0, 0, False)
            self.payment_batches[row.batch_id] = replace(batch, count=batch.count + 1, total=batch.total + row.amount)
            self.instructions[row.instruction_id] = (row, None)
        for result in write.results:
            known = self.instructions.get(result.instruction_id)
            if known and (known[1] is None or known[1].result != "settled"):  # a settlement stands
                self.instructions[result.instruction_id] = (known[0], result)
        for task, lifecycle in write.tasks:
            if task.task_id not in self.tasks:
                await self.record_task(task, lifecycle)
        for alert, message in write.alerts:
            await self.raise_alert(alert, message)
        for recovery in write.recoveries:
            self.recoveries.setdefault(recovery.alert_id, recovery)
        for _, _, value in write.outbox:
            self.outbox.append(value)
        return True

    async def close_batches(self, before: date) -> list[BatchRow]:
        closed = []
        for batch_id in sorted(self.payment_batches):
            batch = self.payment_batches[batch_id]
            if not batch.closed and batch.on_date < before:
                self.payment_batches[batch_id] = batch = replace(batch, closed=True)
                self.outbox.append(batch_closed_event(batch))
                closed.append(batch)
        return closed

    async def batches(self) -> list[BatchRow]:
        return sorted(self.payment_batches.values(), key=lambda b: (b.on_date, b.batch_id))

    async def batch_instructions(self, batch_id: str) -> list[InstructionRow]:
        return sorted((row for row, _ in self.instructions.values() if row.batch_id == batch_id),
                      key=lambda r: r.instruction_id)
