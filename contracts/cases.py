"""Payloads that cross the Temporal boundary: one model in, one out, for every workflow,
signal, query and activity (fields can be added without breaking running cases)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.parameters import Parameters
from contracts.timeline import EntryType, legacy_entry_type


class CaseEvent(BaseModel):
    """An input event as delivered to a case (the CloudEvent envelope, data untyped)."""

    model_config = ConfigDict(frozen=True)

    source: str
    id: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.source}#{self.id}"


class CaseInput(BaseModel):
    """How a case workflow starts (and restarts after continue-as-new)."""

    case_id: str
    kind: str
    # Seconds added to workflow time to get business time: 0 in production; the simulator sets
    # it so that Temporal's time-skipping server can replay 2020 with true calendar months.
    clock_offset_seconds: int = 0
    search_attributes: bool = True
    # Continue-as-new once the history has more events than this (tests set it low).
    history_limit: int = 2_000
    carried: dict[str, Any] | None = None


class CaseOutcome(BaseModel):
    case_id: str
    status: str
    paid_fen: int


class Epidemic(BaseModel):
    """The shared epidemic facts for a city: declared on S, lifted on L (either may be unknown),
    and the business time each was announced at: the later announcement stands, in whatever
    order they arrive (None: known from before the announcement times were kept)."""

    declared_on: date | None = None
    lifted_on: date | None = None
    declared_at: datetime | None = None
    lifted_at: datetime | None = None


class ContextRequest(BaseModel):
    city: str | None
    kind: str
    # The parameters the kind reads (`CaseWorkflow.context_scope`, contracts/parameters.py
    # `in_scope`); None: every parameter of the pack (cases opened before kinds asked for theirs).
    scope: list[str] | None = None


class PriceLinkageFact(BaseModel):
    """A `policy.price_linkage.triggered` received so far (§18 价格临时补贴), for K2 cases that
    start after it was triggered but pay benefit in its month."""

    city: str
    month: str
    amount: int
    triggered_on: date


class CaseContext(BaseModel):
    """What a case reads when it starts: its city's parameters and the shared facts so far."""

    parameters: Parameters
    epidemic: Epidemic
    price_linkages: list[PriceLinkageFact] = Field(default_factory=list)


class Fact(BaseModel):
    """A stored fact about a subject (an input event kept for later look-ups)."""

    key: str
    type: str
    on_date: date | None
    payload: dict[str, Any]
    event_time: datetime
    event_key: str


class FactsRequest(BaseModel):
    keys: list[str]
    types: list[str]


class FactsResult(BaseModel):
    facts: list[Fact]


class HistoryRequest(BaseModel):
    """Earlier cases of a subject (K2 carry-over, K5 placement count)."""

    subject: str
    kinds: list[str]
    exclude_case_id: str | None = None


class PastCase(BaseModel):
    case_id: str
    kind: str
    status: str
    opened_on: date | None
    closed_on: date | None
    summary: dict[str, Any]


class HistoryResult(BaseModel):
    cases: list[PastCase]


class TaskDecision(BaseModel):
    """A supervisor's decision on a task, delivered to the case as a Temporal update."""

    task_id: str
    decided_by: str
    decision: dict[str, Any]


class SupervisorAction(BaseModel):
    """A supervisor holds a case's payments (`hold`) or lets them go on (`release`), with a
    reason; delivered as the case's `hold` update (docs/CONSOLE.md "Hold")."""

    action: str  # hold | release
    reason: str
    by: str


class RefusalRecord(BaseModel):
    """An event a case received and refused inside its workflow (it does not take it into its
    facts or decisions): kept against the case in `quarantined_events` (origin `workflow`), so
    its page shows it and a supervisor re-drives or dismisses it (docs/CONSOLE.md "Refused events")."""

    case_id: str
    event: CaseEvent
    reason: str
    rule: str | None = None


class Redrive(BaseModel):
    """A supervisor offers an event the case refused to it again (the case's `redrive` update),
    judged under the case's state now."""

    event: CaseEvent
    by: str
    reason: str


class RedriveResult(BaseModel):
    """What the case made of a re-driven event: taken, or refused again with its reason."""

    taken: bool
    detail: str


class SupervisorHold(BaseModel):
    """A supervisor's hold on a case: while it lasts no payment is made."""

    reason: str
    by: str
    since: date


class PendingClose(BaseModel):
    """A close a case has decided on a stop fact but holds while what it owes falls due later than
    its business today (`CaseWorkflow.close_once_owed`): how, on which day and by which rule it
    will close."""

    status: str
    on: date
    rule: str


class CaseRecord(BaseModel):
    """One state change of a case, for the read model and cases.lifecycle."""

    case_id: str
    kind: str
    subject: str
    city: str | None
    status: str
    change: str  # opened, paused, resumed, extended, closed, rejected, updated, reopened
    version: int
    opened_on: date | None = None
    closed_on: date | None = None
    next_deadline: date | None = None
    on: date | None = None
    summary: dict[str, Any] = Field(default_factory=dict)
    keys: list[str] = Field(default_factory=list)
    # A closed case still taking late facts through this day (its keys route them to it).
    listening_until: date | None = None
    # The supervisor's hold as the case holds it: the read model's `cases.hold` has this one writer.
    hold: SupervisorHold | None = None


LedgerEntryKind = Literal["payment", "arrears", "overpayment", "deduction"]


class PaymentRequest(BaseModel):
    """One ledger row. An original payment (`entry` payment, `seq` 0) is unique on (case_id,
    program, period), its idempotency key; a correction (POLICY.md part 2) is the `seq`-th of its
    entry for that period, names the period it `corrects` and the event that was its `cause`."""

    case_id: str
    kind: str
    payee: str
    program: str
    period: str
    amount: int
    fund: str
    due_on: date
    city: str | None
    rule: str
    entry: LedgerEntryKind = "payment"
    seq: int = 0
    corrects: str | None = None
    cause: str | None = None

    @property
    def ledger_key(self) -> tuple[str, str, str, str, int]:
        return (self.case_id, self.program, self.period, self.entry, self.seq)

    @property
    def event_id(self) -> str:
        """The id of the row's `cases.lifecycle` event, unique per ledger row: the outbox (and any
        consumer) drops a second event of the same id, so a correction named like its period's
        original was never published (tests/faults fault 11 and tests/unit/
        test_ledger_lifecycle_events.py). An original payment keeps the id it always had."""
        base = f"{self.case_id}:pay:{self.program}:{self.period}"
        return base if self.entry == "payment" else f"{base}:{self.entry}:{self.seq}"


class SlotRequest(BaseModel):
    """Take one slot of each (scope, limit) shared by all cases, all or none (`Store.take_slots`)."""

    holder: str
    limits: list[tuple[str, int]]


class SlotResult(BaseModel):
    taken: bool
    held: list[int]  # slots of each scope held now, this case's included when taken


class PaymentResult(BaseModel):
    inserted: bool
    # A capped payment (`pay_capped`): the fen actually in the ledger row (may be less than asked,
    # 0 when the payee's cap was already used up) and whether the cap cut it.
    amount: int | None = None
    capped: bool = False


class CappedPaymentRequest(BaseModel):
    """A payment whose payee has a limit across all cases (§10: an HR agency's 100,000 yuan):
    `payment.amount` or what is left of `cap` for (payee, program), whichever is less."""

    payment: PaymentRequest
    cap: int


class TaskRecord(BaseModel):
    """A supervisor task raised by a case, or its new state once decided or withdrawn."""

    task_id: str
    case_id: str
    kind: str  # e.g. followup_escalation, extra_placement, obligations_overdue, taper_decision
    city: str | None
    due_on: date | None
    state: str = "open"  # open, decided, expired, withdrawn
    details: dict[str, Any] = Field(default_factory=dict)
    decided_by: str | None = None
    decision: dict[str, Any] | None = None


class ScheduleLine(BaseModel):
    """One (program, period) an open case will still pay if no new fact arrives (policy.forecast)."""

    program: str
    period: str
    amount: int  # fen, > 0
    fund: str
    due_on: date


class ScheduleRecord(BaseModel):
    """A case's schedule as it stands (POLICY.md part 2 §22): it replaces the case's earlier one
    in the read model; a closed case's is empty."""

    case_id: str
    kind: str
    city: str | None
    on: date  # the business day it was computed
    lines: list[ScheduleLine] = Field(default_factory=list)


class AlertRecord(BaseModel):
    """An alert for a city's supervisors (mass unemployment §21, a monitoring surge §24, a
    headcount drop §23): stored
    once per `alert_id` and published on the `alerts` topic."""

    alert_id: str
    kind: str  # mass_unemployment, weekly_surge, headcount_drop, fund_shortfall, ...
    city: str | None
    on_date: date | None
    details: dict[str, Any] = Field(default_factory=dict)


class TimelineEntry(BaseModel):
    """One line of a case's timeline: `what` is for people, `type` (contracts/timeline.py) for
    code that sorts, colours or filters entries."""

    on: date
    what: str
    rule: str | None = None
    event: str | None = None
    amount: int | None = None
    type: EntryType

    @model_validator(mode="before")
    @classmethod
    def _typed(cls, data: Any) -> Any:
        # An entry carried from before entries were typed gets its type in the one place that
        # derives it.
        if isinstance(data, dict) and data.get("type") is None and "what" in data:
            return {**data, "type": legacy_entry_type(data["what"], rule=data.get("rule"), event=data.get("event"),
                                                       amount=data.get("amount"))}
        return data


class CaseView(BaseModel):
    """What a supervisor sees of a running case (the `state` query)."""

    case_id: str
    kind: str
    status: str
    subject: str
    city: str | None
    opened_on: date | None
    closed_on: date | None
    next_deadline: date | None
    business_today: date
    details: dict[str, Any]
    timeline: list[TimelineEntry]
    paid_fen: int
    events_seen: int
    hold: SupervisorHold | None = None
