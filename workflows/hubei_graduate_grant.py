"""K11 hubei_graduate_grant: the one-off job-seeking grant for Hubei graduates of Liaoning
institutions (§14), decided and paid on the day of the application.

The case id is per person (`hubei_grant/<person>`), so the grant is paid at most once: a second
application reaches the same case, which takes its details as a correction while it listens after
closing (`ledger.correction_days`); later ones never reach it.

A case opened under `k11-reconcile-owed` states the grant as what it owes (`owed`) and pays by
reconciling. While the base keeps a closed case listening (POLICY.md part 2, workflows/_one_off.py)
two facts correct it: a later application whose details replace the first (the household
registration corrected by the registry: not 湖北籍 → the grant becomes an overpayment and an
`overpayment_recovery` task), and a backdated change of `hubei_grant.amount` effective on or
before the application date (→ arrears, or an overpayment for a lower amount). Of two
applications the one announced last stands, whatever order they arrive in (cases opened under
`k11-latest-application-stands`; before, the one delivered last).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted
    from policy import hubei
    from policy.calendar import business_date
    from policy.corrections import Owed, replaces
    from policy.funds import Fund
    from workflows._one_off import settle_owed
    from workflows._states import HubeiGrantState
    from workflows.case_base import CaseWorkflow

KIND = kinds.HUBEI_GRADUATE_GRANT

RULE_GRANT = hubei.RULE_GRANT
FUND = str(Fund.EMPLOYMENT_SUBSIDY)
# Cases opened from here on reconcile what they owe (histories recorded before pay with `pay`).
RECONCILE_OWED = "k11-reconcile-owed"
# Cases opened from here on take, of two applications, the details of the one announced last
# (POLICY.md part 2: a corrected report replaces an earlier one, whatever order they arrive in);
# before, the one delivered last.
LATEST_APPLICATION_STANDS = "k11-latest-application-stands"


@workflow.defn(name=KIND)
class HubeiGraduateGrantWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("hubei_grant.",)  # its parameters (case_base `context_scope`)
    settles_when_closed = True  # its settle reconciles a closed case (workflows/_one_off.py)
    State = HubeiGrantState
    st: HubeiGrantState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        """Decided and paid (or rejected) at once: the case closes here."""
        app = ApplicationSubmitted.model_validate(opening.data)
        self.st.application = app
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        if self.st.reconciles and workflow.patched(LATEST_APPLICATION_STANDS):
            self.st.announced = (opening.time, opening.key)
        self.subject = f"person/{app.applicant}"
        self.city = hubei.application_city(opening.source, app.details)
        self.opened_on = app.on
        self.keys = [self.subject]
        self.note(app.on, "application for the Hubei graduate grant", event=opening.key)
        await self.load_context(self.city)
        assert self.params is not None
        try:
            self.st.grant = hubei.parse_details(app.details)
        except ValueError as exc:  # routing rejects these; a case started otherwise must not pay
            self.st.reason = str(exc)
            await self.close("rejected", app.on, f"bad application: {exc}")
            return
        await self.record("opened", on=app.on)
        self.st.reason = hubei.ineligibility(self.st.grant, self.params, app.on)
        if self.st.reason is not None:
            await self.close("rejected", app.on, self.st.reason)
            return
        if self.st.reconciles:
            await self.reconcile_owed(app.on)
        else:
            await self.pay(
                payee=self.subject,
                program=hubei.PROGRAM,
                period=hubei.PERIOD,
                amount=hubei.grant_amount(self.params, app.on),
                fund=FUND,
                due_on=app.on,
                rule=RULE_GRANT,
            )
        await self.close("paid", app.on, RULE_GRANT)

    # -- corrections (reached only while the base keeps the closed case listening) ------------
    async def apply(self, ev: CaseEvent) -> None:
        """A backdated parameter change, or a later application whose details replace the
        first; both change what is owed (`self.st.cause`)."""
        if not self.st.reconciles:
            return
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if ev.type != "application.submitted" or ev.data.get("program") != hubei.PROGRAM:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)
            return
        app = ApplicationSubmitted.model_validate(ev.data)
        try:
            corrected = hubei.parse_details(app.details)
        except ValueError as exc:
            self.note(app.on, f"another application with bad details, ignored: {exc}", event=ev.key)
            return
        if self.st.announced is not None:
            if not replaces(ev.time, ev.key, *self.st.announced):
                await self.refuse(app.on, ev, f"another application, announced before the one that stands "
                                  f"({business_date(self.st.announced[0])}): it does not replace it")
                return
            self.st.announced = (ev.time, ev.key)
        if corrected == self.st.grant:
            self.note(app.on, "another application with the same details: one grant per person", event=ev.key)
            return
        self.st.grant = corrected
        self.st.cause = ev.key
        self.note(app.on, f"application details corrected: household registration {corrected.hukou_province}, "
                  f"institution {corrected.institution_province}, graduation year {corrected.graduation_year}", event=ev.key)

    async def settle(self, today: date) -> None:
        if self.st.reconciles:
            await settle_owed(self, today, self.st.cause)

    def owed(self, today: date) -> list[Owed] | None:
        """The grant on the details and parameters known now; nothing for a case rejected at
        opening (judging it again on a late fact is the base's late-fact rule, not a correction)."""
        app, grant = self.st.application, self.st.grant
        if not self.st.reconciles or app is None or grant is None or self.params is None or self.status == "rejected":
            return None
        return hubei.owed(grant, self.params, app.on, self.subject, FUND)

    def removal_rule(self) -> str:
        return hubei.RULE_NOT_OWED

    def details(self) -> dict[str, Any]:
        d = self.st.grant
        return {
            "graduation_year": d.graduation_year if d else None,
            "hukou_province": d.hukou_province if d else None,
            "institution_province": d.institution_province if d else None,
            "reason": self.st.reason,
        }
