"""K7 job_retention_refund: one application of an enterprise for a year, judged at once on the
facts stored about the enterprise (registration, enrolments and separations, contributions),
refunded once or rejected with the reason.

A case opened under `k7-reconcile-owed` states the refund as what it owes (`owed`: the assessment
on the facts known now) and pays by reconciling. While the base keeps a closed case listening
(POLICY.md part 2, workflows/_one_off.py), an enterprise fact dated on or before the application
that arrives late (a layoff or enrolment reported late changes the layoff rate or the insured
headcount) or a backdated change of a ratio or amount in force on the application date re-assesses
it: a larger refund → arrears, a smaller one or none → an overpayment and, the case being closed,
an `overpayment_recovery` task.

A case opened under `k7-late-facts` that is rejected for want of a fact (no registration, nobody
insured, no prior-year premiums on file: `Assessment.without_fact`) listens `intake.late_fact_days`
for it; one that arrives is judged as if it had come first (`reopen_on`): refunded on the
application date, with the original due date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.store import fact_of
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted, CloudEvent, city_of_source
    from policy import enterprise_profile, retention
    from policy.corrections import Owed
    from policy.funds import Fund
    from workflows._one_off import settle_owed
    from workflows._states import RetentionState
    from workflows.case_base import CaseWorkflow

KIND = kinds.JOB_RETENTION_REFUND
FUND = str(Fund.UI)
# Cases opened from here on reconcile what they owe (histories recorded before pay with `pay`).
RECONCILE_OWED = "k7-reconcile-owed"
# Cases opened from here on take a late fact that a rejection wanted (POLICY.md part 2).
LATE_FACTS = "k7-late-facts"


@workflow.defn(name=KIND)
class JobRetentionRefundWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, the benefit: an affected industry is refunded months of it (policy/retention.py).
    parameter_scope = ("retention.", "ui.monthly_benefit")
    settles_when_closed = True  # its settle reconciles a closed case (workflows/_one_off.py)
    State = RetentionState
    st: RetentionState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        """§1 on the application date: window, registration, insured, layoff rate, amount; the
        case closes here."""
        app = ApplicationSubmitted.model_validate(opening.data)
        self.st.application = app
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.late_facts = self.st.reconciles and workflow.patched(LATE_FACTS)
        self.st.year = retention.parse_year(app.details)
        enterprise = app.applicant
        self.subject = f"enterprise/{enterprise}"
        self.keys = [self.subject]
        self.opened_on = app.on
        self.note(app.on, f"application for the job-retention refund of {self.st.year}", event=opening.key)
        # Every fact that reached the intake before the application; facts on other topics that
        # arrive after it are not looked at (the decision is made at once, on the date applied).
        facts = await self.load_facts([self.subject], list(enterprise_profile.ENTERPRISE_FACT_TYPES))
        if self.st.reconciles:
            self.st.facts = facts
        registration = enterprise_profile.registration(enterprise, facts, app.on)
        self.city = registration.city if registration else city_of_source(opening.source)
        await self.load_context(self.city)
        assert self.params is not None
        decision = retention.assess(enterprise, self.st.year, app.on, facts, self.params)
        self.st.figures = decision.figures
        self.st.formula = decision.formula
        await self.record("opened", on=app.on)
        if not decision.eligible:
            await self.close("rejected", app.on, decision.reason, without_fact=self.st.late_facts and decision.without_fact)
            return
        if self.st.reconciles:
            await self.reconcile_owed(app.on)
        else:
            await self.pay(
                payee=self.subject,
                program=retention.PROGRAM,
                period=retention.PERIOD,
                amount=decision.amount,
                fund=FUND,
                due_on=app.on,
                rule=decision.reason,
            )
        await self.close("refunded", app.on, decision.reason)

    # -- a late fact the rejection wanted (POLICY.md part 2 "late facts across topics") --------
    async def reopen_on(self, ev: CaseEvent) -> bool:
        """An application rejected for want of a fact, judged again with `ev` as if it had come
        first; if it is now eligible, refunded on the application date and closed again (then
        listening for corrections like any refund)."""
        app = self.st.application
        if not self.st.late_facts or app is None or self.st.year is None or ev.type not in enterprise_profile.ENTERPRISE_FACT_TYPES:
            return False
        fact = retention.taken_as_first(fact_of(_envelope(ev), self.subject), app.on)
        if not retention.judged_again_on(fact, app.applicant, self.st.year, app.on):
            return False
        if all(f.event_key != fact.event_key for f in self.st.facts):
            self.st.facts.append(fact)
        registration = enterprise_profile.registration(app.applicant, self.st.facts, app.on)
        if registration is not None and registration.city != self.city:
            # Judged in the enterprise's city, with that city's parameters.
            await self.load_context(registration.city)
            self.city = registration.city
        decision = self.assessment()
        assert decision is not None
        self.st.figures, self.st.formula = decision.figures, decision.formula
        if not decision.eligible:
            return False
        await self.reopen(decision.reason, ev.key)
        await self.record("reopened", on=app.on)
        await self.reconcile_owed(self.today())
        await self.close("refunded", app.on, decision.reason)
        return True

    # -- corrections (reached only while the base keeps the closed case listening) ------------
    async def apply(self, ev: CaseEvent) -> None:
        """A backdated parameter change, or an enterprise fact that reached the intake after the
        application; either may change what is owed (`self.st.cause`)."""
        if not self.st.reconciles:
            return
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        app = self.st.application
        assert app is not None and self.st.year is not None
        fact = fact_of(_envelope(ev), self.subject)
        if not retention.bears_on(fact, self.st.year, app.on):
            # Kept out of the carried facts: a large employer's monthly contributions would grow them.
            self.note(self.today(), f"{ev.type} does not bear on the application of {app.on}", event=ev.key)
            return
        if any(f.event_key == ev.key for f in self.st.facts):
            return
        self.st.facts.append(fact)
        self.st.cause = ev.key
        self.note(self.today(), f"{ev.type} reported after the application", event=ev.key)

    async def settle(self, today: date) -> None:
        if not self.st.reconciles:
            return
        await settle_owed(self, today, self.st.cause)
        decision = self.assessment()
        if decision is not None:
            self.st.figures, self.st.formula = decision.figures, decision.formula

    def assessment(self) -> retention.Assessment | None:
        """§1 on the application date, on the facts and parameters known now."""
        app = self.st.application
        if app is None or self.st.year is None or self.params is None:
            return None
        return retention.assess(app.applicant, self.st.year, app.on, self.st.facts, self.params)

    def owed(self, today: date) -> list[Owed] | None:
        """The refund on the facts known now; nothing for a case rejected at its application
        (judging it again on a late fact is the base's late-fact rule, not a correction)."""
        decision = self.assessment()
        if not self.st.reconciles or decision is None or self.status == "rejected":
            return None
        assert self.st.application is not None
        return retention.owed(decision, self.st.application.on, self.subject, FUND)

    def removal_rule(self) -> str:
        decision = self.assessment()
        return decision.reason if decision is not None else super().removal_rule()

    def details(self) -> dict[str, Any]:
        if self.st.application is None:
            return {}
        return {
            "program": retention.PROGRAM,
            "year": self.st.year,
            "applied_on": self.st.application.on.isoformat(),
            "formula": self.st.formula,
            **self.st.figures,
        }


def _envelope(ev: CaseEvent) -> CloudEvent:
    """The input event a case received, as the intake stored it (`fact_of`)."""
    return CloudEvent(specversion="1.0", id=ev.id, source=ev.source, type=ev.type, subject=ev.subject, time=ev.time, data=ev.data)
