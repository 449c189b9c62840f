"""K15 enterprise_si_subsidy: an enterprise hired a difficult-to-employ person; for up to
`enterprise_si.months` counted months it gets back the employer share it paid for them, the
period postponed by the enterprise's fee-exemption months, until separation or the end.

A case opened by this code pays by stating what it owes per month (`owed`, from the employer's
contributions known: policy.contribution_schedule) and reconciling the ledger with it, so a
corrected contribution report, a fee exemption reported after the months it covers were paid, or
a separation dated in the past makes arrears or an overpayment (POLICY.md part 2); a case opened
before pays month by month as it always did (paid stays paid and counted). A hire rejected as not
difficult to employ is a decision taken without a fact (POLICY.md part 2): the K12 fact arriving
within intake.late_fact_days reopens it, and the hire's stored contributions are paid with their
original dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, Fact
    from contracts.events import ContractSigned, ContractTerminated, ContributionPaid, FeeExemption, InsuredLeft
    from policy import difficult, enterprise_profile, enterprise_si, subsidy_period
    from policy.calendar import business_date, first_of_month, month_of
    from policy.contribution_schedule import months_worth, next_due
    from policy.corrections import Owed
    from policy.difficult import registered_city
    from policy.funds import Fund
    from workflows._contribution_reports import take_contribution
    from workflows._person_facts import person_facts
    from workflows._states import EnterpriseSiState
    from workflows.case_base import CaseWorkflow

KIND = kinds.ENTERPRISE_SI_SUBSIDY
# Inputs about the hire itself that may reach the intake before the contract does.
HIRE_FACT_TYPES = ("contribution.paid", "insured.left", "contract.terminated")
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k15-reconcile-owed"
# A closed case that paid takes the late facts that reach it in its listening window (POLICY.md
# part 2: facts still correct a case up to ledger.correction_days after it closed); before this,
# `apply` ignored every event once the case closed, so a backdated enterprise_si.months delivered after the case closed on a separation
# corrected nothing (as K5's, workflows/public_welfare_post.py).
LATE_FACTS_CORRECT = "k15-late-facts-correct"
# The enterprise's fee exemption is signalled to its hires, open or listening (the route finds
# them by employer): a closed hire in its window reads the exemptions at once and corrects
# (POLICY.md part 2) as an open one does when it next reads them (a month falling due, or
# closing); before this none was delivered, and a closed hire never read them again. An open
# hire is signalled too, so one that closes between reading them and its keys listening still
# gets it (then closed).
FEE_EXEMPTION_DELIVERED = "k15-fee-exemption-delivered"
# Cases opened from here on listen, when rejected as not difficult to employ, for the K12 fact to
# arrive late (POLICY.md part 2); histories recorded before close for good.
LATE_FACTS = "k15-late-facts"


@workflow.defn(name=KIND)
class EnterpriseSiSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, K12: policy/difficult.py judges the person hired.
    parameter_scope = ("enterprise_si.", "difficult.")
    # The hire's contributions and separations reach a hire rejected as not difficult to employ
    # too (its route gives them to every listening case): taken if a late K12 fact reopens it.
    held_while_rejected = HIRE_FACT_TYPES
    State = EnterpriseSiState
    st: EnterpriseSiState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    @property
    def enterprise_key(self) -> str:
        assert self.st.contract is not None
        return f"enterprise/{self.st.contract.employer_id}"

    async def open(self, opening: CaseEvent) -> None:
        """K12 on the day before signing; the case closes if the person is not difficult to employ."""
        c = ContractSigned.model_validate(opening.data)
        self.st.contract = c
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.subject = f"person/{c.person_id}"
        self.keys = [self.subject]
        self.opened_on = c.signed_on
        self.note(c.signed_on, f"{c.employer_id} hired {c.person_id} from {c.starts_on} ({c.term_months or 'open-ended'} months)", event=opening.key)
        stored, facts = await self.stored_facts(c)
        self.city = registered_city(c.person_id, facts)
        await self.load_context(self.city)
        assert self.params is not None
        asked = enterprise_si.judged_on(c)
        self.st.late_facts = workflow.patched(LATE_FACTS)
        self.st.categories = self.k12_categories(c, facts)
        if not self.st.categories:
            # POLICY.md lists completed/ended only; `rejected` is the house word for "not eligible".
            # A K12 fact may still come on its own topic: a decision taken without it (part 2).
            await self.close(
                "rejected",
                c.signed_on,
                f"§2/§16: {c.person_id} is not difficult to employ on {asked}: none of {subsidy_period.k12_checked()} holds",
                without_fact=self.st.late_facts,
            )
            return
        await self.admit(c, stored, "opened")

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """A hire rejected as not difficult to employ, judged again with the late K12 fact (stored
        before it is routed here) as if it had come first; the contributions and separations of
        the hire stored meanwhile are read as at opening, so the months that fell due are paid
        with their original dates."""
        c = self.st.contract
        if c is None or self.params is None or ev.type not in difficult.PERSON_FACT_TYPES:
            return False
        stored, facts = await self.stored_facts(c)
        categories = self.k12_categories(c, facts)
        if not categories:
            return False
        self.st.categories = categories
        await self.reopen(f"§2/§16: difficult to employ on {enterprise_si.judged_on(c)} ({', '.join(categories)})", ev.key)
        await self.admit(c, stored, "reopened")
        return True

    async def stored_facts(self, c: ContractSigned) -> tuple[list[Fact], list[Any]]:
        """The stored facts about the person (the hire's and K12's), and K12's as judged."""
        stored = await self.load_facts([self.subject], sorted(set(difficult.PERSON_FACT_TYPES) | set(HIRE_FACT_TYPES)))
        return stored, await person_facts(self, c.person_id, [f for f in stored if f.type in difficult.PERSON_FACT_TYPES])

    def k12_categories(self, c: ContractSigned, facts: list[Any]) -> list[str]:
        """The §16 categories the person is in on the day before signing."""
        assert self.params is not None
        asked = enterprise_si.judged_on(c)
        return difficult.difficult_categories(difficult.profile_from_facts(c.person_id, facts, asked), asked, self.params)

    async def admit(self, c: ContractSigned, stored: list[Fact], change: str) -> None:
        """The hire of a person difficult to employ: the enterprise's exemptions and the hire's
        stored facts are read, and the counted months start."""
        await self.load_exemptions()
        self.take_stored_hire_facts(stored)
        self.note(
            c.signed_on,
            f"difficult to employ ({', '.join(self.st.categories)}); counted months from {month_of(c.starts_on)}",
            rule="§2 企业吸纳就业困难人员; §16",
        )
        await self.record(change, on=c.signed_on)
        if self.today() > c.signed_on:
            await self.gather_burst()

    def take_stored_hire_facts(self, stored: list[Fact]) -> None:
        """Contributions and separations of this hire that reached the intake before the case
        existed (other topics are not ordered with the contract's): stored before routing, so
        each is either read here or signalled after the case was registered; `seen` drops the
        ones that are both."""
        c = self.st.contract
        assert c is not None
        for fact in stored:
            if fact.type not in HIRE_FACT_TYPES:
                continue
            if fact.payload.get("employer_id") != c.employer_id or fact.payload.get("person_id") != c.person_id:
                continue
            self.take_stored_fact(fact)

    async def load_exemptions(self) -> None:
        """The enterprise's fee exemptions as stored now (they are not routed to the case)."""
        assert self.st.contract is not None
        facts = await self.load_facts([self.enterprise_key], [enterprise_profile.FEE_EXEMPTION])
        found = enterprise_profile.fee_exemption_months(self.st.contract.employer_id, facts)
        new = sorted(found - self.st.exempt)
        if new:
            self.st.exempt |= found
            self.note(self.today(), f"{self.st.contract.employer_id}'s fees exempted in {', '.join(new)}: not counted", rule=enterprise_si.RULE_EXEMPTED)
        late = sorted(m for m in found if m in self.st.paid_months and m not in self.st.exempt_noted)
        if self.st.reconciles:
            if late:
                self.st.exempt_noted.update(late)
                self.st.cause = enterprise_si.exemption_cause(self.st.contract.employer_id, facts, late)
                self.note(self.today(), f"exemption reported after {', '.join(late)} was paid: not counted, the period is postponed")
        elif late:
            # The ledger only adds: the month stays paid (and counted).
            self.st.exempt_noted.update(late)
            self.note(self.today(), f"exemption reported after {', '.join(late)} was paid: stays paid and counted")

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if not self.takes_events(LATE_FACTS_CORRECT):
            return
        if self.apply_shared_fact(ev):
            if ev.type == "policy.parameter.changed":
                self.st.cause = ev.key  # e.g. enterprise_si.months changes which months are counted
            return
        c = self.st.contract
        assert c is not None
        received = business_date(ev.time)
        if ev.type == "contribution.paid":
            paid = ContributionPaid.model_validate(ev.data)
            if not enterprise_si.is_employer_contribution(paid, c.employer_id, c.person_id):
                self.note(received, f"contribution for {paid.month} not by {c.employer_id} for {c.person_id}", event=ev.key)
            elif first_of_month(paid.month) < c.starts_on.replace(day=1):
                self.note(received, f"contribution for {paid.month}: before the contract starts", event=ev.key)
            elif paid.month in self.st.contributions and not self.st.reconciles:
                self.note(received, f"another contribution for {paid.month}: the month is already counted", event=ev.key)
            else:
                share = enterprise_si.employer_share(paid)
                take_contribution(self, paid.month, share, ev, f"{c.employer_id} paid {share} fen employer share for {paid.month}")
        elif ev.type in ("contract.terminated", "insured.left"):
            model = ContractTerminated if ev.type == "contract.terminated" else InsuredLeft
            sep = model.model_validate(ev.data)
            if sep.employer_id != c.employer_id or sep.person_id != c.person_id:
                self.note(received, f"{ev.type} not about this hire", event=ev.key)
            elif sep.on < c.signed_on:
                self.note(received, f"{ev.type} on {sep.on}: before this hire", event=ev.key)
            elif self.st.separated_on is None or sep.on < self.st.separated_on:
                self.st.separated_on = sep.on
                self.st.cause = ev.key
                self.note(sep.on, f"separated from {c.employer_id} on {sep.on} ({ev.type})", event=ev.key)
        elif ev.type == enterprise_profile.FEE_EXEMPTION and workflow.patched(FEE_EXEMPTION_DELIVERED):
            exemption = FeeExemption.model_validate(ev.data)
            if exemption.enterprise_id != c.employer_id:
                self.note(received, f"fee exemption of {exemption.enterprise_id}: not this hire's employer", event=ev.key)
                return
            covered = f"{c.employer_id}'s fees exempted {exemption.from_month}..{exemption.to_month}"
            if self.is_open:
                # As before the route delivered it: read with the others when a month falls due
                # or the case would close (its overpayments are due that day).
                self.note(received, f"{covered}: read when a month falls due or the case closes", event=ev.key)
                return
            self.note(received, covered, event=ev.key)
            # The stored exemptions (this one among them, stored before it was routed) decide.
            await self.load_exemptions()
        else:
            self.note(received, f"{ev.type} does not concern this case", event=ev.key)

    # -- time --------------------------------------------------------------------------------
    def counted(self) -> list[str]:
        """The counted months; a case that reconciles does not count an exempted month even if it
        was paid before the exemption was known (it is overpaid instead)."""
        assert self.st.contract is not None and self.params is not None
        months = self.params.get("enterprise_si.months", self.st.contract.starts_on)
        kept = () if self.st.reconciles else self.st.paid_months
        return enterprise_si.counted_months(self.st.contract.starts_on, months, self.st.exempt, kept)

    def payable(self) -> list[str]:
        return enterprise_si.payable_months(self.counted(), self.st.separated_on)

    def close_day(self) -> date:
        """After the wait for the last payable month's contribution; at once (on the separation
        day) when the separation came before any month could be paid."""
        assert self.params is not None
        payable = self.payable()
        if not payable:
            assert self.st.separated_on is not None
            return self.st.separated_on
        return enterprise_si.closing_day(payable[-1], self.params)

    def due_months(self, today: date) -> list[str]:
        return [
            m
            for m in self.payable()
            if m in self.st.contributions and m not in self.st.paid_months
            and enterprise_si.due_on(m, self.st.contributions[m].received_on) <= today
        ]

    def deadline(self) -> date | None:
        if self.st.contract is None or self.params is None:
            return None
        candidates = [self.close_day()]
        if self.st.reconciles:
            due = next_due(self.owed(self.today()) or [], self.ledger)
            candidates += [due] if due is not None else []
        else:
            candidates += [
                enterprise_si.due_on(m, self.st.contributions[m].received_on)
                for m in self.payable() if m in self.st.contributions and m not in self.st.paid_months
            ]
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay the months that fell due; close once the last payable month has been waited for.
        The exemptions are read again first: one that arrived since may postpone the period."""
        if self.st.reconciles:
            await self.settle_owed(today)
            return
        if not self.due_months(today) and today < self.close_day():
            return
        await self.load_exemptions()
        for month in self.due_months(today):
            await self.pay_month(month)
        for month in sorted(m for m in self.st.contributions if m in self.st.exempt and m not in self.st.paid_months):
            if month not in self.st.exempt_noted:
                self.st.exempt_noted.add(month)
                self.note(today, f"contribution for {month}: an exempted month, not subsidised")
        if today >= self.close_day():
            await self.close_case()
            return

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Every month with the employer's contribution known, on the facts known now (reconcile
        writes those due by `today`); None for a case that pays the old way."""
        c = self.st.contract
        if not self.st.reconciles or c is None or self.params is None:
            return None
        return enterprise_si.owed_by_month(contract=c, counted=self.counted(), exempt=self.st.exempt, reports=self.st.contributions,
                                 separated_on=self.st.separated_on)

    async def settle_owed(self, today: date) -> None:
        """Reconcile with what is owed now (a correction is due the day its fact is known); the
        exemptions are read again first when a month falls due or the case would close."""
        due = next_due(self.owed(today) or [], self.ledger)
        if (due is not None and due <= today) or today >= self.close_day():
            await self.load_exemptions()
        await self.reconcile_owed(today, self.st.cause)
        self.st.paid_months = {m: fen for m, fen in months_worth(self.ledger, enterprise_si.PROGRAM).items() if fen > 0}
        for month in sorted(m for m in self.st.contributions if m in self.st.exempt and m not in self.ledger_months()):
            if month not in self.st.exempt_noted:
                self.st.exempt_noted.add(month)
                self.note(today, f"contribution for {month}: an exempted month, not subsidised")
        if today >= self.close_day():
            await self.close_case()

    def ledger_months(self) -> set[str]:
        return {row.period for row in self.ledger}

    async def close_case(self) -> None:
        counted = self.counted()
        skipped = enterprise_si.skipped_months(self.st.contract.starts_on if self.st.contract else date.min, counted)
        postponed = f"; postponed by {len(skipped)} exempted months ({', '.join(skipped)})" if skipped else ""
        paid = f"{len(self.st.paid_months)} months paid"
        separated = self.st.separated_on
        if separated is not None and month_of(separated) <= counted[-1]:
            await self.close(
                "ended",
                self.close_day(),
                f"§2: separated on {separated}; months after {month_of(separated)} are not paid; {paid}{postponed}",
            )
            return
        await self.close("completed", self.close_day(), f"§2: {len(counted)} counted months {counted[0]}..{counted[-1]}; {paid}{postponed}")

    async def pay_month(self, month: str) -> None:
        assert self.st.contract is not None
        report = self.st.contributions[month]
        amount, received = report.amount, report.received_on
        c = self.st.contract
        n = self.counted().index(month) + 1
        await self.pay(
            payee=self.enterprise_key,
            program=enterprise_si.PROGRAM,
            period=month,
            amount=amount,
            fund=str(Fund.EMPLOYMENT_SUBSIDY),
            due_on=enterprise_si.due_on(month, received),
            rule=enterprise_si.share_rule(c, month, amount, n),
        )
        self.st.paid_months[month] = amount

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        c = self.st.contract
        if c is None:
            return {}
        counted = self.counted() if self.params is not None else []
        return {
            "program": enterprise_si.PROGRAM,
            "employer_id": c.employer_id,
            "person_id": c.person_id,
            "starts_on": c.starts_on.isoformat(),
            "difficult_categories": self.st.categories,
            "first_month": counted[0] if counted else None,
            "last_month": counted[-1] if counted else None,
            "exempt_months": sorted(self.st.exempt),
            "months_paid": len(self.st.paid_months),
            "paid_months": sorted(self.st.paid_months),
            "separated_on": self.st.separated_on.isoformat() if self.st.separated_on else None,
            "generation": self.generation,
        }
