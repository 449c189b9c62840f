"""What every case workflow shares: the one life of a case (`run_case`: open, then events,
decisions and what falls due until closed, continue-as-new at a quiet point, never ending while
an update runs), the business clock, the event queue with de-duplication, shared facts, the
timeline, the typed state carried across continue-as-new, and the calls that record state and pay.

A kind states only its rules, as hooks: `open`, `apply`, `act_on`, `settle`, `deadline`,
`paused`, `details`, and its `State` dataclass; a kind that states what it owes (`owed`) pays
by `reconcile_owed`, which writes the payments and the corrections (POLICY.md part 2) alike.
In the workflows `settle` means one thing, that hook: do everything that fell due by today (a
task reaching its end state is `finish_task`; the status `settled` and parameters such as
`incubator.settle_months` are the measures' own words for an account closed).

Deterministic by construction: time comes from `workflow.now()` plus the case's fixed clock
offset, and every side effect is an activity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import (
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import TypeAdapter

    from activities.case_activities import CaseActivities
    from contracts.cases import (
        AlertRecord,
        CappedPaymentRequest,
        CaseContext,
        CaseEvent,
        CaseInput,
        CaseOutcome,
        CaseRecord,
        CaseView,
        ContextRequest,
        Epidemic,
        Fact,
        FactsRequest,
        FactsResult,
        HistoryRequest,
        HistoryResult,
        PastCase,
        PaymentRequest,
        PaymentResult,
        PendingClose,
        Redrive,
        RedriveResult,
        RefusalRecord,
        ScheduleLine,
        ScheduleRecord,
        SlotRequest,
        SlotResult,
        SupervisorAction,
        SupervisorHold,
        TaskDecision,
        TaskRecord,
        TimelineEntry,
    )
    from contracts.parameters import Parameters
    from contracts.timeline import EntryType, structural_entry_type
    from policy import corrections, forecast
    from policy.calendar import SHANGHAI, add_months, business_date, start_of_day
    from policy.corrections import LedgerEntry, Owed
    from workflows._states import dump_state, load_state

CASE_KIND = SearchAttributeKey.for_keyword("CaseKind")
CITY = SearchAttributeKey.for_keyword("City")
CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")

# Infrastructure faults (database restarting, broker away) are retried for as long as it takes;
# business errors raised as non-retryable ApplicationError fail fast.
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
ACTIVITY_TIMEOUT = timedelta(seconds=30)
STORE_CALLS_AS_LOCAL_ACTIVITIES = "store-calls-as-local-activities"
# A hold or release records the read model (cases.hold), so the case is the one writer of it.
HOLD_IN_READ_MODEL = "hold-in-read-model"
# An epidemic date announced before the one a case knows no longer replaces it (cases that took
# whichever arrived last keep doing so on replay).
EPIDEMIC_LATER_ANNOUNCEMENT_STANDS = "epidemic-later-announcement-stands"
# A closed case listens for late facts (POLICY.md part 2) before its workflow ends; a history
# recorded before this ends right after closing.
LISTEN_AFTER_CLOSE = "listen-after-close"
LATE_FACT_DAYS = "intake.late_fact_days"
CORRECTION_DAYS = "ledger.correction_days"

# An open case writes its schedule (POLICY.md part 2 §22: what it will pay if no new fact arrives)
# to the read model whenever it changes, and an empty one as it closes; histories recorded before
# wrote none.
SCHEDULE_IN_READ_MODEL = "schedule-in-read-model"

OPEN_STATUSES = ("active", "paused")
# How long a case that opened behind business time waits for the rest of its subject's burst
# (`gather_burst`); the demo waits as long before it sends a story's late facts.
BURST_QUIET = timedelta(seconds=5)

TIMELINE_CARRIED = 200

OVERPAYMENT_RECOVERY = "overpayment_recovery"
RULE_RECOVERY_TASK = "POLICY.md part 2: an overpayment left when the payee has no more payments"
# A decided `overpayment_recovery` task closes its receivable (repaid or written off); a history
# recorded before took no decision on it (its validator refused them).
ACT_ON_RECOVERY_DECISION = "act-on-overpayment-recovery-decision"
# A case whose window for late facts ended with an `overpayment_recovery` task open runs on until
# the task is decided; a history recorded before ended its run, and the decision failed.
RUN_UNTIL_RECOVERY_DECIDED = "run-until-recovery-decided"
# An event the case refuses (does not take into its facts or decisions) is quarantined on it
# (`refuse`), so its page shows it and a supervisor re-drives it (the `redrive` update) or
# dismisses it; histories recorded before only noted it on the timeline.
QUARANTINE_REFUSED_IN_CASE = "quarantine-refused-in-case"
# What the base reads of every kind's parameters: the windows for late facts and corrections
# (`listening_window`), the deduction ratio of `reconcile_owed`, the schedule's horizon
# (`schedule`, which states none without it).
SHARED_PARAMETERS: tuple[str, ...] = ("ledger.", "intake.", "recovery.", "forecast.")
_LEDGER = TypeAdapter(list[LedgerEntry])


class CaseWorkflow:
    """Base of every case workflow. A kind's `run` is `return await self.run_case(inp)` (the
    SDK wants `@workflow.run` on the kind's own class); the rest of a kind is its hooks."""

    kind: str = ""
    # A kind whose `settle` is written to run on a closed case too (K6, K7, K11 pay once and
    # close): a late fact is settled through it rather than by the base's reconcile alone.
    settles_when_closed: ClassVar[bool] = False
    # The kind's typed state (workflows/_states.py), carried and restored by the base.
    State: ClassVar[type[Any] | None] = None
    # The events about the case itself that keep reaching it while it is closed `rejected`
    # without a fact (K6 the pair's application, contributions and contract ends, K13 the bank's
    # reports, K14 the course's completion or drop; POLICY.md part 2 "late facts across topics"):
    # held (`held`, carried across continue-as-new) and queued again if a late fact reopens the
    # case, so that it takes them as if it had been open all along, with their original dates.
    held_while_rejected: ClassVar[tuple[str, ...]] = ()
    # What the timeline says becomes of a held event.
    held_until: ClassVar[str] = "taken if a late fact reopens the case"
    # The parameters the kind reads beside SHARED_PARAMETERS, its own and those of the rules it
    # asks (contracts/parameters.py `in_scope`: "measure." for every parameter of a measure,
    # also those added later, or one name); its context holds nothing else (`context_scope`).
    parameter_scope: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.st: Any = self.State() if self.State is not None else None
        self.case_id = ""
        self.offset = timedelta(0)
        self.use_search_attributes = True
        self.pending: list[CaseEvent] = []
        self.seen: set[str] = set()
        self._status = "active"
        self.subject = ""
        self.city: str | None = None
        self.opened_on: date | None = None
        self.closed_on: date | None = None
        self.timeline: list[TimelineEntry] = []
        self.paid_fen = 0
        self.version = 0
        self.keys: list[str] = []
        self.params: Parameters | None = None
        self.epidemic = Epidemic()
        self.tasks: dict[str, TaskRecord] = {}
        self.generation = 0
        self.decisions: list[TaskDecision] = []
        self.hold: SupervisorHold | None = None
        # The rows this case wrote through `reconcile_owed` (not those of `pay`/`pay_capped`):
        # what reconciliation compares what is owed now against.
        self.ledger: list[LedgerEntry] = []
        # Closed but still taking facts, through this business day (None: not listening).
        self.listening_until: date | None = None
        # Closed by a decision a late fact may undo (`close(..., without_fact=True)`).
        self.decided_without_fact = False
        # The `held_while_rejected` events that reached it since (already in `seen`).
        self.held: list[CaseEvent] = []
        # The schedule last written to the read model (None: none written yet).
        self.schedule_written: list[ScheduleLine] | None = None
        # Re-drives (`redrive` update) waiting for the main loop to offer their event, the
        # results waiting for their update, and the event being offered now with the refusal
        # `refuse` noted for it (None: taken). Never carried: a run continues as new only once
        # every update finished (`continue_as_new_if_long`).
        self.redrives: list[Redrive] = []
        self.redriven: dict[str, RedriveResult] = {}
        self.offering: str | None = None
        self.offer_refusal: str | None = None
        # Past every loop: a re-drive can no longer be offered (its validator refuses it).
        self.ending = False
        # A close decided on a stop fact, held while what the case owes falls due after today
        # (`close_once_owed`); carried across continue-as-new.
        self.closing: PendingClose | None = None

    # -- the template ------------------------------------------------------------------------
    async def run_case(self, inp: CaseInput) -> CaseOutcome:
        """Open on the first event (a continued run restores instead), then until closed: the
        pending events in business-time order, the supervisors' decisions, what fell due by
        today, continue-as-new at this quiet point if the history is long, and a wait for the
        next event, decision or deadline. Once closed, the case listens for late facts for its
        window (`listen`), which may reopen it. The run ends only after every update handler
        finished, so no supervisor's call is cut off by the case closing."""
        self.begin(inp)
        if not self.restored:
            await self.open(await self.next_event())
        while True:
            await self.run_open()
            await self.record_schedule()
            if not await self.listen():
                break
        await self.await_recovery_decisions()
        self.ending = True
        # Re-driven after the last loop looked: too late, refused (and still quarantined).
        await self.take_redrives(self.too_late, lambda: True)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return await self.finish()

    async def run_open(self) -> None:
        """The loop of an open case, until it closes."""
        while self.is_open:
            for ev in self.take_pending():
                await self.apply(ev)
                if not self.is_open:
                    break
            if not self.is_open:
                break
            await self.take_redrives(self.apply, lambda: self.is_open)
            if not self.is_open:
                break
            for decision in self.take_decisions():
                if not await self.take_recovery_decision(decision):
                    await self.act_on(decision)
                if not self.is_open:
                    break
            if not self.is_open:
                break
            await self.settle(self.today())
            if not self.is_open:
                break
            await self.close_if_owed_fell_due()
            if not self.is_open:
                break
            await self.record_schedule()
            await self.continue_as_new_if_long()
            await self.wait_for_event(self.next_deadline)

    async def listen(self) -> bool:
        """A closed case's window for late facts (POLICY.md part 2): each event that reaches it
        is judged by `take_late_fact`; True when one reopened the case. When the window ends its
        keys stop routing events to it (`end_listening`) and the run can end."""
        while self.listening_until is not None:
            for ev in self.take_pending():
                await self.take_late_fact(ev)
                if self.is_open:
                    return True
            await self.take_redrives(self.take_late_fact, lambda: not self.is_open)
            if self.is_open:
                return True
            for decision in self.take_decisions():
                if await self.take_recovery_decision(decision):
                    continue
                # The `decide` update recorded it on its task already; a closed case's own tasks
                # were settled as it closed (only what deduction could not recover is left open).
                self.note(self.today(), f"decision on {decision.task_id} taken while closed: recorded, nothing to act on", type="task")
            await self.continue_as_new_if_long()
            if self.today() > self.listening_until:
                await self._store(CaseActivities.end_listening, self.case_id)
                self.note(self.today(), f"no longer taking late facts (window ended {self.listening_until})")
                self.listening_until = None
                # Routed here while the keys still listened: taken like the others.
                for ev in self.take_pending():
                    await self.take_late_fact(ev)
                    if self.is_open:
                        return True
                break
            await self.wait_for_event(self.listening_until + timedelta(days=1))
        return False

    async def await_recovery_decisions(self) -> None:
        """A closed case no longer taking facts, with an `overpayment_recovery` task still open:
        its run ends only once every such task is decided (repaid or written off), so the
        supervisor's decision is still taken after `ledger.correction_days`. Events that reach
        it meanwhile are too late: noted, not taken."""
        if not self.open_recovery_tasks() or not workflow.patched(RUN_UNTIL_RECOVERY_DECIDED):
            return
        self.note(self.today(), "no longer taking late facts; the run lasts until the overpayment_recovery tasks are decided")
        while self.open_recovery_tasks() or self.decisions:
            await workflow.wait_condition(self.has_work)
            for ev in self.take_pending():
                await self.too_late(ev)
            await self.take_redrives(self.too_late, lambda: True)
            for decision in self.take_decisions():
                await self.take_recovery_decision(decision)
            await self.continue_as_new_if_long()

    async def too_late(self, ev: CaseEvent) -> None:
        """An event reaching a case that no longer takes facts (its window for late facts ended)."""
        await self.refuse(self.today(), ev, f"{ev.type} after the window for late facts: not taken")

    def open_recovery_tasks(self) -> list[TaskRecord]:
        return [t for t in self.open_tasks() if t.kind == OVERPAYMENT_RECOVERY]

    async def take_late_fact(self, ev: CaseEvent) -> None:
        """A fact that reached the closed case in its window: a decision taken without it is
        taken again (`reopen_on`); otherwise, for a case that paid, what it owes is recomputed
        with the fact and the ledger corrected at once, since nothing more will be paid."""
        if self.decided_without_fact:
            if ev.type in self.held_while_rejected:
                # Held, not refused: taken if the case reopens (a re-driven one is held once).
                if all(h.key != ev.key for h in self.held):
                    self.held.append(ev)
                self.note(business_date(ev.time), f"{ev.type} held while rejected: {self.held_until}", event=ev.key)
                self.note(self.today(), f"late {ev.type}: the decision stands", event=ev.key)
                return
            if await self.reopen_on(ev):
                return
            await self.refuse(self.today(), ev, f"late {ev.type}: the decision stands")
            return
        await self.apply(ev)
        if self.owed(self.today()) is None:
            self.note(self.today(), f"late {ev.type}: {self.kind} does not reconcile what it owes; ledger unchanged", event=ev.key)
            return
        if self.settles_when_closed:
            # The kind's own settle reconciles a closed case (workflows/_one_off.py) and keeps
            # what it shows (an assessment's figures) in step with the facts.
            await self.settle(self.today())
            return
        rows = await self.reconcile_owed(self.today(), ev.key)
        if any(r.entry == "overpayment" for r in rows):
            await self.raise_overpayment_recovery(self.today())
        if not rows:
            self.note(self.today(), f"late {ev.type}: what is owed is unchanged", event=ev.key)

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """A kind that closes `without_fact` judges the case again with `ev` as if it had come
        first; if the case now opens it calls `reopen` and returns True (the events held
        meanwhile are not offered to it: `take_late_fact` holds them)."""
        return False

    async def reopen(self, rule: str, event: str) -> None:
        """Back to active with the same opening date: the normal loop pays what fell due since,
        with the original dates, and takes the events held while rejected on its next turn (in
        business-time order). The kind records the reopened state (`record("reopened")`)."""
        self.status = "active"
        self.closed_on = None
        self.listening_until = None
        self.decided_without_fact = False
        self.note(self.today(), "reopened: judged again as if the late fact had come first", rule=rule, event=event)
        self.pending.extend(self.held)
        self.held = []

    async def open(self, opening: CaseEvent) -> None:
        """The opening event: subject, city, keys, context; may close the case at once."""
        raise NotImplementedError

    async def apply(self, ev: CaseEvent) -> None:
        """One input event, in business-time order."""
        raise NotImplementedError

    def takes_events(self, late_facts_correct: str) -> bool:
        """Whether a kind's `apply` takes an event: always while the case is open; once closed
        (a fact reaching it in its listening window, `take_late_fact`) only if it reconciles what
        it owes (`self.st.reconciles`) and runs under the kind's `late_facts_correct` patch, so
        that the fact corrects it (POLICY.md part 2: facts still correct a case up to
        ledger.correction_days after it closed). A closed case under the code before ignored the
        fact, and its history replays so."""
        return self.is_open or (self.st.reconciles and workflow.patched(late_facts_correct))

    async def act_on(self, decision: TaskDecision) -> None:
        """A supervisor's decision, recorded on its task by the `decide` update already."""
        raise NotImplementedError(f"{self.kind} cases take no decisions")

    async def settle(self, today: date) -> None:
        """Everything that fell due by `today` (payments, tasks, closing)."""

    def deadline(self) -> date | None:
        """The next business day something falls due (None: only an event can move the case)."""
        return None

    def paused(self) -> bool:
        """Whether the case is paused by its own facts (an interruption); not a supervisor hold."""
        return False

    def owed(self, today: date) -> list[Owed] | None:
        """What the case owes on the facts known now, for every (program, period) it pays through
        `reconcile_owed` (None: the kind pays the old way, with `pay`)."""
        return None

    def schedule(self, today: date) -> list[ScheduleLine] | None:
        """What the case will pay from `today` if no new fact arrives (POLICY.md part 2 §22), from
        the same `owed` it pays by, over `forecast.horizon_months`; empty once closed. None: the
        kind pays the old way (no `owed`), or its parameters were carried from before the horizon
        existed, so it states no schedule."""
        if not self.is_open:
            return []
        if self.params is None or forecast.HORIZON not in self.params.values:
            return None
        owed = self.owed_ahead(add_months(today, self.params.integer(forecast.HORIZON, today)))
        if owed is None:
            return None
        return [ScheduleLine(program=s.program, period=s.period, amount=s.amount, fund=s.fund, due_on=s.due_on)
                for s in forecast.schedule(owed, self.ledger, today)]

    async def record_schedule(self) -> None:
        """Write the schedule to the read model when it differs from the one written last (it
        replaces it there); a case that never wrote one and has none writes nothing."""
        today = self.today()
        lines = self.schedule(today)
        if lines is None or lines == (self.schedule_written if self.schedule_written is not None else []):
            return
        if not workflow.patched(SCHEDULE_IN_READ_MODEL):
            return
        await self._store(CaseActivities.record_schedule,
                          ScheduleRecord(case_id=self.case_id, kind=self.kind, city=self.city, on=today, lines=lines))
        self.schedule_written = lines

    def owed_ahead(self, until: date) -> list[Owed] | None:
        """What the case will have owed by `until` if no new fact arrives: `owed`, unless the kind
        changes its own state in `settle` as time passes (K5's extension at the period's end),
        which it then states here by its own rules."""
        return self.owed(until)

    def removal_rule(self) -> str:
        """The rule named on an overpayment of a period the kind no longer owes at all."""
        return "no longer owed on the facts known now"

    async def finish(self) -> CaseOutcome:
        return self.outcome()

    def outcome(self) -> CaseOutcome:
        return CaseOutcome(case_id=self.case_id, status=self.status, paid_fen=self.paid_fen)

    @property
    def status(self) -> str:
        """Closed: how it closed; open: `paused` while the kind's facts pause it, else `active`."""
        if self._status in OPEN_STATUSES:
            return "paused" if self.paused() else "active"
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    @property
    def next_deadline(self) -> date | None:
        """The kind's `deadline`, or sooner the next day a month owed falls due while a close
        waits for it (`close_once_owed`); None once closed."""
        if not self.is_open:
            return None
        deadline = self.deadline()
        if self.closing is not None:
            due = self.owed_due_after(self.today())
            if due is not None and (deadline is None or due < deadline):
                return due
        return deadline

    # -- inputs ------------------------------------------------------------------------------
    @workflow.signal(name="event")
    def event(self, ev: CaseEvent) -> None:
        """Every input event reaches a case through this one signal; redeliveries are dropped."""
        if ev.key in self.seen:
            return
        self.seen.add(ev.key)
        self.pending.append(ev)

    @workflow.query(name="state")
    def state(self) -> CaseView:
        return CaseView(
            case_id=self.case_id,
            kind=self.kind,
            status=self.status,
            subject=self.subject,
            city=self.city,
            opened_on=self.opened_on,
            closed_on=self.closed_on,
            next_deadline=self.next_deadline,
            business_today=self.today(),
            details=self.details(),
            timeline=self.timeline,
            paid_fen=self.paid_fen,
            events_seen=len(self.seen),
            hold=self.hold,
        )

    def details(self) -> dict[str, Any]:
        """Kind-specific state for the `state` query."""
        return {}

    # -- the business clock ------------------------------------------------------------------
    def begin(self, inp: CaseInput) -> None:
        self.case_id = inp.case_id
        self.offset = timedelta(seconds=inp.clock_offset_seconds)
        self.use_search_attributes = inp.search_attributes
        self.input = inp
        if inp.carried:
            self.restore(inp.carried)

    # -- continue-as-new ---------------------------------------------------------------------
    def carry(self) -> dict[str, Any]:
        """The state a case keeps across continue-as-new; subclasses add theirs (call super)."""
        return {
            "seen": sorted(self.seen),
            "pending": [e.model_dump(mode="json") for e in self.pending],
            "status": self.status,
            "subject": self.subject,
            "city": self.city,
            "opened_on": self.opened_on.isoformat() if self.opened_on else None,
            "timeline": [t.model_dump(mode="json") for t in self.timeline[-TIMELINE_CARRIED:]],
            "paid_fen": self.paid_fen,
            "version": self.version,
            "keys": self.keys,
            "params": self.params.model_dump(mode="json") if self.params else None,
            "epidemic": self.epidemic.model_dump(mode="json"),
            "tasks": [t.model_dump(mode="json") for t in self.tasks.values()],
            "generation": self.generation + 1,
            "hold": self.hold.model_dump(mode="json") if self.hold else None,
            # Decisions taken but not yet acted on: one taken while the loop was busy just
            # before the hand-over is acted on by the next run.
            "decisions": [d.model_dump(mode="json") for d in self.decisions],
            "ledger": _LEDGER.dump_python(self.ledger, mode="json"),
            "closed_on": self.closed_on.isoformat() if self.closed_on else None,
            "listening_until": self.listening_until.isoformat() if self.listening_until else None,
            "decided_without_fact": self.decided_without_fact,
            "schedule_written": [s.model_dump(mode="json") for s in self.schedule_written] if self.schedule_written is not None else None,
            "closing": self.closing.model_dump(mode="json") if self.closing is not None else None,
            # Under the key the kinds that hold events carried it on their state before.
            **({"held": [e.model_dump(mode="json") for e in self.held]} if self.held_while_rejected else {}),
            **(dump_state(self.st) if self.State is not None else {}),
        }

    def restore(self, carried: dict[str, Any]) -> None:
        # Signals that reached the new run in its first activation ran their handler before
        # `run` restored anything (tests/faults fault 9 lost them): keep those not seen before.
        early = self.pending
        self.seen = set(carried["seen"])
        self.pending = [CaseEvent.model_validate(e) for e in carried["pending"]]
        if early and workflow.patched("keep-signals-of-the-first-activation"):
            for ev in early:
                if ev.key not in self.seen:
                    self.seen.add(ev.key)
                    self.pending.append(ev)
        self.status = carried["status"]
        self.subject = carried["subject"]
        self.city = carried["city"]
        self.opened_on = date.fromisoformat(carried["opened_on"]) if carried["opened_on"] else None
        self.timeline = [TimelineEntry.model_validate(t) for t in carried["timeline"]]
        self.paid_fen = carried["paid_fen"]
        self.version = carried["version"]
        self.keys = carried["keys"]
        self.params = Parameters.model_validate(carried["params"]) if carried["params"] else None
        self.epidemic = Epidemic.model_validate(carried["epidemic"])
        self.tasks = {t["task_id"]: TaskRecord.model_validate(t) for t in carried["tasks"]}
        self.generation = carried["generation"]
        self.hold = SupervisorHold.model_validate(carried["hold"]) if carried.get("hold") else None
        self.decisions = [TaskDecision.model_validate(d) for d in carried.get("decisions", [])]
        # Carried before corrections existed: nothing was written through reconciliation.
        self.ledger = _LEDGER.validate_python(carried.get("ledger", []))
        # Carried before closed cases listened: only open cases continued as new.
        self.closed_on = date.fromisoformat(carried["closed_on"]) if carried.get("closed_on") else None
        self.listening_until = date.fromisoformat(carried["listening_until"]) if carried.get("listening_until") else None
        self.decided_without_fact = bool(carried.get("decided_without_fact", False))
        self.held = [CaseEvent.model_validate(e) for e in carried.get("held", [])]
        written = carried.get("schedule_written")
        self.schedule_written = [ScheduleLine.model_validate(s) for s in written] if written is not None else None
        # Carried before a close could wait for what is owed: none waits.
        self.closing = PendingClose.model_validate(carried["closing"]) if carried.get("closing") else None
        if self.State is not None:
            self.st = load_state(self.State, carried)

    @property
    def restored(self) -> bool:
        return bool(self.input.carried)

    def history_is_long(self) -> bool:
        info = workflow.info()
        # Well before Temporal's limits (50k events / 50 MB) so replays stay fast.
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > self.input.history_limit

    async def continue_as_new_if_long(self) -> None:
        """At a quiet point of the main loop: start afresh with the carried state if the
        history has grown long (never raises otherwise)."""
        if not self.history_is_long():
            return
        # A `redrive` update waits for this loop to offer its event: offered first, and the run
        # continues as new at the next quiet point.
        await workflow.wait_condition(lambda: workflow.all_handlers_finished() or bool(self.redrives))
        if self.redrives:
            return
        workflow.continue_as_new(self.input.model_copy(update={"carried": self.carry()}))

    def now(self) -> datetime:
        return workflow.now() + self.offset

    def today(self) -> date:
        return business_date(self.now())

    def has_work(self) -> bool:
        return bool(self.pending) or bool(self.decisions) or bool(self.redrives)

    async def wait_for_event(self, deadline: date | None) -> None:
        """Sleep until an event or a decision arrives, or the business day `deadline` begins."""
        if self.has_work():
            return
        if deadline is None:
            await workflow.wait_condition(self.has_work)
            return
        remaining = start_of_day(deadline) - self.now()
        if remaining <= timedelta(0):
            return
        try:
            await workflow.wait_condition(self.has_work, timeout=remaining)
        except asyncio.TimeoutError:
            pass

    async def gather_burst(self, quiet: timedelta = BURST_QUIET) -> None:
        """Wait until no new event arrived for `quiet`.

        A case that opens behind business time (a backlog being replayed, a producer that was
        down) would otherwise pay past months before the interruptions dated inside them have
        been delivered; the intake sends a subject's events back to back, so a short quiet spell
        means the burst is in and can be judged in date order.
        """
        while True:
            seen = len(self.seen)
            try:
                # Awaited here, so it is never called after `seen` moves on.
                await workflow.wait_condition(lambda: len(self.seen) > seen, timeout=quiet)  # noqa: B023
            except asyncio.TimeoutError:
                return

    async def next_event(self) -> CaseEvent:
        await workflow.wait_condition(lambda: bool(self.pending))
        return self.pending.pop(0)

    def take_pending(self) -> list[CaseEvent]:
        """Pending events in the order of the business time they describe."""
        events, self.pending = sorted(self.pending, key=lambda e: e.time), []
        return events

    def take_stored_fact(self, fact: Fact) -> None:
        """Queue a fact stored by the intake before this case existed as if it had been
        signalled. The intake stores an event before routing it, so each is either read from the
        store or signalled after the case was registered; `seen` drops the ones that are both."""
        if fact.event_key in self.seen:
            return
        self.seen.add(fact.event_key)
        source, _, ident = fact.event_key.partition("#")
        self.pending.append(
            CaseEvent(source=source, id=ident, type=fact.type, subject=self.subject, time=fact.event_time, data=fact.payload)
        )

    # -- shared facts ------------------------------------------------------------------------
    def apply_shared_fact(self, ev: CaseEvent) -> bool:
        """Epidemic dates and parameter changes: stored on the case; True if `ev` was one."""
        if ev.type in ("policy.epidemic.declared", "policy.epidemic.lifted"):
            # A second lifted event corrects the first (POLICY.md shared facts): the one announced
            # later, as `load_context` orders the stored facts, also when the earlier one arrives
            # last (a lagging topic); tests/workflow/test_order_independence.py found the case
            # taking whichever arrived last.
            field = "declared" if ev.type.endswith("declared") else "lifted"
            known_at = getattr(self.epidemic, f"{field}_at")
            if known_at is not None and ev.time < known_at and workflow.patched(EPIDEMIC_LATER_ANNOUNCEMENT_STANDS):
                self.note(business_date(ev.time), f"epidemic {field} on {ev.data['on']}: announced before the one known "
                          f"({getattr(self.epidemic, f'{field}_on')}), which stands", event=ev.key)
                return True
            self.epidemic = self.epidemic.model_copy(update={f"{field}_on": date.fromisoformat(ev.data["on"]),
                                                             f"{field}_at": ev.time})
            self.note(getattr(self.epidemic, f"{field}_on"), f"epidemic {field}", event=ev.key)
            return True
        if ev.type == "policy.parameter.changed":
            city = ev.data.get("city")
            # A context of the kind's parameters (`context_scope`) holds no other: a change of
            # one outside it changes nothing the case reads. A context recorded before kinds had
            # scopes is the whole pack, which covers every name: taken as before.
            if self.params is not None and city in (None, self.city) and self.params.covers(ev.data["name"]):
                effective = date.fromisoformat(ev.data["effective_on"])
                self.params = self.params.with_change(ev.data["name"], ev.data["value"], effective)
                self.note(effective, f"parameter {ev.data['name']} = {ev.data['value']} from {effective}", event=ev.key)
            return True
        return False

    @classmethod
    def kind_parameters(cls) -> tuple[str, ...]:
        """Every parameter the kind reads: the base's and the kind's own scope."""
        return SHARED_PARAMETERS + cls.parameter_scope

    def context_scope(self) -> list[str] | None:
        """The scope `load_context` asks for: the kind's parameters (its context holds no other:
        7.7 KB of every history and ≈ 68 KB of every cached case before, docs/BENCHMARKS.md), or
        None, the whole pack, for a case whose context is the whole pack already.

        No `workflow.patched` here, on purpose: a patch is False only while a history is
        replayed, and a replayed `load_context` returns the context its history recorded
        whatever is asked; so it would change nothing, and cost every case a marker and a
        search-attribute upsert. What keeps running cases on their old path is the context
        itself: one recorded before has no `scope`, so a running case that loads its context
        again (K4, K6, K7: the city the person or enterprise is registered in) or continues as
        new keeps the whole pack, and `apply_shared_fact` takes every change as it did."""
        if self.params is not None and self.params.scope is None:
            return None
        return list(self.kind_parameters())

    async def load_context(self, city: str | None) -> CaseContext:
        context: CaseContext = await self._store(CaseActivities.load_context,
                                                 ContextRequest(city=city, kind=self.kind, scope=self.context_scope()))
        self.params = context.parameters
        self.epidemic = context.epidemic
        return context

    async def load_facts(self, keys: list[str], types: list[str]) -> list[Fact]:
        result: FactsResult = await self._store(CaseActivities.load_facts, FactsRequest(keys=keys, types=types))
        return result.facts

    async def case_history(self, kinds: list[str]) -> list[PastCase]:
        result: HistoryResult = await self._store(
            CaseActivities.case_history, HistoryRequest(subject=self.subject, kinds=kinds, exclude_case_id=self.case_id)
        )
        return result.cases

    async def _store(self, method: Any, request: Any) -> Any:
        """A call to the store (every one is short and idempotent: reads, and writes keyed by
        their natural key). As a local activity it runs inside the workflow task that asks for
        it: no activity task for the server to queue and hand out, and a workflow task fewer
        per call; on the 2-core benchmark machine the server was half the CPU (docs/BENCHMARKS.md).
        Histories recorded before that keep their activities."""
        if workflow.patched(STORE_CALLS_AS_LOCAL_ACTIVITIES):
            return await workflow.execute_local_activity_method(
                method, request, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
            )
        return await workflow.execute_activity_method(
            method, request, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY
        )

    async def take_slots(self, *limits: tuple[str, int]) -> SlotResult:
        """Take a slot of each (scope, limit) that all cases share (K13's loans per borrower; K14's
        subsidies per person and year and per occupation and level), all or none; held for good
        once taken. The store serialises the takers, so concurrent cases never pass a limit; a
        retry or replay gets the same answer."""
        result: SlotResult = await self._store(
            CaseActivities.take_slots, SlotRequest(holder=self.case_id, limits=list(limits))
        )
        return result

    async def open_case(self, kind: str, case_id: str, opening: CaseEvent) -> workflow.ChildWorkflowHandle[Any, Any]:
        """Open another case (K2 exhausted → K3). It outlives this one (ABANDON); its id is a
        business key, so a replay or retry reaches the same case. Returns the child's handle
        (a caller may await its end)."""
        handle = await workflow.start_child_workflow(
            kind,
            CaseInput(
                case_id=case_id,
                kind=kind,
                clock_offset_seconds=self.input.clock_offset_seconds,
                search_attributes=self.use_search_attributes,
            ),
            id=case_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=search_attributes_for(kind, self.city, "active") if self.use_search_attributes else None,
        )
        await workflow.get_external_workflow_handle(case_id).signal("event", opening)
        self.note(self.today(), f"opened case {case_id}", event=opening.key)
        return handle

    def internal_event(self, type_: str, data: dict[str, Any], suffix: str) -> CaseEvent:
        """An event this case sends to another (deterministic id, so the receiver dedupes)."""
        return CaseEvent(
            source="jiuye/cases",
            id=f"{self.case_id}:{suffix}",
            type=type_,
            subject=self.subject,
            time=self.now(),
            data=data,
        )

    # -- supervisor decisions ----------------------------------------------------------------
    @workflow.update(name="decide")
    async def decide(self, decision: TaskDecision) -> TaskRecord:
        """A supervisor decides an open task; the case acts on it in its main loop. A decided
        `overpayment_recovery` task closes its receivable at once (`recovery_closed`)."""
        task = self.tasks[decision.task_id]
        await self.admit_decision(task, decision)
        self.decisions.append(decision)
        return await self.finish_task(decision.task_id, "decided", decision.decided_by, self.recovery_closed(task, decision))

    async def admit_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """What a decision needs from outside the case before it is taken (K16: one of the year's
        provincial slots); raise ApplicationError to refuse it, the task stays open. Validators
        cannot call the store; the default does nothing and adds no command."""

    @decide.validator
    def validate_decide(self, decision: TaskDecision) -> None:
        task = self.tasks.get(decision.task_id)
        if task is None:
            raise ValueError(f"no task {decision.task_id} on case {self.case_id}")
        if task.state != "open":
            raise ValueError(f"task {decision.task_id} is {task.state}, not open")
        if task.kind == OVERPAYMENT_RECOVERY:
            validate_recovery_decision(decision)
            return
        self.validate_decision(task, decision)

    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """Kinds with tasks check the decision against their rule (raise ValueError to reject)."""
        raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")

    def take_decisions(self) -> list[TaskDecision]:
        decisions, self.decisions = self.decisions, []
        return decisions

    # -- refused events: quarantined on the case, re-driven by a supervisor -------------------
    async def refuse(self, on: date | None, ev: CaseEvent, what: str, rule: str | None = None) -> None:
        """The case does not take `ev` into its facts or decisions: `what` (and the `rule`, if
        one decides it) goes on the timeline and, behind QUARANTINE_REFUSED_IN_CASE, the event
        is quarantined on the case (`quarantined_events`, origin `workflow`). Every refusal of a
        received event goes through here, so a re-drive (`take_redrives`) learns of it."""
        self.note(on, what, rule=rule, event=ev.key)
        if ev.key == self.offering:
            self.offer_refusal = what if rule is None else f"{what} ({rule})"
        if workflow.patched(QUARANTINE_REFUSED_IN_CASE):
            await self._store(CaseActivities.quarantine_refused,
                              RefusalRecord(case_id=self.case_id, event=ev, reason=what, rule=rule))

    @workflow.update(name="redrive")
    async def redrive(self, request: Redrive) -> RedriveResult:
        """A supervisor offers an event the case refused to it again (`jiuye case redrive`, POST
        /api/quarantine/<id>/redrive): the main loop judges it under the case's state NOW, as
        it judges any event at that point (open: the kind's `apply`; closed and listening:
        `take_late_fact`; past its window: too late), and this answers what became of it. The
        update adds nothing to histories that never receive it."""
        key = request.event.key
        self.note(self.today(), f"{request.event.type} re-driven by {request.by}: {request.reason.strip()}",
                  event=key, type="supervisor")
        self.redrives.append(request)
        await workflow.wait_condition(lambda: key in self.redriven)
        return self.redriven.pop(key)

    @redrive.validator
    def validate_redrive(self, request: Redrive) -> None:
        key = request.event.key
        if not request.reason.strip():
            raise ValueError("a reason is required")
        if not request.by.strip():
            raise ValueError("by (who acts) is required")
        if key not in self.seen:
            raise ValueError(f"event {key} never reached case {self.case_id}: nothing to re-drive")
        if key == self.offering or any(r.event.key == key for r in self.redrives):
            raise ValueError(f"event {key} is being re-driven already")
        if self.ending:
            raise ValueError(f"case {self.case_id} takes no more events: its run is ending")

    async def take_redrives(self, take: Callable[[CaseEvent], Awaitable[None]], still: Callable[[], bool]) -> None:
        """Offer the re-driven events to the case by `take` while `still` holds (a case that
        closes or reopens on one offers the rest in its next loop); each is taken unless `refuse`
        was called for it on the way."""
        while self.redrives and still():
            ev = self.redrives.pop(0).event
            self.offering, self.offer_refusal = ev.key, None
            before = len(self.timeline)
            try:
                await take(ev)
            finally:
                self.offering = None
            if self.offer_refusal is not None:
                self.redriven[ev.key] = RedriveResult(taken=False, detail=self.offer_refusal)
            else:
                said = [t.what for t in self.timeline[before:] if t.event == ev.key]
                self.redriven[ev.key] = RedriveResult(taken=True, detail=said[-1] if said else f"{ev.type} taken")

    # -- supervisor hold: `jiuye case hold|release`, POST /api/cases/<id>/hold|release --------
    @workflow.update(name="hold")
    async def hold_or_release(self, action: SupervisorAction) -> CaseView:
        """Hold or release the case's payments; `pay` waits while held. The update adds nothing
        to histories that never receive it. It then records the read model (whose `hold` the
        case alone writes), behind a patch: updates of histories from before wrote nothing."""
        return await self._hold_or_release(action)

    # The update's name before it was `hold`: histories of running cases carry it, and a
    # console not yet upgraded sends it; it stays accepted, as the same update.
    @workflow.update(name="supervise")
    async def supervise(self, action: SupervisorAction) -> CaseView:
        return await self._hold_or_release(action)

    @supervise.validator
    def validate_supervise(self, action: SupervisorAction) -> None:
        self.validate_hold(action)

    async def _hold_or_release(self, action: SupervisorAction) -> CaseView:
        if action.action == "hold":
            self.hold = SupervisorHold(reason=action.reason.strip(), by=action.by, since=self.today())
            self.note(self.today(), f"held by {action.by}: {action.reason.strip()}", type="supervisor")
        else:
            self.hold = None
            self.note(self.today(), f"hold released by {action.by}: {action.reason.strip()}", type="supervisor")
        if workflow.patched(HOLD_IN_READ_MODEL):
            await self.record("updated")
        return self.state()

    @hold_or_release.validator
    def validate_hold(self, action: SupervisorAction) -> None:
        if action.action not in ("hold", "release"):
            raise ValueError(f"action must be hold or release, not {action.action!r}")
        if not action.reason.strip():
            raise ValueError("a reason is required")
        if not action.by.strip():
            raise ValueError("by (who acts) is required")
        if not self.is_open:
            raise ValueError(f"case {self.case_id} is {self.status}: nothing to hold or release")
        if action.action == "hold" and self.hold is not None:
            raise ValueError(f"case {self.case_id} is already held by {self.hold.by} since {self.hold.since}")
        if action.action == "release" and self.hold is None:
            raise ValueError(f"case {self.case_id} is not held")

    # -- effects -----------------------------------------------------------------------------
    def note(self, on: date | None, what: str, rule: str | None = None, event: str | None = None, amount: int | None = None,
             *, type: EntryType | None = None) -> None:
        """Add a timeline entry. `type` (contracts/timeline.py) is for the console; a note that
        does not give one is a decision when it names a rule, else a fact taken when it names
        an event, else a plain note."""
        self.timeline.append(TimelineEntry(on=on or self.today(), what=what, rule=rule, event=event, amount=amount,
                                           type=type or structural_entry_type(rule=rule, event=event)))

    async def record(self, change: str, on: date | None = None, summary: dict[str, Any] | None = None) -> None:
        """Write the read model (and a lifecycle event) for the current state."""
        self.version += 1
        await self._store(
            CaseActivities.record_case,
            CaseRecord(
                case_id=self.case_id,
                kind=self.kind,
                subject=self.subject,
                city=self.city,
                status=self.status,
                change=change,
                version=self.version,
                opened_on=self.opened_on,
                closed_on=self.closed_on,
                next_deadline=self.next_deadline,
                on=on or self.today(),
                summary=summary if summary is not None else self.details(),
                keys=self.keys,
                listening_until=self.listening_until,
                hold=self.hold,
            ),
        )
        if self.use_search_attributes:
            workflow.upsert_search_attributes([CASE_STATUS.value_set(self.status)])

    async def pay(self, *, payee: str, program: str, period: str, amount: int, fund: str, due_on: date, rule: str) -> bool:
        """Pay once: the ledger's key (case, program, period) absorbs retries and replays."""
        await self._unless_held()
        result: PaymentResult = await self._store(
            CaseActivities.pay,
            self._payment(payee=payee, program=program, period=period, amount=amount, fund=fund, due_on=due_on, rule=rule),
        )
        self.paid_fen += amount
        self.note(due_on, f"paid {period} to {payee}", rule=rule, amount=amount, type="payment")
        return result.inserted

    async def pay_capped(
        self, *, payee: str, program: str, period: str, amount: int, cap: int, fund: str, due_on: date, rule: str
    ) -> PaymentResult:
        """Pay `amount`, or what is left of `cap` for (payee, program) across ALL cases if less
        (§10: an HR agency's total). The store enforces the cap in one statement, so concurrent
        cases never pass it; the result says what was paid (0: the cap was already used up)."""
        await self._unless_held()
        result: PaymentResult = await self._store(
            CaseActivities.pay_capped,
            CappedPaymentRequest(
                payment=self._payment(payee=payee, program=program, period=period, amount=amount, fund=fund, due_on=due_on, rule=rule),
                cap=cap,
            ),
        )
        paid = result.amount or 0
        if paid:
            self.paid_fen += paid
            self.note(due_on, f"paid {period} to {payee}" + (f" (cut to what is left of the cap {cap})" if result.capped else ""), rule=rule, amount=paid,
                      type="payment")
        return result

    async def reconcile_owed(self, today: date, cause: str | None = None) -> list[LedgerEntry]:
        """Make the ledger agree with what the case owes now (`owed`): the payments fallen due,
        and the arrears, overpayments and deductions a fact dated in the past, a replacing fact
        or a backdated parameter change made (`policy.corrections.reconcile`). `cause` is the
        event (`source#id`) that changed what is owed, named on each correction. Every row is
        written by the `pay` activity, idempotent on its ledger key, waiting while held."""
        owed = self.owed(today)
        if owed is None:
            return []
        assert self.params is not None
        rows = corrections.reconcile(
            owed, self.ledger, today, self.params.ratio("recovery.max_deduction_ratio", today), cause, self.removal_rule(),
            self.closed_by_recovery_tasks(),
        )
        for row in rows:
            await self._write_row(row)
        return rows

    async def _write_row(self, row: LedgerEntry) -> None:
        await self._unless_held()
        payment = self._payment(payee=row.payee, program=row.program, period=row.period, amount=row.amount,
                                fund=row.fund, due_on=row.due_on, rule=row.rule)
        await self._store(
            CaseActivities.pay,
            payment.model_copy(update={"entry": row.entry, "seq": row.seq, "corrects": row.corrects, "cause": row.cause}),
        )
        self.ledger.append(row)
        if row.entry == "payment":
            self.paid_fen += row.amount
            self.note(row.due_on, f"paid {row.period} to {row.payee}", rule=row.rule, amount=row.amount, type="payment")
        else:
            # What the payee receives: arrears add to it, a deduction is withheld from a payment;
            # an overpayment is a receivable, nothing paid.
            self.paid_fen += {"arrears": row.amount, "deduction": -row.amount}.get(row.entry, 0)
            self.note(row.due_on, f"{row.entry} for {row.program} {row.corrects}"
                      + (f" (taken from {row.period})" if row.entry == "deduction" else ""),
                      rule=row.rule, event=row.cause, amount=row.amount, type="correction")

    async def raise_overpayment_recovery(self, on: date) -> list[TaskRecord]:
        """What is left of the overpayments when the payee has no more payments: one
        `overpayment_recovery` task per (payee, fund), raised as the case closes, and one more
        for what a correction after closing adds (tasks raised before keep their amounts; what a
        decided one closed is no longer outstanding)."""
        raised = []
        for (payee, fund), outstanding in sorted(corrections.outstanding(self.ledger, self.closed_by_recovery_tasks()).items()):
            left = outstanding - sum(
                t.details["amount"] for t in self.tasks.values()
                if t.kind == OVERPAYMENT_RECOVERY and t.state == "open"
                and (t.details.get("payee"), t.details.get("fund")) == (payee, fund)
            )
            if left <= 0:
                continue
            periods = sorted({r.period for r in self.ledger if r.entry == "overpayment" and (r.payee, r.fund) == (payee, fund)})
            raised.append(await self.raise_task(
                OVERPAYMENT_RECOVERY, on,
                {"payee": payee, "fund": fund, "amount": left, "periods": periods, "rule": RULE_RECOVERY_TASK},
            ))
        return raised

    def closed_by_recovery_tasks(self) -> dict[tuple[str, str], int]:
        """What decided `overpayment_recovery` tasks closed, per (payee, fund): no longer
        outstanding, so no reconciliation deducts it again and no task asks for it twice."""
        closed: dict[tuple[str, str], int] = {}
        for t in self.tasks.values():
            if t.kind == OVERPAYMENT_RECOVERY and t.decision and "closed" in t.decision:
                key = (t.details["payee"], t.details["fund"])
                closed[key] = closed.get(key, 0) + int(t.decision["closed"])
        return closed

    def recovery_closed(self, task: TaskRecord, decision: TaskDecision) -> dict[str, Any]:
        """What the task records of a decision: as taken, and for an `overpayment_recovery` task
        (the payee repaid it, or the office wrote it off) also `closed`, the fen of the receivable
        it closes — what is still outstanding of the task's amount (a deduction from arrears a late
        correction brought since it was raised recovered the rest)."""
        if task.kind != OVERPAYMENT_RECOVERY or not workflow.patched(ACT_ON_RECOVERY_DECISION):
            return decision.decision
        left = corrections.outstanding(self.ledger, self.closed_by_recovery_tasks()).get((task.details["payee"], task.details["fund"]), 0)
        return {**decision.decision, "closed": min(int(task.details["amount"]), left)}

    async def take_recovery_decision(self, decision: TaskDecision) -> bool:
        """Say on the timeline what a decided `overpayment_recovery` task closed (False for any
        other task: the kind acts on it)."""
        task = self.tasks.get(decision.task_id)
        if task is None or task.kind != OVERPAYMENT_RECOVERY or not task.decision or "closed" not in task.decision:
            return False
        outcome = task.decision["outcome"]
        self.note(self.today(), f"overpayment of {task.details['payee']} from {task.details['fund']} "
                  f"({', '.join(task.details.get('periods', []))}) {outcome.replace('_', ' ')}, decided by "
                  f"{task.decided_by}: {str(task.decision['reason']).strip()}; receivable closed, no longer deducted",
                  rule=corrections.RECOVERY_OUTCOMES[outcome], amount=int(task.decision["closed"]), type="correction")
        return True

    async def _unless_held(self) -> None:
        """While a supervisor holds the case, wait for the release (checked first, so a case
        never held takes exactly the steps it always took)."""
        if self.hold is not None:
            await workflow.wait_condition(lambda: self.hold is None)

    def _payment(self, *, payee: str, program: str, period: str, amount: int, fund: str, due_on: date, rule: str) -> PaymentRequest:
        return PaymentRequest(
            case_id=self.case_id,
            kind=self.kind,
            payee=payee,
            program=program,
            period=period,
            amount=amount,
            fund=fund,
            due_on=due_on,
            city=self.city,
            rule=rule,
        )

    async def raise_task(self, kind: str, due_on: date | None, details: dict[str, Any], province: bool = False) -> TaskRecord:
        """A supervisor task (read model + lifecycle event); decided later through an update. A
        `province` task is for the provincial office (no city: no city supervisor sees it)."""
        task = TaskRecord(
            task_id=f"{self.case_id}/task/{len(self.tasks) + 1}",
            case_id=self.case_id,
            kind=kind,
            city=None if province else self.city,
            due_on=due_on,
            details=details,
        )
        self.tasks[task.task_id] = task
        self.note(self.today(), f"task raised: {kind}", rule=details.get("rule"), type="task")
        await self._record_task(task)
        return task

    async def finish_task(self, task_id: str, state: str, decided_by: str | None = None, decision: dict[str, Any] | None = None) -> TaskRecord:
        task = self.tasks[task_id].model_copy(update={"state": state, "decided_by": decided_by, "decision": decision})
        self.tasks[task_id] = task
        self.note(self.today(), f"task {task.kind} {state}" + (f" by {decided_by}" if decided_by else ""), type="task")
        await self._record_task(task)
        return task

    async def _record_task(self, task: TaskRecord) -> None:
        await self._store(CaseActivities.record_task, task)

    async def raise_alert(self, alert_id: str, kind: str, on: date, details: dict[str, Any]) -> bool:
        """An alert for the case's city (§21 规模性失业); the store keeps one per `alert_id`, so
        derive the id from the case and a replay or retry raises it once."""
        raised: bool = await self._store(
            CaseActivities.raise_alert,
            AlertRecord(alert_id=alert_id, kind=kind, city=self.city, on_date=on, details=details),
        )
        self.note(on, f"alert {kind} raised for city {self.city}", rule=details.get("rule"), type="decision")
        return raised

    def open_tasks(self) -> list[TaskRecord]:
        return [t for t in self.tasks.values() if t.state == "open"]

    async def close(self, status: str, on: date, rule: str, *, without_fact: bool = False) -> None:
        """Close; an overpayment still outstanding (only a case paying through `reconcile_owed`
        has one) becomes a supervisor task, since a closed case pays nothing more to deduct from.
        `without_fact`: decided for want of a fact that may still come (POLICY.md part 2 "late
        facts across topics"). The case then listens for late facts (`listening_window`)."""
        self.status = status
        self.closed_on = on
        self.closing = None
        self.note(on, f"closed {status}", rule=rule, type="decision")
        if self.ledger:
            await self.raise_overpayment_recovery(max(on, self.today()))
        self.decided_without_fact = without_fact
        self.listening_until = self.listening_window(on)
        await self.record("closed", on=on)

    async def close_once_owed(self, status: str, on: date, rule: str, patch: str) -> None:
        """Close as `close` does, on a stop fact (an end, a hire) dated `on` — unless months the
        case owes (`owed`) fall due after today, as when the stop is dated after the business day
        (announced ahead, or a sender's clock a little ahead of ours around midnight): closed now,
        nothing more would fall due and they would never be paid. Then, under the kind's `patch`,
        the case stays open (its status unchanged) with the close pending (`closing`, carried
        across continue-as-new): it wakes on each day one falls due (`next_deadline`), pays it
        through its `settle`, and closes as decided once none is due later
        (`close_if_owed_fell_due`). Called again (a fact changed what is owed, or an earlier stop
        came), the pending close is replaced. Call it after paying what is due today."""
        due = self.owed_due_after(self.today())
        if due is None or not workflow.patched(patch):
            await self.close(status, on, rule)
            return
        pending = PendingClose(status=status, on=on, rule=rule)
        noted = self.closing is not None and (self.closing.status, self.closing.on) == (status, on)
        self.closing = pending
        if not noted:
            self.note(self.today(), f"stays open until what it owes has fallen due (the next on {due}); then closes {status} as of {on}",
                      type="decision")
            await self.record("updated")

    async def close_if_owed_fell_due(self) -> None:
        """Close as pending (`close_once_owed`) once no month owed falls due after today."""
        pending = self.closing
        if pending is None or self.owed_due_after(self.today()) is not None:
            return
        await self.close(pending.status, pending.on, pending.rule)

    def owed_due_after(self, today: date) -> date | None:
        """The first day after `today` on which a month the case owes falls due (None: none does)."""
        later = [o.due_on for o in self.owed(today) or () if o.due_on > today]
        return min(later) if later else None

    def listening_window(self, closed_on: date) -> date | None:
        """The last business day a closed case still takes facts: `intake.late_fact_days` after
        a decision taken without a fact (the day it was taken), `ledger.correction_days` after
        closing a case that paid through `reconcile_owed`; None (the run ends at once)
        otherwise, or for a case closed under code that did not listen."""
        if self.decided_without_fact:
            days = LATE_FACT_DAYS
        elif self.ledger:
            days = CORRECTION_DAYS
        else:
            return None
        if self.params is None or not workflow.patched(LISTEN_AFTER_CLOSE):
            return None
        # Late facts count from the decision, taken today even for a case dated in the past (a
        # backlog); corrections from the day the case closed.
        since = max(closed_on, self.today()) if self.decided_without_fact else closed_on
        return since + timedelta(days=int(self.params.get(days, since)))

    @property
    def is_open(self) -> bool:
        return self._status in OPEN_STATUSES


def validate_recovery_decision(decision: TaskDecision) -> None:
    """An `overpayment_recovery` task is decided `{"outcome": "repaid" | "written_off", "reason":
    "..."}`: the payee repaid it (the reason names the receipt) or the office writes it off (the
    reason says why it cannot be recovered)."""
    outcome = decision.decision.get("outcome")
    if outcome not in corrections.RECOVERY_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(corrections.RECOVERY_OUTCOMES)}, not {outcome!r}")
    reason = decision.decision.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a reason is required (the receipt of a repayment, or why it is written off)")


def search_attributes_for(kind: str, city: str | None, status: str) -> TypedSearchAttributes:
    """The only search attributes a case carries: never personal data."""
    pairs = [SearchAttributePair(CASE_KIND, kind), SearchAttributePair(CASE_STATUS, status)]
    if city:
        pairs.append(SearchAttributePair(CITY, city))
    return TypedSearchAttributes(pairs)


__all__ = ["CaseWorkflow", "search_attributes_for", "SHANGHAI"]
