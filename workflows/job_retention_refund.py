"""K7 job_retention_refund: one application of an enterprise for a year, judged at once on the
facts stored about the enterprise (registration, enrolments and separations, contributions),
refunded once or rejected with the reason."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted, city_of_source
    from policy import enterprise_profile as ep
    from policy import retention as k7
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow
    from workflows.states import RetentionState

KIND = "job_retention_refund"


@workflow.defn(name=KIND)
class JobRetentionRefundWorkflow(CaseWorkflow):
    kind = KIND
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
        self.st.year = k7.parse_year(app.details)
        enterprise = app.applicant
        self.subject = f"enterprise/{enterprise}"
        self.keys = [self.subject]
        self.opened_on = app.on
        self.note(app.on, f"application for the job-retention refund of {self.st.year}", event=opening.key)
        # Every fact that reached the intake before the application; facts on other topics that
        # arrive after it are not looked at (the decision is made at once, on the date applied).
        facts = await self.load_facts([self.subject], list(ep.ENTERPRISE_FACT_TYPES))
        registration = ep.registration(enterprise, facts, app.on)
        self.city = registration.city if registration else city_of_source(opening.source)
        await self.load_context(self.city)
        assert self.params is not None
        decision = k7.assess(enterprise, self.st.year, app.on, facts, self.params)
        self.st.figures = decision.figures
        self.st.formula = decision.formula
        await self.record("opened", on=app.on)
        if not decision.eligible:
            await self.close("rejected", app.on, decision.reason)
            return
        await self.pay(
            payee=self.subject,
            program=k7.PROGRAM,
            period="once",  # EVENTS.md period forms; the case id carries the year (one refund per year)
            amount=decision.amount,
            fund=str(Fund.UI),
            due_on=app.on,
            rule=decision.reason,
        )
        await self.close("refunded", app.on, decision.reason)

    def details(self) -> dict[str, Any]:
        if self.st.application is None:
            return {}
        return {
            "program": k7.PROGRAM,
            "year": self.st.year,
            "applied_on": self.st.application.on.isoformat(),
            "formula": self.st.formula,
            **self.st.figures,
        }
