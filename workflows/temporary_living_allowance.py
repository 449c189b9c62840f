"""K17 temporary_living_allowance (临时生活补助, §18): one application; a registered unemployed
person in living difficulty who draws no unemployment-insurance benefit is paid `tla.monthly` at
the start of each of `tla.months` months; re-employment stops it from the next month.

The kind pays by stating what it owes (`owed`) and reconciling the ledger with it, so a
re-employment learnt after months it stops were paid becomes an overpayment, and a backdated
change of `tla.monthly` arrears, never an edit of a paid row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import ApplicationSubmitted, city_of_source
    from policy import difficult, living_allowance, unemployment
    from policy.calendar import add_months, business_date
    from policy.corrections import Owed
    from workflows._person_facts import person_facts, take_reemployment
    from workflows._states import LivingAllowanceState
    from workflows.case_base import CaseWorkflow

KIND = kinds.TEMPORARY_LIVING_ALLOWANCE


@workflow.defn(name=KIND)
class TemporaryLivingAllowanceWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, K12: the hardship is a difficult-to-employ category.
    parameter_scope = ("tla.", "difficult.")
    State = LivingAllowanceState
    st: LivingAllowanceState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Judge the application on its date (K12's facts, the person's K2 cases, this year's
        earlier allowances); rejected closes the case at once — for want of a registration or a
        hardship fact, one that arrives within intake.late_fact_days reopens it (`reopen_on`)."""
        app = ApplicationSubmitted.model_validate(opening.data)
        self.st.application = app
        self.subject = f"person/{app.applicant}"
        self.keys = [self.subject]
        self.opened_on = app.on
        self.note(app.on, "application for the temporary living allowance", event=opening.key)
        facts = await self.person_facts(app)
        detail_city = (app.details or {}).get("city")
        self.city = difficult.registered_city(app.applicant, facts) or (detail_city if isinstance(detail_city, str) else None) \
            or city_of_source(opening.source)
        await self.load_context(self.city)
        assert self.params is not None
        past = await self.case_history([KIND, kinds.UNEMPLOYMENT_INSURANCE])
        # Drawing benefit: a K2 case of the person still open (an ineligible claim closes at once).
        receiving_ui = any(c.kind == kinds.UNEMPLOYMENT_INSURANCE and c.closed_on is None for c in past)
        refused = living_allowance.ineligibility(difficult.profile_from_facts(app.applicant, facts, app.on), app.on, receiving_ui, self.params) \
            if receiving_ui else None
        refused = refused or living_allowance.once_a_year_refusal(
            app.on, [(c.opened_on, c.status) for c in past if c.kind == KIND and c.opened_on is not None])
        if refused is not None:
            await self.close("rejected", app.on, refused)
            return
        profile = difficult.profile_from_facts(app.applicant, facts, app.on)
        missing = living_allowance.ineligibility(profile, app.on, False, self.params)
        if missing is not None:
            await self.close("rejected", app.on, missing, without_fact=True)
            return
        await self.admit(app, profile, "opened")

    async def person_facts(self, app: ApplicationSubmitted) -> list[Any]:
        return await person_facts(self, app.applicant, await self.load_facts([self.subject], list(difficult.PERSON_FACT_TYPES)))

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """An application rejected for want of a registration or a hardship fact, judged again with
        the late fact (stored before it is routed here) as if it had come first."""
        app = self.st.application
        if app is None or self.params is None or ev.type not in difficult.PERSON_FACT_TYPES:
            return False
        profile = difficult.profile_from_facts(app.applicant, await self.person_facts(app), app.on)
        if living_allowance.ineligibility(profile, app.on, False, self.params) is not None:
            return False
        await self.reopen(living_allowance.RULE_ELIGIBLE, ev.key)
        await self.admit(app, profile, "reopened")
        return True

    async def admit(self, app: ApplicationSubmitted, profile: difficult.PersonProfile, change: str) -> None:
        assert self.params is not None
        self.st.months = living_allowance.months(app.on, self.params)
        self.note(app.on, f"eligible ({', '.join(living_allowance.hardship(profile, app.on, self.params))}): "
                  f"{self.st.months} months from {app.on}", rule=living_allowance.RULE_ELIGIBLE)
        await self.record(change, on=app.on)
        if self.today() > app.on:
            await self.gather_burst()

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        assert self.opened_on is not None
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if ev.type in unemployment.REEMPLOYMENT_TYPES:
            take_reemployment(self, ev, self.opened_on, "the allowance stops from the next month", living_allowance.RULE_STOPPED)
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    # -- what is owed, and when ------------------------------------------------------------
    def period_end(self) -> date:
        assert self.opened_on is not None
        return add_months(self.opened_on, self.st.months)

    def owed(self, today: date) -> list[Owed] | None:
        if self.opened_on is None or self.params is None or not self.st.months:
            return None
        return living_allowance.owed(self.opened_on, self.st.reemployed_on, self.subject, self.params)

    def removal_rule(self) -> str:
        return living_allowance.RULE_STOPPED

    def deadline(self) -> date | None:
        if not self.st.months:
            return None
        today = self.today()
        written = {(r.program, r.period) for r in self.ledger}
        due = [o.due_on for o in self.owed(today) or () if (o.program, o.period) not in written]
        ends = [self.period_end()] + ([self.st.reemployed_on] if self.st.reemployed_on is not None else [])
        return min(due + ends)

    async def settle(self, today: date) -> None:
        """Reconcile what fell due by `today`; then re-employment (before the period end) or the
        period end closes the case."""
        await self.reconcile_owed(today, self.st.cause)
        end = self.period_end()
        reemployed = self.st.reemployed_on
        if reemployed is not None and reemployed < end and reemployed <= today:
            await self.close("reemployed", reemployed, f"re-employed on {reemployed}: {living_allowance.RULE_STOPPED}")
        elif today >= end:
            await self.close("completed", end, f"{self.st.months} months: {living_allowance.RULE_ALLOWANCE}")

    # -- views -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        if not self.st.months:
            return {}
        return {
            "months": self.st.months,
            "period_end": self.period_end().isoformat(),
            "months_paid": sorted({r.period for r in self.ledger if r.entry == "payment"}),
            "reemployed_on": self.st.reemployed_on.isoformat() if self.st.reemployed_on else None,
        }
