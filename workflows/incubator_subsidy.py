"""K16 incubator_subsidy (创业孵化载体补贴, §12): one case per incubator and year. The city's
support of the year's expenses report, the provincial special subsidy for the incubators a
province supervisor selects (at most `incubator.provincial_slots` a year, province-wide: the
approval takes one of the year's slots in the store, and an approval beyond them is refused), and
the rent relief for months overlapping the epidemic. Pays by stating what it owes: a later
expenses report for the year (the one announced last stands, whatever order they arrive in,
for cases opened under `k16-latest-report-stands`), a later rent relief report for a month (the
same, under `k16-latest-rent-relief-stands`), or a lift date that moves, is a correction.
Closes `settled`
`incubator.settle_months` after the year's end."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import (
        ApplicationSubmitted,
        IncubatorExpensesReported,
        IncubatorRentReliefReported,
        city_of_source,
    )
    from policy import incubator
    from policy.calendar import business_date
    from policy.corrections import Owed, replaces
    from workflows._decisions import approval
    from workflows._states import IncubatorState
    from workflows.case_base import CaseWorkflow

KIND = kinds.INCUBATOR_SUBSIDY
ACCREDITED = "incubator.accredited"
# Cases opened from here on take, of two expenses reports for the year, the one announced last
# (POLICY.md part 2: a corrected report replaces an earlier one, whatever order they arrive in);
# before, the one delivered last.
LATEST_REPORT_STANDS = "k16-latest-report-stands"
# ... and, of two rent relief reports for one month, the one announced last; before, the one
# delivered last.
LATEST_RELIEF_STANDS = "k16-latest-rent-relief-stands"


@workflow.defn(name=KIND)
class IncubatorSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("incubator.",)  # its parameters (case_base `context_scope`)
    State = IncubatorState
    st: IncubatorState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        """The year's first report or application opens the case."""
        self.st.latest_report_stands = workflow.patched(LATEST_REPORT_STANDS)
        self.st.latest_relief_stands = workflow.patched(LATEST_RELIEF_STANDS)
        self.st.incubator_id, self.st.year = incubator.incubator_and_year(opening.type, opening.data)
        self.subject = incubator.payee(self.st.incubator_id)
        self.keys = [self.subject]
        accreditation = await self.accreditation()
        self.city = accreditation.get("city") if accreditation else city_of_source(opening.source)
        self.opened_on = business_date(opening.time)
        await self.load_context(self.city)
        await self.record("opened", on=self.opened_on)
        await self.apply(opening)

    async def accreditation(self) -> dict[str, Any] | None:
        """The incubator's latest accreditation on file (a stored fact), if any."""
        facts = await self.load_facts([self.subject], [ACCREDITED])
        found = [f.payload for f in facts if f.payload.get("incubator_id") == self.st.incubator_id]
        return found[-1] if found else None

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key  # a moved lift date changes the rent relief owed
            return
        received = business_date(ev.time)
        if ev.type == "incubator.expenses_reported":
            r = IncubatorExpensesReported.model_validate(ev.data)
            first = self.st.report[1] if self.st.report is not None else received
            if self.st.latest_report_stands:
                known = self.st.report_announced
                if known is not None and not replaces(ev.time, ev.key, *known):
                    self.st.report = (self.st.report[0], min(first, received)) if self.st.report else None
                    await self.refuse(received, ev, f"expenses of {r.year}: announced before the report that stands "
                                      f"({business_date(known[0])}), which it does not replace")
                    return
                self.st.report_announced = (ev.time, ev.key)
                first = min(first, received)
            replaced = self.st.report is not None
            self.st.report = (incubator.ExpensesReport(year=r.year, operating=r.operating, public_services=r.public_services), first)
            self.st.cause = ev.key
            self.note(received, f"expenses of {r.year}: operating {r.operating}, public services {r.public_services} fen"
                      + (" (replaces the earlier report)" if replaced else ""), event=ev.key)
        elif ev.type == "incubator.rent_relief_reported":
            relief = IncubatorRentReliefReported.model_validate(ev.data)
            due = received
            if self.st.latest_relief_stands:
                earlier = self.st.reliefs.get(relief.month)
                # The month's relief is due from the day its first report arrived, as the
                # year's city support is, whichever report stands.
                due = min(earlier.received, received) if earlier is not None else received
                known = self.st.relief_announced.get(relief.month)
                if earlier is not None and known is not None and not replaces(ev.time, ev.key, *known):
                    self.st.reliefs[relief.month] = incubator.RentRelief(month=earlier.month, rent_waived=earlier.rent_waived,
                                                                         received=due)
                    await self.refuse(received, ev, f"rent relief of {relief.month}: announced before the report that stands "
                                      f"({business_date(known[0])}), which it does not replace")
                    return
                self.st.relief_announced[relief.month] = (ev.time, ev.key)
            self.st.reliefs[relief.month] = incubator.RentRelief(month=relief.month, rent_waived=relief.rent_waived, received=due)
            self.st.cause = ev.key
            self.note(received, f"rent of {relief.rent_waived} fen waived for {relief.tenants} tenants in {relief.month}", event=ev.key)
        elif ev.type == "application.submitted":
            await self.provincial_application(ApplicationSubmitted.model_validate(ev.data), ev)
        else:
            self.note(received, f"{ev.type} does not concern this case", event=ev.key)

    async def provincial_application(self, app: ApplicationSubmitted, ev: CaseEvent) -> None:
        if self.st.selection_task is not None:
            await self.refuse(app.on, ev, "another provincial application for the year: the first one stands")
            return
        accreditation = await self.accreditation()
        accredited_on = date.fromisoformat(accreditation["on"]) if accreditation else None
        refusal = incubator.application_refusal(accredited_on, app.on)
        if refusal is not None:
            self.note(app.on, "provincial application refused", rule=refusal, event=ev.key)
            return
        task = await self.raise_task(incubator.SELECTION_TASK, None, {"rule": incubator.RULE_PROVINCIAL, "year": self.st.year}, province=True)
        self.st.selection_task = task.task_id

    # -- the provincial selection ------------------------------------------------------------
    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        if task.kind != incubator.SELECTION_TASK:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        approval(decision)

    async def admit_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """An approval takes one of the year's provincial slots, shared by every incubator's
        case; none left → the approval is refused (§12 每年…10家), the task stays open."""
        if task.kind != incubator.SELECTION_TASK or not approval(decision):
            return
        assert self.params is not None
        slot = await self.take_slots((incubator.slot_scope(self.st.year), incubator.provincial_slots(self.st.year, self.params)))
        if not slot.taken:
            raise ApplicationError(incubator.approval_refusal(self.st.year, slot.held[0], self.params) or "no provincial slot left",
                                   non_retryable=True)

    async def act_on(self, decision: TaskDecision) -> None:
        if decision.task_id != self.st.selection_task:
            return
        reason = str(decision.decision["reason"]).strip()
        if approval(decision):
            self.st.approved_on = self.today()
            self.st.cause = None
            self.note(self.today(), f"selected for the provincial subsidy by {decision.decided_by}: {reason}", rule=incubator.RULE_PROVINCIAL)
        else:
            self.st.denied = True
            self.note(self.today(), f"not selected by {decision.decided_by}: {reason}", rule=incubator.RULE_PROVINCIAL)
        await self.record("updated")

    # -- what is owed --------------------------------------------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        if self.params is None:
            return None
        return incubator.owed(self.st.incubator_id, self.st.report, self.st.approved_on, self.st.reliefs,
                        self.epidemic.declared_on, self.epidemic.lifted_on, self.params)

    def deadline(self) -> date | None:
        return incubator.settles_on(self.st.year, self.params) if self.params is not None else None

    async def settle(self, today: date) -> None:
        await self.reconcile_owed(today, self.st.cause)
        assert self.params is not None
        ends = incubator.settles_on(self.st.year, self.params)
        if today >= ends:
            task = self.tasks.get(self.st.selection_task or "")
            if task is not None and task.state == "open":
                # The year's selection is over: an application still undecided lapses with it.
                await self.finish_task(task.task_id, "expired")
            await self.close("settled", ends, f"incubator.settle_months after the end of {self.st.year}")

    def details(self) -> dict[str, Any]:
        report = self.st.report[0] if self.st.report else None
        return {
            "year": self.st.year,
            "expenses": report.eligible_expenses if report else None,
            "provincial": "approved" if self.st.approved_on else ("denied" if self.st.denied else
                                                                 ("applied" if self.st.selection_task else None)),
            "rent_relief_months": sorted(self.st.reliefs),
        }

