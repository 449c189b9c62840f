"""K4 flexible_employment_subsidy: one application, the person's monthly flexible-employment
contributions subsidised over a period of years, its 2020 extension and its ending.

A case opened by this code pays by stating what it owes per period month (`owed`, from the
contributions known: policy.contribution_schedule) and reconciling the ledger with it, so a
corrected contribution report, a stable-employment contract dated in the past or a backdated
`flexible.ratio` makes arrears or an overpayment (POLICY.md part 2); a case opened before pays
month by month as it always did (the first report of a month stands, paid stays paid).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, Fact
    from contracts.events import ApplicationSubmitted, ContractSigned, ContributionPaid, city_of_source
    from policy import difficult, flexible, subsidy_period
    from policy.calendar import business_date, first_of_month
    from policy.contribution_schedule import months_worth, next_due
    from policy.corrections import Owed
    from policy.funds import Fund
    from policy.subsidy_period import Period
    from workflows._contribution_reports import take_contribution
    from workflows._person_facts import person_facts
    from workflows._states import FlexibleState
    from workflows.case_base import CaseWorkflow

KIND = kinds.FLEXIBLE_EMPLOYMENT_SUBSIDY
CONTRIBUTION = "contribution.paid"
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k4-reconcile-owed"
# A closed case that paid takes the late facts that reach it in its listening window (POLICY.md
# part 2: facts still correct a case up to ledger.correction_days after it closed); before this,
# `apply` ignored every event once the case closed, so a backdated flexible.ratio delivered after a stable contract closed the case
# corrected nothing (as K5's, workflows/public_welfare_post.py).
LATE_FACTS_CORRECT = "k4-late-facts-correct"


@workflow.defn(name=KIND)
class FlexibleEmploymentSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, K12: policy/difficult.py judges the applicant.
    parameter_scope = ("flexible.", "difficult.")
    # The person's contributions and contracts reach an application rejected as not difficult
    # to employ too (its route gives them to every listening case): taken if a late K12 fact
    # reopens it.
    held_while_rejected = (CONTRIBUTION, "contract.signed")
    State = FlexibleState
    st: FlexibleState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Judge the application: K12 on its date, then the period; rejected closes the case."""
        app = ApplicationSubmitted.model_validate(opening.data)
        self.st.application = app
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.subject = f"person/{app.applicant}"
        self.keys = [self.subject]
        self.opened_on = app.on
        self.note(app.on, "application for the flexible-employment social-insurance subsidy", event=opening.key)
        stored = await self.load_facts([self.subject], sorted(set(difficult.PERSON_FACT_TYPES) | {CONTRIBUTION}))
        facts = await person_facts(self, app.applicant, [f for f in stored if f.type in difficult.PERSON_FACT_TYPES])
        self.city = difficult.registered_city(app.applicant, facts) or city_of_source(opening.source)
        await self.load_context(self.city)
        params = self.params
        assert params is not None

        profile = self.judge_k12(app, facts)
        if profile is None:
            await self.close(
                "rejected",
                app.on,
                f"§13/§16: {app.applicant} is not difficult to employ on {app.on}: none of "
                f"{subsidy_period.k12_checked()} holds",
                without_fact=True,
            )
            return
        await self.admit(app, profile, stored, "opened")

    def judge_k12(self, app: ApplicationSubmitted, facts: list[Fact]) -> difficult.PersonProfile | None:
        """K12 on the application date; None: not difficult to employ."""
        assert self.params is not None
        profile = difficult.profile_from_facts(app.applicant, facts, app.on)
        self.st.categories = difficult.difficult_categories(profile, app.on, self.params)
        return profile if difficult.is_difficult(profile, app.on, self.params) else None

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """An application rejected as not difficult to employ, judged again with the late fact
        (stored before it is routed here) as if it had come first: in the city of the
        registration if one came, with that city's parameters."""
        app = self.st.application
        if app is None or ev.type not in difficult.PERSON_FACT_TYPES:
            return False
        stored = await self.load_facts([self.subject], sorted(set(difficult.PERSON_FACT_TYPES) | {CONTRIBUTION}))
        facts = await person_facts(self, app.applicant, [f for f in stored if f.type in difficult.PERSON_FACT_TYPES])
        city = difficult.registered_city(app.applicant, facts) or self.city
        if city != self.city:
            await self.load_context(city)
        profile = self.judge_k12(app, facts)
        if profile is None:
            return False
        self.city = city
        await self.reopen(f"§13/§16: difficult to employ on {app.on} ({', '.join(self.st.categories)})", ev.key)
        await self.admit(app, profile, stored, "reopened")
        return True

    async def admit(self, app: ApplicationSubmitted, profile: difficult.PersonProfile, stored: list[Fact], change: str) -> None:
        """The application of a person difficult to employ: the period, the contributions paid
        before it."""
        params = self.params
        assert params is not None
        period = flexible.initial_period(app.on, profile.retirement_date, params)
        if period.end <= period.start:
            await self.close("rejected", app.on, f"retired on {profile.retirement_date}, before the period would start")
            return
        self.st.period = period
        self.note(
            period.start,
            f"difficult to employ ({', '.join(self.st.categories)}); period {period.start} .. {period.last_day}"
            + (" (until retirement: within 5 years of it at the start)" if period.until_retirement else ""),
            rule="§16 就业困难人员; POLICY.md K4 period",
        )
        self.take_stored_contributions(stored)
        await self.record(change, on=app.on)
        if self.today() > app.on:
            await self.gather_burst()

    def take_stored_contributions(self, stored: list[Fact]) -> None:
        """Contributions that reached the intake before this case existed (the month of the
        application is usually paid before the application; other topics are not ordered with
        the application's). The intake stores each before routing it, so every contribution is
        either in the store when the case reads it or signalled to the case after it was
        registered; the `seen` keys drop the ones that are both."""
        for fact in stored:
            if fact.type != CONTRIBUTION:
                continue
            self.take_stored_fact(fact)

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if not self.takes_events(LATE_FACTS_CORRECT):
            return
        if self.apply_shared_fact(ev):
            if ev.type == "policy.parameter.changed":
                self.st.cause = ev.key  # a backdated flexible.ratio changes months already paid
            return
        period = self.st.period
        assert period is not None
        if ev.type == "contribution.paid":
            c = ContributionPaid.model_validate(ev.data)
            received = business_date(ev.time)
            if not flexible.is_own_contribution(c):
                self.note(received, f"contribution for {c.month} by employer {c.employer_id}: not flexible employment", event=ev.key)
            elif first_of_month(c.month) < period.start:
                self.note(received, f"contribution for {c.month}: before the period", event=ev.key)
            elif c.month in self.st.contributions and not self.st.reconciles:
                # Once per period month (the ledger key is the month).
                self.note(received, f"another contribution for {c.month}: the month is already counted", event=ev.key)
            else:
                take_contribution(self, c.month, flexible.amount_paid(c), ev, f"own contribution for {c.month}: {flexible.amount_paid(c)} fen")
        elif ev.type == "contract.signed":
            contract = ContractSigned.model_validate(ev.data)
            assert self.params is not None
            if subsidy_period.is_stable_contract(contract.term_months, contract.signed_on, self.params, flexible.PARAMETER_PREFIX):
                starts = max(contract.starts_on, self.opened_on or contract.starts_on)
                if self.st.employed_from is None or starts < self.st.employed_from:
                    self.st.employed_from = starts
                    self.st.cause = ev.key
                self.note(contract.signed_on, f"stable employment with {contract.employer_id} from {contract.starts_on}", event=ev.key)
            else:
                self.note(contract.signed_on, f"contract of {contract.term_months} months with {contract.employer_id}: not stable employment",
                          event=ev.key)
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    # -- time --------------------------------------------------------------------------------
    def deadline(self) -> date | None:
        """The next day something falls due: a prepaid month begins, employment starts, or the
        period ends."""
        period = self.st.period
        if period is None:
            return None
        candidates = [period.end]
        if self.st.employed_from is not None:
            candidates.append(self.st.employed_from)
        if self.st.reconciles:
            due = next_due(self.owed(self.today()) or [], self.ledger)
            candidates += [due] if due is not None else []
        else:
            candidates += [first_of_month(m) for m in self.unpaid_months()]
        return min(candidates)

    def unpaid_months(self) -> list[str]:
        period = self.st.period
        assert period is not None
        return sorted(
            m
            for m in self.st.contributions
            if m not in self.st.paid_months
            and flexible.month_in_period(m, period)
            and flexible.month_before_employment(m, self.st.employed_from)
        )

    async def settle(self, today: date) -> None:
        """Pay what fell due by `today`; then stable employment or the period end (extension)."""
        while self.is_open:
            period = self.st.period
            assert period is not None and self.params is not None
            if self.st.reconciles:
                await self.pay_owed(today)
            else:
                for month in self.unpaid_months():
                    if first_of_month(month) <= today:
                        await self.pay_month(month)
            employed = self.st.employed_from
            if employed is not None and employed < period.end and today >= employed:
                late = [m for m in self.st.paid_months if not flexible.month_before_employment(m, employed)]
                if late and not self.st.reconciles:
                    # Reported after those months were paid: the ledger only adds; the city recovers.
                    self.note(employed, f"paid before the employment was reported: {', '.join(sorted(late))}")
                await self.close(
                    "employed",
                    employed,
                    f"§13: stable employment from {employed} ends the subsidy; {len(self.st.paid_months)} months paid",
                )
                return
            if today < period.end:
                return
            if employed is None and subsidy_period.may_extend(period, self.params, flexible.PARAMETER_PREFIX):
                self.st.period = subsidy_period.extended(period, self.params, flexible.PARAMETER_PREFIX)
                self.note(
                    period.end,
                    f"period ran out on {period.last_day} without stable employment: extended to {self.st.period.last_day}",
                    rule=f"§13 期满仍未实现稳定就业的，可延长1年 (window {self.window(period)})",
                )
                await self.record("extended", on=period.end)
                continue
            await self.close("completed", period.end, self.completion_rule(period))
            return

    def window(self, period: Period) -> str:
        assert self.params is not None
        last = period.last_day
        return f"{self.params.day('flexible.extension_window_from', last)}..{self.params.day('flexible.extension_window_until', last)}"

    def completion_rule(self, period: Period) -> str:
        why = (
            "already extended once"
            if period.extended
            else "ran to retirement"
            if period.until_retirement
            else "stable employment already agreed"
            if self.st.employed_from is not None
            else f"last day {period.last_day} outside the extension window {self.window(period)}"
        )
        return f"§13: period ended on {period.last_day} ({why}); {len(self.st.paid_months)} months paid"

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Every period month with a contribution known, on the facts known now (reconcile
        writes those due by `today`); None for a case that pays the old way."""
        app, period = self.st.application, self.st.period
        if not self.st.reconciles or app is None or period is None or self.params is None:
            return None
        return flexible.owed_by_month(payee=self.subject, period=period, reports=self.st.contributions,
                                employed_from=self.st.employed_from, applied_on=app.on, params=self.params)

    async def pay_owed(self, today: date) -> None:
        """Reconcile, then count as paid the months the ledger leaves worth something."""
        await self.reconcile_owed(today, self.st.cause)
        self.st.paid_months = {m: fen for m, fen in months_worth(self.ledger, flexible.PROGRAM).items() if fen > 0}

    async def pay_month(self, month: str) -> None:
        assert self.params is not None and self.st.application is not None
        report = self.st.contributions[month]
        amount_paid, received = report.amount, report.received_on
        amount = flexible.subsidy(amount_paid, month, self.params)
        await self.pay(
            payee=self.subject,
            program=flexible.PROGRAM,
            period=month,
            amount=amount,
            fund=str(Fund.EMPLOYMENT_SUBSIDY),
            # Due once paid, once the month has begun, and never before the application.
            due_on=max(received, first_of_month(month), self.st.application.on),
            rule=flexible.subsidy_rule(amount_paid, month, self.params),
        )
        self.st.paid_months[month] = amount

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        app = self.st.application
        if app is None:
            return {}
        return {
            "program": flexible.PROGRAM,
            "applied_on": app.on.isoformat(),
            "difficult_categories": self.st.categories,
            "period": self.st.period.to_dict() if self.st.period else None,
            "months_paid": len(self.st.paid_months),
            "paid_months": sorted(self.st.paid_months),
            "employed_from": self.st.employed_from.isoformat() if self.st.employed_from else None,
            "generation": self.generation,
        }
