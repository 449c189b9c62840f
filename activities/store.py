"""The storage the system needs, as one protocol with two implementations:

- `activities.pg_store.PgStore`: PostgreSQL through asyncpg, what production and the end-to-end
  tests run on;
- `activities.memory_store.MemoryStore`: process memory, what `jiuye simulate` runs on so a
  scenario replays in seconds with no server but Temporal's time-skipping one.

Both keep the same guarantees: one inbox row per (source, id), one original ledger row per
(case, program, period) and one correction per (case, program, period, entry, seq),
read-model writes that never go back in version.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Literal, Protocol

from contracts.case_index import OpenCase
from contracts.cases import AlertRecord, CaseRecord, Fact, PastCase, PaymentRequest, RefusalRecord, ScheduleRecord, TaskRecord
from contracts.events import DATA_MODELS, CloudEvent
from policy.disbursement import Disbursement, Due, OpenDeduction
from policy.headcount_drop import Arrival, Comparison

ClaimState = Literal["new", "retry", "duplicate"]


@dataclass(frozen=True)
class Origin:
    """Where a record came from (for the inbox and the dead letters), and the Kafka headers it
    came with: a binary-mode CloudEvent's attributes are headers, so a dead letter keeps them."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class SharedFact:
    type: str
    scope: str  # "province" or a city code
    on_date: date | None
    payload: dict[str, Any]
    event_time: datetime


@dataclass(frozen=True)
class PayeeAccountRow:
    """A payee account version as stored: sealed (activities/account_vault.py), never in clear."""

    payee: str
    bank: str
    key_id: str
    number_sealed: bytes
    holder_sealed: bytes
    last4: str
    on_date: date
    event_key: str  # source#id of the payee.account_* event


@dataclass(frozen=True)
class InstructionRow:
    """One attempt of a ledger key, in the daily batch of its (city, fund)."""

    instruction_id: str
    ledger_key: str
    attempt: int
    account_ref: str
    amount: int
    batch_id: str
    city: str | None
    fund: str
    on: date


@dataclass(frozen=True)
class InstructionResult:
    instruction_id: str
    result: Literal["settled", "returned"]
    on: date
    reason: str | None = None


@dataclass(frozen=True)
class Recovery:
    alert_id: str
    ledger_key: str
    instruction_id: str
    amount: int
    on: date


@dataclass(frozen=True)
class DisbursementWrite:
    """A transition of one ledger key and everything it causes, written in one transaction over
    the state of `expected_version` (0: a key not yet in the store). The outbox rows are
    (topic, key, CloudEvent); a task's or alert's own outbox row is written with it."""

    state: Disbursement
    expected_version: int
    instructions: tuple[InstructionRow, ...] = ()
    results: tuple[InstructionResult, ...] = ()
    tasks: tuple[tuple[TaskRecord, dict[str, Any]], ...] = ()  # (task, its lifecycle event)
    alerts: tuple[tuple[AlertRecord, dict[str, Any]], ...] = ()  # (alert, its CloudEvent)
    recoveries: tuple[Recovery, ...] = ()
    outbox: tuple[tuple[str, str, dict[str, Any]], ...] = ()
    # A supervisor's decision on a desk task (activities/disbursement_tasks.py): the task, now
    # decided, and its lifecycle event; the write fails with TaskNotOpen unless the task is open.
    decided: tuple[tuple[TaskRecord, dict[str, Any]], ...] = ()


class TaskNotOpen(RuntimeError):
    """A decision written for a task that someone else decided (or withdrew) first."""


@dataclass(frozen=True)
class BatchRow:
    batch_id: str
    city: str | None
    fund: str
    on_date: date
    count: int
    total: int
    closed: bool


@dataclass(frozen=True)
class BudgetRow:
    """A fund's budget for a city and year (`fund.budget_set`), and the event that set it."""

    city: str
    fund: str
    year: int
    amount: int  # fen
    event_key: str  # source#id
    event_time: datetime


@dataclass(frozen=True)
class FundMonth:
    """A sum in fen for a city, fund and month (`YYYY-MM`): spend, or the forecast."""

    city: str
    fund: str
    month: str
    amount: int


class Store(Protocol):
    # -- intake (in batches: one statement per batch, whatever its size) ----------------------
    async def claim_many(self, items: Sequence[tuple[CloudEvent, Origin]]) -> list[ClaimState]:
        """An inbox row per event, state `received`; per event whether it is new, a retry of one
        received but never finished, or a duplicate of one finished. Ids are distinct."""
        ...

    async def finish_many(self, items: Sequence[tuple[CloudEvent, str, str]]) -> None:
        """Mark claimed events (event, state, outcome) as done."""
        ...

    async def record_ignored(self, items: Sequence[tuple[CloudEvent, Origin, str]]) -> list[bool]:
        """Inbox rows for events that touch no case (event, origin, reason), written done in one
        step; an event finished before keeps its row (False: a duplicate), one left `received`
        is finished now. Ids are distinct."""
        ...

    async def store_subject_facts(self, items: Sequence[tuple[CloudEvent, list[str]]]) -> None:
        """Each event as a fact under each of its keys; a fact stored before stays as it was."""
        ...

    async def open_cases(self, keys: list[str]) -> list[OpenCase]:
        """The open cases of `keys`, and the closed ones still listening (`listening` set)."""
        ...

    async def open_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]: ...

    async def listening_cases_of_kinds(self, kinds: list[str], city: str | None) -> list[str]:
        """The closed cases of `kinds` (in `city`, or all) still listening for late facts."""
        ...

    async def employer_cases(self, kinds: list[str], employer_ids: list[str]) -> list[OpenCase]:
        """The open cases of `kinds` whose match field `employer_id` is one of `employer_ids`, and
        the closed ones still listening (`listening` set): for the rare event that names only the
        enterprise of cases keyed by their persons (routing.employer_case_kinds)."""
        ...

    async def register_case(self, case_id: str, kind: str, keys: list[str], match: dict[str, Any]) -> None: ...

    async def store_shared_fact(self, event: CloudEvent, fact: SharedFact) -> None: ...

    async def dead_letter(self, origin: Origin, reason: str, raw: bytes) -> None: ...

    async def quarantine(self, case_id: str, event: CloudEvent, reason: str, raw: bytes, origin: Origin) -> None:
        """Keep an event the case `case_id` refused against that case (status `quarantined`);
        the same event refused again by the same case (a re-drive) updates its reason."""
        ...

    async def quarantine_refused(self, refusal: RefusalRecord) -> None:
        """Keep an event the case refused inside its workflow against it (origin `workflow`,
        status `quarantined`); refused again (a re-drive), its reason and rule are updated."""
        ...

    # -- cases -------------------------------------------------------------------------------
    async def shared_facts(self, types: list[str], city: str | None) -> list[SharedFact]: ...

    async def record_case(self, record: CaseRecord, lifecycle: dict[str, Any]) -> None:
        """The read model; a closed record closes the case's keys (listening through
        `record.listening_until` if set), a `reopened` one opens them again."""
        ...

    async def end_listening(self, case_id: str) -> None:
        """A closed case's keys stop listening."""
        ...

    async def pay(self, payment: PaymentRequest, lifecycle: dict[str, Any]) -> bool: ...

    async def pay_capped(self, payment: PaymentRequest, cap: int, lifecycle: dict[str, Any]) -> tuple[bool, int]:
        """Pay `payment.amount`, or what is left of `cap` for (payee, program) across all cases
        if less; nothing once it is used up. Returns (inserted, fen in the ledger row): a key
        already paid inserts nothing, adds nothing to the total and returns its amount."""
        ...

    async def take_slots(self, holder: str, limits: Sequence[tuple[str, int]]) -> tuple[bool, list[int]]:
        """Let case `holder` take one slot of each (scope, limit) in `limits`, all or none: limits
        shared by all cases (K13's loans per borrower, K14's subsidies per person and year and per
        occupation and level, K16's provincial approvals per year). Returns (taken, slots held in
        each scope now); a holder that took them before gets (True, ...) again; concurrent takers
        never hold more than a scope's limit together."""
        ...

    async def record_task(self, task: TaskRecord, lifecycle: dict[str, Any]) -> None: ...

    async def subject_facts(self, keys: list[str], types: list[str]) -> list[Fact]: ...

    async def past_cases(self, subject: str, kinds: list[str], exclude_case_id: str | None) -> list[PastCase]: ...

    # -- alerts ------------------------------------------------------------------------------
    async def headcount_comparisons(self, arrivals: Sequence[Arrival]) -> list[Comparison]:
        """M2: the months M−1 and M to compare for a batch's employer contributions, with their
        headcounts counted from the stored contribution facts, in one statement
        (activities/headcount_facts.py says which arrivals answer)."""
        ...

    async def mark_headcount_judged(self, judged: Sequence[tuple[str, str]]) -> None:
        """Record (enterprise, M) as compared (idempotent), after its alert was raised."""
        ...

    async def raise_alert(self, alert: AlertRecord, message: dict[str, Any]) -> bool:
        """Store `alert` once per alert_id and put `message` (its CloudEvent) in the outbox for
        the `alerts` topic, in one transaction; False if it was raised before."""
        ...

    # -- funds, budgets and forecasts (POLICY.md part 2 §22; activities/forecast_desk.py) ------
    async def record_schedule(self, record: ScheduleRecord) -> None:
        """Replace the case's schedule (an empty one removes it)."""
        ...

    async def set_budget(self, budget: BudgetRow) -> bool:
        """Store the budget unless one set later in business time stands (`corrections.replaces`);
        True if it now stands."""
        ...

    async def budgets(self, city: str | None, fund: str | None, year: int) -> list[BudgetRow]: ...

    async def scheduled_by_month(self, city: str | None, fund: str | None, year: int, since: date) -> list[FundMonth]:
        """The open cases' schedules due in `year` on or after `since`, summed per city, fund and month."""
        ...

    async def spend_by_month(self, city: str | None, fund: str | None, year: int) -> list[FundMonth]:
        """What was instructed in `year` and not returned, per city, fund and instruction month."""
        ...

    # -- disbursement (POLICY.md part 2; activities/disbursement_desk.py) ---------------------
    async def register_account(self, account: PayeeAccountRow) -> str:
        """A new version of the payee's account; its reference `payee#version`. The same event
        again returns the reference it got the first time."""
        ...

    async def current_accounts(self, payees: list[str]) -> dict[str, str]:
        """The reference of each payee's latest account version (payees without one are absent)."""
        ...

    async def account_versions(self, payee: str) -> list[PayeeAccountRow]:
        """Every stored version of a payee's account, oldest first (sealed)."""
        ...

    async def due_for_disbursement(self, today: date, limit: int) -> list[Due]:
        """Paying ledger rows due by `today` that have no disbursement yet: each `payment` less the
        deductions taken from it (a row deducted in full pays nothing), those deductions in
        `deducted`, and each `arrears` row. (Late deductions are the desk's to net.)"""
        ...

    async def late_deductions(self, payees: list[str]) -> list[OpenDeduction]:
        """The deductions of `payees` written after their own payment was taken (it has a
        disbursement), with the fen no instruction has netted yet, oldest first."""
        ...

    async def disbursement(self, ledger_key: str) -> Disbursement | None: ...

    async def disbursement_of_instruction(self, instruction_id: str) -> Disbursement | None: ...

    async def disbursements(self, *, payee: str | None = None, open_only: bool = False) -> list[Disbursement]:
        """The ledger keys' disbursements, of one payee or all; `open_only`: not settled."""
        ...

    async def write_disbursement(self, write: DisbursementWrite) -> bool:
        """Write a transition; False (nothing written) if the key's stored version is not
        `write.expected_version` — another writer moved it first, and the caller recomputes —
        or if a new key's nettings (`state.due.deducted`) would take more of a deduction than it
        has left (another key netted it first)."""
        ...

    async def close_batches(self, before: date) -> list[BatchRow]:
        """Close the open batches of days before `before`, each with its `payment.batch_closed`
        in the outbox (count and total), in one transaction; the batches closed."""
        ...

    async def batches(self) -> list[BatchRow]: ...

    async def batch_instructions(self, batch_id: str) -> list[InstructionRow]:
        """The instructions of one daily batch, in instruction id order (its treasury file)."""
        ...


def account_ref(payee: str, version: int) -> str:
    """How an instruction names a payee's account version: never by its number."""
    return f"{payee}#{version}"


# The data fields a stored fact takes its business date from, the first one given.
_FACT_DATE_FIELDS = ("on", "registered_on", "signed_on", "starts_on")


@functools.cache
def _fact_date_fields(event_type: str) -> tuple[str, ...]:
    """Those of `_FACT_DATE_FIELDS` the type's data model declares (validated ISO dates). A field
    of the same name the model does not declare is a producer's addition (EVENTS.md: optional
    fields may be added), unvalidated: read, one that is not an ISO date (`"on": "2020/04/01"` on
    a contribution) raised in the store and held up its whole batch, again at every retry."""
    model = DATA_MODELS.get(event_type)
    return tuple(f for f in _FACT_DATE_FIELDS if model is not None and f in model.model_fields)


def fact_on_date(event: CloudEvent) -> date | None:
    """The business date a stored fact is filed under (None when the event names none)."""
    on = None
    for name in _fact_date_fields(event.type):
        on = on or event.data.get(name)
    return date.fromisoformat(on) if isinstance(on, str) else None


def fact_of(event: CloudEvent, key: str) -> Fact:
    """The stored form of an input event, under one of its keys."""
    return Fact(
        key=key,
        type=event.type,
        on_date=fact_on_date(event),
        payload=event.data,
        event_time=event.time,
        event_key=event.key,
    )


def lifecycle_event(event_id: str, change: str, case_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A CloudEvent for cases.lifecycle; its id is stable so a retried write publishes once."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "jiuye/cases",
        "type": f"case.{change}",
        "subject": case_id,
        "time": datetime.now(timezone.utc).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def alert_event(alert: AlertRecord) -> dict[str, Any]:
    """A CloudEvent for the `alerts` topic; its id is the alert id, so a retried raise publishes
    once and consumers can dedupe."""
    return {
        "specversion": "1.0",
        "id": alert.alert_id,
        "source": "jiuye/alerts",
        "type": f"alert.{alert.kind}",
        "subject": f"city/{alert.city}" if alert.city else "province/21",
        "time": datetime.now(timezone.utc).isoformat(),
        "datacontenttype": "application/json",
        "data": alert.model_dump(mode="json"),
    }
