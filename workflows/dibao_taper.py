"""K10 dibao_taper: a 低保 recipient who finds work keeps 低保 for 3..12 more months (§18).

The case opens on `dibao.granted` and waits (see `streams/routes/dibao.py` for why): an
`employment.registered` starts the taper proper — a caseworker's decision task, the monthly
payments from the month after the employment date — and `dibao.ended` before any employment
closes it `ended` without payment.

A case opened by this code pays by stating what it owes (`owed`) and reconciling the ledger with
it (POLICY.md part 2). The taper's facts that can change after months were paid: a grant that
restates the 低保 amount the person received when employed (arrears or an overpayment for every
taper month paid), and a backdated change of `dibao.taper_default_months` when the taper took the
default (months added, or months paid beyond it overpaid); of two grants from the same month the
one announced last stands, whatever order they arrive in (`k10-latest-grant-stands`). A caseworker's decision is taken once
on an open task and is no fact; EVENTS.md has no event that corrects an employment registration,
so a second one is another job and leaves the taper as it is. A case opened before pays month by
month as it always did.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import DibaoEnded, DibaoGranted, EmploymentRegistered
    from policy import dibao
    from policy.calendar import first_of_month
    from policy.corrections import Owed, replaces
    from policy.funds import Fund
    from workflows._states import DibaoState
    from workflows.case_base import CaseWorkflow

KIND = kinds.DIBAO_TAPER

# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k10-reconcile-owed"
# Cases opened from here on take, of two grants from the same month, the one announced last
# (POLICY.md part 2: a corrected report replaces an earlier one, whatever order they arrive in;
# found by tests/workflow/test_order_independence.py); before, the one delivered last.
LATEST_GRANT_STANDS = "k10-latest-grant-stands"


@workflow.defn(name=KIND)
class DibaoTaperWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("dibao.",)  # its parameters (case_base `context_scope`)
    State = DibaoState
    st: DibaoState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        grant = DibaoGranted.model_validate(opening.data)
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.latest_grant_stands = self.st.reconciles and workflow.patched(LATEST_GRANT_STANDS)
        self.st.grant = grant
        self.st.grant_announced = (opening.time, opening.key)
        self.subject = f"person/{grant.person_id}"
        self.city = grant.city
        self.opened_on = first_of_month(grant.from_month)
        self.keys = [self.subject]
        self.note(self.opened_on, f"receiving 低保 {grant.monthly_amount} fen a month from {grant.from_month}", event=opening.key)
        await self.load_context(grant.city)
        await self.record("opened", on=self.opened_on)
        if self.today() > self.opened_on:
            await self.gather_burst()

    # -- inputs ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        grant = self.st.grant
        assert grant is not None
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            if ev.type == "policy.parameter.changed":
                await self.default_changed(ev)
            return
        if ev.type == "employment.registered":
            await self.employed(EmploymentRegistered.model_validate(ev.data), ev)
        elif ev.type == "dibao.granted":
            again = DibaoGranted.model_validate(ev.data)
            if self.overtaken(again, ev):
                await self.refuse(self.today(), ev, f"低保 grant from {again.from_month} announced before the one that stands: "
                                  "it does not replace it")
                return
            if self.st.employed_on is not None and self.st.reconciles and dibao.restates_amount(
                again.from_month, grant.from_month, self.st.employed_on
            ):
                self.st.grant, self.st.grant_announced = again, (ev.time, ev.key)
                self.st.cause = ev.key
                self.note(self.today(), f"低保 when employed restated: {again.monthly_amount} fen a month from "
                          f"{again.from_month}; the taper months are corrected", rule=dibao.RULE_TAPER, event=ev.key)
                await self.record("updated")
                return
            if self.st.employed_on is not None:
                self.note(self.today(), "a new 低保 grant after the employment: the taper keeps its amount", event=ev.key)
                return
            self.st.grant, self.st.grant_announced = again, (ev.time, ev.key)
            self.note(first_of_month(again.from_month), f"低保 now {again.monthly_amount} fen a month", event=ev.key)
            await self.record("updated", on=first_of_month(again.from_month))
        elif ev.type == "dibao.ended":
            e = DibaoEnded.model_validate(ev.data)
            if self.st.employed_on is None or (e.on < self.st.employed_on and self.st.months_paid == 0):
                for task in self.open_tasks():
                    await self.finish_task(task.task_id, "withdrawn")
                await self.close("ended", e.on, "低保 ended before the person registered employment: no taper")
                return
            # Civil affairs may end regular 低保 when the income starts; the taper is exactly the
            # 低保 that continues after that (§18 继续给予).
            self.note(e.on, "低保 ended after the employment: the taper continues", rule=dibao.RULE_TAPER, event=ev.key)
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    def overtaken(self, again: DibaoGranted, ev: CaseEvent) -> bool:
        """Whether `again`, from the month of the grant that stands, was announced before it
        (cases opened under k10-latest-grant-stands): it does not replace it. Grants from
        different months are weighed by `dibao.restates_amount`, whatever their announcement."""
        grant, known = self.st.grant, self.st.grant_announced
        return (self.st.latest_grant_stands and grant is not None and known is not None
                and again.from_month == grant.from_month and not replaces(ev.time, ev.key, *known))

    async def employed(self, e: EmploymentRegistered, ev: CaseEvent) -> None:
        grant = self.st.grant
        assert grant is not None and self.params is not None
        if self.st.employed_on is not None:
            self.note(e.on, f"employment ({e.kind}) again: the taper already runs", event=ev.key)
            return
        if not dibao.receiving_on(grant.from_month, e.on):
            self.note(e.on, f"employment before the 低保 grant from {grant.from_month}: no taper for it", event=ev.key)
            return
        self.st.employed_on = e.on
        low, high = dibao.months_range(self.params, e.on)
        deadline = dibao.decision_deadline(e.on, self.params)
        self.note(e.on, f"employed ({e.kind}) while receiving 低保: the taper begins", rule=dibao.RULE_TAPER, event=ev.key)
        task = await self.raise_task(
            dibao.DECISION_TASK,
            deadline,
            {
                "rule": dibao.RULE_DECISION,
                "employed_on": e.on.isoformat(),
                "months_min": low,
                "months_max": high,
                "default_months": dibao.default_months(self.params, e.on),
                "monthly_amount": grant.monthly_amount,
            },
        )
        self.st.decision_task = task.task_id
        await self.record("updated", on=e.on)

    # -- the caseworker's decision -----------------------------------------------------------
    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """Rejects (the client gets the error, the case is unchanged) a decision that is not
        `{"months": n}` with n in `dibao.taper_months_min..max`."""
        if task.kind != dibao.DECISION_TASK or self.st.employed_on is None or self.params is None:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        dibao.decided_months(decision.decision, self.params, self.st.employed_on)

    async def act_on(self, decision: TaskDecision) -> None:
        if decision.task_id != self.st.decision_task or self.st.months is not None or self.st.employed_on is None:
            return
        assert self.params is not None
        self.st.months = dibao.decided_months(decision.decision, self.params, self.st.employed_on)
        self.st.decided_by = decision.decided_by
        self.note(self.today(), f"taper of {self.st.months} months decided by {decision.decided_by}", rule=dibao.RULE_DECISION)
        await self.record("updated")

    # -- what falls due ----------------------------------------------------------------------
    async def settle(self, today: date) -> None:
        """The default when the decision time ran out, the months whose start has come (those
        certain before a decision: every decision gives at least the minimum), the end."""
        e = self.st.employed_on
        if e is None:
            return
        assert self.params is not None
        for decision in self.take_decisions():  # one that arrived while the loop was busy comes first
            await self.act_on(decision)
        if self.st.months is None and today >= dibao.decision_deadline(e, self.params):
            self.st.months = dibao.default_months(self.params, e)
            self.st.decided_by = "default"
            if self.st.decision_task and self.tasks[self.st.decision_task].state == "open":
                await self.finish_task(self.st.decision_task, "expired")
            self.note(dibao.decision_deadline(e, self.params), f"no decision: taper of {self.st.months} months", rule=dibao.RULE_DEFAULT)
            await self.record("updated", on=dibao.decision_deadline(e, self.params))
        await self.pay_due(today)
        if self.st.months is not None and self.st.months_paid >= self.st.months and today >= dibao.taper_end(e, self.st.months):
            await self.close("completed", dibao.taper_end(e, self.st.months), f"{self.st.months} taper months paid")

    def certain_months(self) -> int:
        assert self.params is not None and self.st.employed_on is not None
        return self.st.months if self.st.months is not None else dibao.months_range(self.params, self.st.employed_on)[0]

    async def default_changed(self, ev: CaseEvent) -> None:
        """A reconciling taper that took the default follows a change of the default in force on
        the employment date (a backdated one corrects the months already paid)."""
        e = self.st.employed_on
        if not self.st.reconciles or e is None or self.st.decided_by != "default" or self.params is None:
            return
        months = dibao.default_months(self.params, e)
        if months != self.st.months:
            self.note(self.today(), f"default taper now {months} months (was {self.st.months})", rule=dibao.RULE_DEFAULT, event=ev.key)
            self.st.months = months
            await self.record("updated")

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """The taper months known for certain (all of them once decided) at the amount the
        person received when employed; None for a case that pays the old way."""
        grant, e = self.st.grant, self.st.employed_on
        if not self.st.reconciles or grant is None or e is None or self.params is None:
            return None
        return dibao.taper_owed(payee=self.subject, employed_on=e, months=self.certain_months(), amount=grant.monthly_amount,
                              rule=dibao.RULE_PAYMENT)

    def removal_rule(self) -> str:
        return dibao.RULE_NOT_OWED

    async def pay_due(self, today: date) -> None:
        e = self.st.employed_on
        assert e is not None
        if self.st.reconciles:
            await self.reconcile_owed(today, self.st.cause)
            self.st.months_paid = sum(1 for r in self.ledger if r.entry == "payment")
            return
        while self.st.months_paid < self.certain_months() and dibao.payment_due(e, self.st.months_paid + 1) <= today:
            await self.pay_month(self.st.months_paid + 1)

    async def pay_month(self, k: int) -> None:
        grant = self.st.grant
        assert grant is not None and self.st.employed_on is not None
        await self.pay(
            payee=self.subject,
            program=dibao.PROGRAM,
            period=dibao.taper_month(self.st.employed_on, k),
            amount=grant.monthly_amount,
            fund=str(Fund.DIBAO),
            due_on=dibao.payment_due(self.st.employed_on, k),
            rule=dibao.RULE_PAYMENT,
        )
        self.st.months_paid = k

    def deadline(self) -> date | None:
        e = self.st.employed_on
        if e is None:
            return None  # waiting for employment or the end of 低保: events only
        assert self.params is not None
        candidates = []
        if self.st.months is None:
            candidates.append(dibao.decision_deadline(e, self.params))
        if self.st.months_paid < self.certain_months():
            candidates.append(dibao.payment_due(e, self.st.months_paid + 1))
        if self.st.months is not None:
            candidates.append(dibao.taper_end(e, self.st.months))
        return min(candidates)

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        grant = self.st.grant
        if grant is None:
            return {}
        e = self.st.employed_on
        return {
            "person_id": grant.person_id,
            "household_id": grant.household_id,
            "monthly_amount": grant.monthly_amount,
            "from_month": grant.from_month,
            "employed_on": e.isoformat() if e else None,
            "taper_months": self.st.months,
            "decided_by": self.st.decided_by,
            "months_paid": self.st.months_paid,
            "taper_from": dibao.taper_month(e, 1) if e else None,
            "taper_until": dibao.taper_month(e, self.st.months) if e and self.st.months else None,
            "generation": self.generation,  # runs since the case opened (continue-as-new)
        }
