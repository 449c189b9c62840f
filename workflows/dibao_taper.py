"""K10 dibao_taper: a 低保 recipient who finds work keeps 低保 for 3..12 more months (§18).

The case opens on `dibao.granted` and waits (see `streams/routes/dibao.py` for why): an
`employment.registered` starts the taper proper — a caseworker's decision task, the monthly
payments from the month after the employment date — and `dibao.ended` before any employment
closes it `ended` without payment.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import DibaoEnded, DibaoGranted, EmploymentRegistered
    from policy import dibao as k10
    from policy.calendar import first_of_month
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow

KIND = "dibao_taper"

RULE_TAPER = "§18 对实现就业的低保对象…继续给予3至12个月的低保救助"
RULE_DECISION = "§18: a caseworker decides dibao.taper_months_min..max months"
RULE_DEFAULT = "POLICY.md K10: no decision within dibao.decision_days days → dibao.taper_default_months"
RULE_PAYMENT = "§18: the 低保 amount at the start of each taper month, from the month after the employment"


@workflow.defn(name=KIND)
class DibaoTaperWorkflow(CaseWorkflow):
    kind = KIND

    def __init__(self) -> None:
        super().__init__()
        self.grant: DibaoGranted | None = None
        self.employed_on: date | None = None
        self.decision_task: str | None = None
        self.months: int | None = None
        self.decided_by: str | None = None
        self.months_paid = 0

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        self.begin(inp)
        if not self.restored:
            await self.open(await self.next_event())
        while self.is_open:
            for ev in self.take_pending():
                await self.apply(ev)
                if not self.is_open:
                    break
            if not self.is_open:
                break
            await self.take_decision()
            await self.settle(self.today())
            if not self.is_open:
                break
            self.next_deadline = self.deadline()
            await self.continue_as_new_if_long()
            await self.wait_for_event(self.next_deadline)
        return CaseOutcome(case_id=self.case_id, status=self.status, paid_fen=self.paid_fen)

    async def open(self, opening: CaseEvent) -> None:
        grant = DibaoGranted.model_validate(opening.data)
        self.grant = grant
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
        grant = self.grant
        assert grant is not None
        if self.apply_shared_fact(ev):
            return
        if ev.type == "employment.registered":
            await self.employed(EmploymentRegistered.model_validate(ev.data), ev)
        elif ev.type == "dibao.granted":
            again = DibaoGranted.model_validate(ev.data)
            if self.employed_on is not None:
                self.note(self.today(), "a new 低保 grant after the employment: the taper keeps its amount", event=ev.key)
                return
            self.grant = again
            self.note(first_of_month(again.from_month), f"低保 now {again.monthly_amount} fen a month", event=ev.key)
            await self.record("updated", on=first_of_month(again.from_month))
        elif ev.type == "dibao.ended":
            e = DibaoEnded.model_validate(ev.data)
            if self.employed_on is None or (e.on < self.employed_on and self.months_paid == 0):
                for task in self.open_tasks():
                    await self.settle_task(task.task_id, "withdrawn")
                await self.close("ended", e.on, "低保 ended before the person registered employment: no taper")
                return
            # Civil affairs may end regular 低保 when the income starts; the taper is exactly the
            # 低保 that continues after that (§18 继续给予).
            self.note(e.on, "低保 ended after the employment: the taper continues", rule=RULE_TAPER, event=ev.key)
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    async def employed(self, e: EmploymentRegistered, ev: CaseEvent) -> None:
        grant = self.grant
        assert grant is not None and self.params is not None
        if self.employed_on is not None:
            self.note(e.on, f"employment ({e.kind}) again: the taper already runs", event=ev.key)
            return
        if not k10.receiving_on(grant.from_month, e.on):
            self.note(e.on, f"employment before the 低保 grant from {grant.from_month}: no taper for it", event=ev.key)
            return
        self.employed_on = e.on
        low, high = k10.months_range(self.params, e.on)
        deadline = k10.decision_deadline(e.on, self.params)
        self.note(e.on, f"employed ({e.kind}) while receiving 低保: the taper begins", rule=RULE_TAPER, event=ev.key)
        task = await self.raise_task(
            k10.DECISION_TASK,
            deadline,
            {
                "rule": RULE_DECISION,
                "employed_on": e.on.isoformat(),
                "months_min": low,
                "months_max": high,
                "default_months": k10.default_months(self.params, e.on),
                "monthly_amount": grant.monthly_amount,
            },
        )
        self.decision_task = task.task_id
        self.next_deadline = self.deadline()
        await self.record("updated", on=e.on)

    # -- the caseworker's decision -----------------------------------------------------------
    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """Rejects (the client gets the error, the case is unchanged) a decision that is not
        `{"months": n}` with n in `dibao.taper_months_min..max`."""
        if task.kind != k10.DECISION_TASK or self.employed_on is None or self.params is None:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        k10.decided_months(decision.decision, self.params, self.employed_on)

    async def take_decision(self) -> None:
        for d in self.take_decisions():
            if d.task_id != self.decision_task or self.months is not None or self.employed_on is None:
                continue
            assert self.params is not None
            self.months = k10.decided_months(d.decision, self.params, self.employed_on)
            self.decided_by = d.decided_by
            self.note(self.today(), f"taper of {self.months} months decided by {d.decided_by}", rule=RULE_DECISION)
            await self.record("updated")

    # -- what falls due ----------------------------------------------------------------------
    async def settle(self, today: date) -> None:
        """The default when the decision time ran out, the months whose start has come (those
        certain before a decision: every decision gives at least the minimum), the end."""
        e = self.employed_on
        if e is None:
            return
        assert self.params is not None
        await self.take_decision()  # a decision that arrived while this loop was busy comes first
        if self.months is None and today >= k10.decision_deadline(e, self.params):
            self.months = k10.default_months(self.params, e)
            self.decided_by = "default"
            if self.decision_task and self.tasks[self.decision_task].state == "open":
                await self.settle_task(self.decision_task, "expired")
            self.note(k10.decision_deadline(e, self.params), f"no decision: taper of {self.months} months", rule=RULE_DEFAULT)
            await self.record("updated", on=k10.decision_deadline(e, self.params))
        while self.months_paid < self.certain_months() and k10.payment_due(e, self.months_paid + 1) <= today:
            await self.pay_month(self.months_paid + 1)
        if self.months is not None and self.months_paid >= self.months and today >= k10.taper_end(e, self.months):
            await self.close("completed", k10.taper_end(e, self.months), f"{self.months} taper months paid")

    def certain_months(self) -> int:
        assert self.params is not None and self.employed_on is not None
        return self.months if self.months is not None else k10.months_range(self.params, self.employed_on)[0]

    async def pay_month(self, k: int) -> None:
        grant = self.grant
        assert grant is not None and self.employed_on is not None
        await self.pay(
            payee=self.subject,
            program=k10.PROGRAM,
            period=k10.taper_month(self.employed_on, k),
            amount=grant.monthly_amount,
            fund=str(Fund.DIBAO),
            due_on=k10.payment_due(self.employed_on, k),
            rule=RULE_PAYMENT,
        )
        self.months_paid = k

    def deadline(self) -> date | None:
        e = self.employed_on
        if e is None:
            return None  # waiting for employment or the end of 低保: events only
        assert self.params is not None
        candidates = []
        if self.months is None:
            candidates.append(k10.decision_deadline(e, self.params))
        if self.months_paid < self.certain_months():
            candidates.append(k10.payment_due(e, self.months_paid + 1))
        if self.months is not None:
            candidates.append(k10.taper_end(e, self.months))
        return min(candidates)

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        grant = self.grant
        if grant is None:
            return {}
        e = self.employed_on
        return {
            "person_id": grant.person_id,
            "household_id": grant.household_id,
            "monthly_amount": grant.monthly_amount,
            "from_month": grant.from_month,
            "employed_on": e.isoformat() if e else None,
            "taper_months": self.months,
            "decided_by": self.decided_by,
            "months_paid": self.months_paid,
            "taper_from": k10.taper_month(e, 1) if e else None,
            "taper_until": k10.taper_month(e, self.months) if e and self.months else None,
            "generation": self.generation,  # runs since the case opened (continue-as-new)
        }

    def carry(self) -> dict[str, Any]:
        assert self.grant is not None
        return {
            **super().carry(),
            "grant": self.grant.model_dump(mode="json"),
            "employed_on": self.employed_on.isoformat() if self.employed_on else None,
            "decision_task": self.decision_task,
            "months": self.months,
            "decided_by": self.decided_by,
            "months_paid": self.months_paid,
            "decisions": [d.model_dump(mode="json") for d in self.decisions],
        }

    def restore(self, carried: dict[str, Any]) -> None:
        super().restore(carried)
        self.grant = DibaoGranted.model_validate(carried["grant"])
        self.employed_on = date.fromisoformat(carried["employed_on"]) if carried["employed_on"] else None
        self.decision_task = carried["decision_task"]
        self.months = carried["months"]
        self.decided_by = carried["decided_by"]
        self.months_paid = int(carried["months_paid"])
        self.decisions = [TaskDecision.model_validate(d) for d in carried["decisions"]]
