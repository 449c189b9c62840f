"""K11 hubei_graduate_grant: the one-off job-seeking grant for Hubei graduates of Liaoning
institutions (§14), decided and paid on the day of the application.

The case id is per person (`hubei_grant/<person>`), so the grant is paid at most once: a second
application while the case runs is noted and ignored, one after it closed never reaches it.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted
    from policy import hubei as k11
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow

KIND = "hubei_graduate_grant"

RULE_GRANT = "§14 给予省内院校湖北籍2020届高校毕业生一次性求职创业补贴: hubei_grant.amount once"


@workflow.defn(name=KIND)
class HubeiGraduateGrantWorkflow(CaseWorkflow):
    kind = KIND

    def __init__(self) -> None:
        super().__init__()
        self.application: ApplicationSubmitted | None = None
        self.details_: k11.GrantDetails | None = None
        self.reason: str | None = None

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        self.begin(inp)
        opening = await self.next_event()
        app = ApplicationSubmitted.model_validate(opening.data)
        self.application = app
        self.subject = f"person/{app.applicant}"
        self.city = k11.application_city(opening.source, app.details)
        self.opened_on = app.on
        self.keys = [self.subject]
        self.note(app.on, "application for the Hubei graduate grant", event=opening.key)
        await self.load_context(self.city)
        assert self.params is not None
        try:
            self.details_ = k11.parse_details(app.details)
        except ValueError as exc:  # routing rejects these; a case started otherwise must not pay
            self.reason = str(exc)
            await self.close("rejected", app.on, f"bad application: {exc}")
            return self.outcome()
        await self.record("opened", on=app.on)
        self.reason = k11.ineligibility(self.details_, self.params, app.on)
        if self.reason is not None:
            await self.close("rejected", app.on, self.reason)
            return self.outcome()
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
        return self.outcome()

    def details(self) -> dict[str, Any]:
        d = self.details_
        return {
            "graduation_year": d.graduation_year if d else None,
            "hukou_province": d.hukou_province if d else None,
            "institution_province": d.institution_province if d else None,
            "reason": self.reason,
        }

    def outcome(self) -> CaseOutcome:
        return CaseOutcome(case_id=self.case_id, status=self.status, paid_fen=self.paid_fen)
