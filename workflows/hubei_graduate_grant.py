"""K11 hubei_graduate_grant: the one-off job-seeking grant for Hubei graduates of Liaoning
institutions (§14), decided and paid on the day of the application.

The case id is per person (`hubei_grant/<person>`), so the grant is paid at most once: a second
application while the case runs is noted and ignored, one after it closed never reaches it.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted
    from policy import hubei as k11
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow
    from workflows.states import HubeiGrantState

KIND = "hubei_graduate_grant"

RULE_GRANT = "§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴: hubei_grant.amount once"


@workflow.defn(name=KIND)
class HubeiGraduateGrantWorkflow(CaseWorkflow):
    kind = KIND
    State = HubeiGrantState
    st: HubeiGrantState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        """Decided and paid (or rejected) at once: the case closes here."""
        app = ApplicationSubmitted.model_validate(opening.data)
        self.st.application = app
        self.subject = f"person/{app.applicant}"
        self.city = k11.application_city(opening.source, app.details)
        self.opened_on = app.on
        self.keys = [self.subject]
        self.note(app.on, "application for the Hubei graduate grant", event=opening.key)
        await self.load_context(self.city)
        assert self.params is not None
        try:
            self.st.grant = k11.parse_details(app.details)
        except ValueError as exc:  # routing rejects these; a case started otherwise must not pay
            self.st.reason = str(exc)
            await self.close("rejected", app.on, f"bad application: {exc}")
            return
        await self.record("opened", on=app.on)
        self.st.reason = k11.ineligibility(self.st.grant, self.params, app.on)
        if self.st.reason is not None:
            await self.close("rejected", app.on, self.st.reason)
            return
        await self.pay(
            payee=self.subject,
            program=k11.PROGRAM,
            period=k11.PERIOD,
            amount=k11.grant_amount(self.params, app.on),
            fund=str(Fund.EMPLOYMENT_SUBSIDY),
            due_on=app.on,
            rule=RULE_GRANT,
        )
        await self.close("paid", app.on, RULE_GRANT)

    def details(self) -> dict[str, Any]:
        d = self.st.grant
        return {
            "graduation_year": d.graduation_year if d else None,
            "hukou_province": d.hukou_province if d else None,
            "institution_province": d.institution_province if d else None,
            "reason": self.st.reason,
        }
