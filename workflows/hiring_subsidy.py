"""K6 hiring_subsidy (一次性吸纳就业补贴, §10): one case per (enterprise, person, program).

- K6a `hiring/epidemic/E/P`: waits for the employer's contribution for the person and an
  application made by L + 3 months; pays `hiring.epidemic_per_hire` to the enterprise, and the
  referring HR agency its per-hire amount under the agency's cap across all cases. The deadline
  is unknown until the epidemic is lifted and is re-aimed when the lift date arrives or is
  corrected; a correction can also put the hire outside [S, L].
- K6b `hiring/priority/E/P`: counts the employer's contributions for the person from the
  contract's start month; once `hiring.si_months` months are paid, pays their employer share.
  Of two reports of one month the one announced last stands, whatever order they arrive in
  (cases opened under `k6-latest-report-stands`; before, the first delivered was counted).
  The contract ending first, or no such months within `hiring.si_wait_months`, → not_qualified.

A case opened under `k6-reconcile-owed` states what it owes (`owed`: per program, the one period
"once") and pays the enterprise by reconciling. The agency's fee is still paid by `pay_capped`:
only the store sees the agency's payments of every case, so only it can hold the cap; the row it
wrote joins the case's ledger, and what the case owes the agency is never more than that row (a
fee the cap cut stays cut, a correction can lower or remove it but never pass the cap). While the
base keeps a closed case listening (POLICY.md part 2, workflows/_one_off.py): a corrected lift date
that puts the hire outside [S, L], or a contract end reported late and dated before the months were
paid, → overpayments and an `overpayment_recovery` task; a backdated change of
`hiring.epidemic_per_hire` in force on the hire date → arrears.

A case opened under `k6-late-facts` that is rejected for want of a fact on another topic (the
contract between the pair, the employer's registration showing epidemic supplies, the person's
registration: `refusal`) listens `intake.late_fact_days` for it and is judged again when it comes
(`reopen_on`), as if it had come first: reopened, it pays through the normal loop with the
original dates. A contract too short or signed after the priority window is final.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, Fact
    from contracts.events import ApplicationSubmitted, ContractSigned, ContractTerminated, ContributionPaid, city_of_source
    from policy import hiring
    from policy.calendar import business_date
    from policy.corrections import LedgerEntry, Owed
    from policy.difficult import PERSON_FACT_TYPES
    from policy.funds import Fund
    from workflows._contribution_reports import take_contribution
    from workflows._one_off import settle_owed
    from workflows._states import HiringState
    from workflows.case_base import CaseWorkflow

KIND = kinds.HIRING_SUBSIDY
FUND = str(Fund.EMPLOYMENT_SUBSIDY)
# Cases opened from here on reconcile what they owe (histories recorded before pay with `pay`).
RECONCILE_OWED = "k6-reconcile-owed"
# Cases opened from here on take a late fact that a rejection wanted (POLICY.md part 2 "late
# facts across topics"); before, a rejection was final.
LATE_FACTS = "k6-late-facts"
# Cases opened from here on take, of two reports of one K6b month, the one announced last (POLICY.md
# part 2: a corrected report replaces an earlier one, whatever order they arrive in); before, the
# first delivered was counted and a later one ignored.
LATEST_REPORT_STANDS = "k6-latest-report-stands"


@workflow.defn(name=KIND)
class HiringSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("hiring.",)  # its parameters (case_base `context_scope`)
    held_while_rejected = hiring.HELD_WHILE_REJECTED
    settles_when_closed = True  # its settle reconciles a closed case (workflows/_one_off.py)
    State = HiringState
    st: HiringState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Find the contract (the opening event, or the stored one for an application or a late
        registration), then judge who may have the subsidy; rejected closes the case — for want
        of a fact that may still come (`refusal`), it listens for it (`reopen_on`)."""
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.late_facts = self.st.reconciles and workflow.patched(LATE_FACTS)
        self.st.latest_report_stands = self.st.reconciles and workflow.patched(LATEST_REPORT_STANDS)
        self.st.program, self.st.enterprise, self.st.person = kinds.hiring_case_parts(self.case_id)
        self.subject = f"enterprise/{self.st.enterprise}"
        self.keys = [f"person/{self.st.person}"]
        stored, enterprise_facts = await self.case_facts()
        self.city = hiring.enterprise_city(self.st.enterprise, enterprise_facts) or city_of_source(opening.source)
        await self.load_context(self.city)

        if opening.type == "contract.signed":
            self.st.contract = ContractSigned.model_validate(opening.data)
            opened_on = self.st.contract.signed_on
        elif self.st.late_facts and opening.type == hiring.REGISTRATION:
            # A registration that came after the contract (streams/routes/hiring.py): opened as
            # the contract would have opened it, had the registration come first.
            self.st.contract = self.stored_contract(stored)
            opened_on = self.st.contract.signed_on if self.st.contract else _event_date(opening)
        else:
            self.st.contract = self.stored_contract(stored)
            self.pending.insert(0, opening)  # the application itself is applied in the main loop
            opened_on = _event_date(opening)
        self.opened_on = opened_on
        self.note(opened_on, f"{opening.type} for {self.st.enterprise} / {self.st.person}", event=opening.key)
        refused = self.refusal(stored, enterprise_facts)
        if refused is not None:
            rule, without_fact = refused
            return await self.reject(opened_on, rule, without_fact=self.st.late_facts and without_fact)
        await self.admit(stored, "opened")

    async def case_facts(self) -> tuple[list[Fact], list[Fact]]:
        """The stored facts about the pair (under the person's key) and about the enterprise."""
        types = [*hiring.CONTRACT_FACT_TYPES, hiring.CONTRIBUTION] + (list(PERSON_FACT_TYPES) if self.st.program == hiring.PRIORITY else [])
        stored = await self.load_facts([f"person/{self.st.person}"], types)
        return stored, await self.load_facts([self.subject], [hiring.ENTERPRISE_FACT_TYPE])

    def refusal(self, stored: list[Fact], enterprise_facts: list[Fact]) -> tuple[str, bool] | None:
        """Why the hire cannot have the subsidy on the facts known, and whether for want of a fact
        that may still come on another topic (POLICY.md part 2): a contract not yet on record,
        the employer's registration not (yet) showing epidemic supplies, the person's registration
        not (yet) showing six months. A contract too short or signed after the priority window is
        final. None: the case opens (K6b's groups noted)."""
        params, contract = self.params, self.st.contract
        assert params is not None
        if contract is None:
            return f"§10: no contract between {self.st.enterprise} and {self.st.person} on record", True
        hire = hiring.Hire(self.st.enterprise, self.st.person, contract.signed_on, contract.term_months, contract.graduation_year)
        judged = hiring.judge(self.st.program, hire, [f for f in stored if f.type in PERSON_FACT_TYPES], enterprise_facts, params)
        if judged.groups_judged:
            self.st.registered_on = judged.registered_on
            self.st.groups = list(judged.groups)
        if judged.refusal is not None:
            return judged.refusal, judged.for_want_of_fact
        if self.st.program == hiring.PRIORITY:
            self.note(contract.signed_on, f"priority group: {', '.join(self.st.groups)}", rule="§10 登记失业半年以上 / 毕业年度高校毕业生")
        return None

    async def admit(self, stored: list[Fact], change: str) -> None:
        """The hire may have the subsidy: the pair's stored facts, then the normal loop."""
        assert self.opened_on is not None
        self.take_stored(stored)
        self.st.next_deadline = self.deadline()
        await self.record(change, on=self.opened_on)
        if self.today() > self.opened_on:
            # Opened behind business time (a backlog, a late fact): let the burst in before judging dates.
            await self.gather_burst()

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """A hire rejected for want of a fact, judged again on the facts stored now (the late one
        is stored before it is routed here) as if it had come first; opened, it pays through the
        normal loop with the original dates (and the pair's events held meanwhile)."""
        if not self.st.late_facts:
            return False
        if ev.type not in hiring.rejudged_on(self.st.program):
            return False
        stored, enterprise_facts = await self.case_facts()
        self.st.contract = self.st.contract or self.stored_contract(stored)
        city = hiring.enterprise_city(self.st.enterprise, enterprise_facts) or self.city
        if city != self.city:
            # The employer's registration names its city: judged with that city's parameters.
            await self.load_context(city)
            self.city = city
        refused = self.refusal(stored, enterprise_facts)
        if refused is not None:
            self.note(self.today(), f"late {ev.type}: judged again, still rejected", rule=refused[0], event=ev.key)
            return False
        await self.reopen(hiring.RULE_ONE_SUBSIDY, ev.key)
        await self.admit(stored, "reopened")
        return True

    def stored_contract(self, stored: list[Fact]) -> ContractSigned | None:
        """The latest stored contract between the pair (an application names no contract)."""
        found = None
        for f in stored:
            if f.type == "contract.signed" and f.payload.get("employer_id") == self.st.enterprise and f.payload.get("person_id") == self.st.person:
                found = ContractSigned.model_validate(f.payload)
        return found

    def take_stored(self, stored: list[Fact]) -> None:
        """Contributions and contract ends of the pair that reached the intake before this case
        existed; the `seen` keys drop the ones that are also signalled."""
        for fact in stored:
            if fact.type not in (hiring.CONTRIBUTION, "contract.terminated"):
                continue
            if fact.payload.get("employer_id") != self.st.enterprise or fact.payload.get("person_id") != self.st.person:
                continue
            self.take_stored_fact(fact)

    async def reject(self, on: date, rule: str, *, without_fact: bool = False) -> None:
        if without_fact:
            # The application that opened the case waits with the pair's other events.
            self.held, self.pending = [*self.held, *self.pending], []
        if without_fact and self.st.program == hiring.EPIDEMIC:
            # The employer's registration travels under its own key: the case listens there too
            # (no match: the employer's contributions for other hires never reach it).
            self.keys = [*self.keys, self.subject]
            await self.record("opened", on=on)
        await self.close("rejected", on, rule, without_fact=without_fact)

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if not self.is_open and not self.st.reconciles:
            return
        if self.st.reconciles:
            # Whatever changes what is owed is named on the corrections it makes.
            self.st.cause = ev.key
        if self.apply_shared_fact(ev):
            return
        contract = self.st.contract
        assert contract is not None
        received = business_date(ev.time)
        if ev.type == "application.submitted":
            app = ApplicationSubmitted.model_validate(ev.data)
            if self.st.program != hiring.EPIDEMIC:
                self.note(received, f"application for {app.program}: not this program", event=ev.key)
            elif self.st.applied_on is None or app.on < self.st.applied_on:
                self.st.applied_on = app.on
                self.note(app.on, "application for the hiring subsidy (epidemic supplies)", event=ev.key)
            else:
                self.note(app.on, f"another application: the one of {self.st.applied_on} counts", event=ev.key)
        elif ev.type == "contribution.paid":
            c = ContributionPaid.model_validate(ev.data)
            if c.employer_id != self.st.enterprise or c.person_id != self.st.person:
                self.note(received, f"contribution for {c.month} by {c.employer_id}: not this hire", event=ev.key)
            elif not hiring.counts_for_priority(c.month, contract.starts_on):
                self.note(received, f"contribution for {c.month}: before the contract started on {contract.starts_on}", event=ev.key)
            elif self.st.program == hiring.EPIDEMIC:
                if self.st.contribution is None or received < self.st.contribution[1]:
                    self.st.contribution = (c.month, received)
                self.note(received, f"contribution for {c.month} paid by {self.st.enterprise}", event=ev.key)
            elif self.st.latest_report_stands:
                take_contribution(self, c.month, c.employer_amount, ev, f"contribution for {c.month}: employer share {c.employer_amount} fen")
            elif any(m.month == c.month for m in self.st.counted):
                self.note(received, f"another contribution for {c.month}: the month is already counted", event=ev.key)
            else:
                self.st.counted.append(hiring.CountedMonth(c.month, c.employer_amount, received))
                self.note(received, f"contribution for {c.month}: employer share {c.employer_amount} fen", event=ev.key)
        elif ev.type == "contract.terminated":
            t = ContractTerminated.model_validate(ev.data)
            if t.employer_id == self.st.enterprise and (self.st.terminated_on is None or t.on < self.st.terminated_on):
                self.st.terminated_on = t.on
            self.note(t.on, f"contract with {t.employer_id} ended", event=ev.key)
        elif ev.type == "contract.signed":
            # The business key makes this the same case: one subsidy per (enterprise, person, program).
            self.note(received, "another contract between the pair: one subsidy per enterprise, person and program", event=ev.key)
        else:
            self.note(received, f"{ev.type} does not concern this case", event=ev.key)

    # -- time --------------------------------------------------------------------------------
    def deadline(self) -> date | None:
        """The day the case stops waiting (it judges at the start of that day)."""
        if self.params is None or self.st.contract is None:
            return None  # opening
        if self.st.program == hiring.EPIDEMIC:
            last = hiring.application_deadline(self.epidemic.lifted_on, self.params)
            return last + timedelta(days=1) if last else None
        candidates = [hiring.priority_deadline(self.st.contract.starts_on, self.params)]
        if self.st.terminated_on is not None:
            candidates.append(self.st.terminated_on)
        return min(candidates)

    async def settle(self, today: date) -> None:
        if not self.is_open:
            # Paid and closed, listening for corrections (only a case that reconciles).
            await settle_owed(self, today, self.st.cause)
            return
        if self.st.program == hiring.EPIDEMIC:
            await self.settle_epidemic(today)
        else:
            await self.settle_priority(today)
        if self.is_open and self.deadline() != self.st.next_deadline:
            # Re-aimed (the epidemic's lift date arrived or was corrected): the read model says so.
            self.st.next_deadline = self.deadline()
            await self.record("updated")

    async def settle_epidemic(self, today: date) -> None:
        params, contract = self.params, self.st.contract
        assert params is not None and contract is not None
        declared, lifted = self.epidemic.declared_on, self.epidemic.lifted_on
        outside = hiring.outside_epidemic_period(contract.signed_on, declared, lifted)
        if outside:
            await self.close("rejected", max(today, self.opened_on or today), f"§10 在疫情防控期间新招用: {outside}")
            return
        last = hiring.application_deadline(lifted, params)
        window = f"L + {params.get('hiring.application_months_after_lift', lifted)} months = {last}" if last else ""
        if self.st.applied_on is not None and last is not None and self.st.applied_on > last:
            await self.close(
                "not_qualified", self.st.applied_on, f"§10 申请日期…疫情解除后3个月内: applied on {self.st.applied_on}, after {window}"
            )
            return
        contribution = self.st.contribution
        paid_in_time = contribution is not None and (last is None or contribution[1] <= last)
        due = self.epidemic_due()
        if due is not None:
            await self.pay_epidemic(due)
            return
        if last is not None and today > last:
            missing = [
                w
                for w, ok in (
                    ("no application was made", self.st.applied_on is not None),
                    (f"{self.st.enterprise} had not paid the contribution for {self.st.person}", paid_in_time),
                )
                if not ok
            ]
            await self.close("not_qualified", last + timedelta(days=1), f"§10: by {window} {' and '.join(missing)}")

    def epidemic_due(self) -> date | None:
        """The day K6a's subsidy is due on the facts known now: a hire in [S, L], applied for by
        L + 3 months, the contribution paid by then, the period's start known; else None."""
        params, contract = self.params, self.st.contract
        assert params is not None and contract is not None
        declared, lifted = self.epidemic.declared_on, self.epidemic.lifted_on
        if hiring.outside_epidemic_period(contract.signed_on, declared, lifted):
            return None
        last = hiring.application_deadline(lifted, params)
        applied, contribution = self.st.applied_on, self.st.contribution
        if applied is None or (last is not None and applied > last):
            return None
        if contribution is None or (last is not None and contribution[1] > last) or not hiring.epidemic_period_known(declared):
            return None
        return max(applied, contribution[1])

    def epidemic_rule(self) -> str:
        assert self.st.contract is not None
        return f"§10 一次性吸纳就业补贴: hire of {self.st.contract.signed_on} in the epidemic period, contribution paid, applied on {self.st.applied_on}"

    def agency_rule(self, cap: int) -> str:
        return f"§10 一次性就业创业服务补助: referral of {self.st.person}, the agency's total capped at {cap} fen"

    async def pay_epidemic(self, due_on: date) -> None:
        params, contract = self.params, self.st.contract
        assert params is not None and contract is not None
        if self.st.reconciles:
            await self.reconcile_owed(max(due_on, self.today()), self.st.cause)
        else:
            await self.pay(
                payee=self.subject,
                program=hiring.EPIDEMIC,
                period=hiring.PERIOD,
                amount=hiring.epidemic_subsidy(contract.signed_on, params),
                fund=FUND,
                due_on=due_on,
                rule=self.epidemic_rule(),
            )
        agency = contract.referred_by_agency
        if agency:
            cap = hiring.agency_cap(due_on, params)
            payee, rule = f"agency/{agency}", self.agency_rule(cap)
            result = await self.pay_capped(
                payee=payee,
                program=hiring.AGENCY,
                period=hiring.PERIOD,
                amount=hiring.agency_subsidy(contract.signed_on, params),
                cap=cap,
                fund=FUND,
                due_on=due_on,
                rule=rule,
            )
            self.st.agency_paid = result.amount or 0
            if self.st.reconciles and self.st.agency_paid:
                # The row the store wrote under the cap: what later corrections compare against.
                self.ledger.append(LedgerEntry(hiring.AGENCY, hiring.PERIOD, "payment", self.st.agency_paid, FUND, payee, due_on, rule))
            if not self.st.agency_paid:
                self.note(due_on, f"agency cap reached: agency/{agency} has had its {cap} fen; nothing paid to it", rule="§10 每户…最高不超过10万元")
        await self.close("paid", due_on, hiring.RULE_ONE_SUBSIDY)

    async def settle_priority(self, today: date) -> None:
        params, contract = self.params, self.st.contract
        assert params is not None and contract is not None
        deadline = hiring.priority_deadline(contract.starts_on, params)
        n = hiring.si_months(contract.signed_on, params)
        subsidy = self.priority_payable()
        ended = self.st.terminated_on
        if subsidy is not None:
            if self.st.reconciles:
                await self.reconcile_owed(max(subsidy.completed_on, today), self.st.cause)
            else:
                await self.pay(
                    payee=self.subject,
                    program=hiring.PRIORITY,
                    period=hiring.PERIOD,
                    amount=subsidy.amount,
                    fund=FUND,
                    due_on=subsidy.completed_on,
                    rule=self.priority_rule(subsidy),
                )
            self.st.months_paid = list(subsidy.months)
            await self.close("paid", subsidy.completed_on, f"§10: {', '.join(self.st.groups)}; one subsidy per enterprise, person and program")
            return
        counted = len({m.month for m in self.counted_months() if m.received_on < deadline})
        if ended is not None and ended <= today:
            await self.close("not_qualified", ended, f"§10: the contract ended on {ended} with {counted} of {n} months of contributions paid")
            return
        if today >= deadline:
            await self.close(
                "not_qualified",
                deadline,
                f"§10 按规定缴纳社会保险: {counted} of {n} months paid by {deadline} "
                f"({params.get('hiring.si_wait_months', contract.starts_on)} months from the start)",
            )

    def priority_payable(self) -> hiring.PrioritySubsidy | None:
        """K6b's subsidy on the facts known now: `hiring.si_months` months paid within the wait,
        completed before the contract ended; else None."""
        params, contract = self.params, self.st.contract
        assert params is not None and contract is not None
        deadline = hiring.priority_deadline(contract.starts_on, params)
        n = hiring.si_months(contract.signed_on, params)
        subsidy = hiring.priority_subsidy([m for m in self.counted_months() if m.received_on < deadline], n)
        ended = self.st.terminated_on
        return subsidy if subsidy is not None and (ended is None or subsidy.completed_on <= ended) else None

    def counted_months(self) -> list[hiring.CountedMonth]:
        """K6b's months of contributions, each as first received: under `k6-latest-report-stands`
        with the employer share of the report that stands for it, before it the first delivered."""
        if self.st.latest_report_stands:
            return [hiring.CountedMonth(month, r.amount, r.received_on) for month, r in sorted(self.st.contributions.items())]
        return self.st.counted

    def priority_rule(self, subsidy: hiring.PrioritySubsidy) -> str:
        assert self.params is not None and self.st.contract is not None
        return hiring.priority_rule(hiring.si_months(self.st.contract.signed_on, self.params), subsidy.months)

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Per program, the period "once" on the facts known now: nothing before the conditions
        hold, nothing once they no longer do (a removed eligibility becomes an overpayment); None
        for a case that pays the old way or closed without paying."""
        params, contract = self.params, self.st.contract
        if not self.st.reconciles or params is None or contract is None or (not self.is_open and self.status != "paid"):
            return None
        if self.st.program == hiring.PRIORITY:
            subsidy = self.priority_payable()
            if subsidy is None:
                return []
            return [Owed(hiring.PRIORITY, hiring.PERIOD, subsidy.amount, FUND, self.subject, subsidy.completed_on, self.priority_rule(subsidy))]
        due = self.epidemic_due()
        if due is None:
            return []
        owed = [Owed(hiring.EPIDEMIC, hiring.PERIOD, hiring.epidemic_subsidy(contract.signed_on, params), FUND, self.subject, due,
                     self.epidemic_rule())]
        agency = [r for r in self.ledger if r.program == hiring.AGENCY and r.entry == "payment"]
        if agency:
            # Never more than the store let through under the cap; lower if the fee now is.
            (paid,) = agency
            amount = min(paid.amount, hiring.agency_subsidy(contract.signed_on, params))
            owed.append(Owed(hiring.AGENCY, hiring.PERIOD, amount, FUND, paid.payee, paid.due_on, paid.rule))
        return owed

    def removal_rule(self) -> str:
        c = self.st.contract
        if self.st.program == hiring.PRIORITY:
            return f"§10: the contract ended on {self.st.terminated_on}, before the months of contributions were paid"
        assert c is not None and self.params is not None
        outside = hiring.outside_epidemic_period(c.signed_on, self.epidemic.declared_on, self.epidemic.lifted_on)
        if outside:
            return f"§10 在疫情防控期间新招用: {outside}"
        last = hiring.application_deadline(self.epidemic.lifted_on, self.params)
        contribution = self.st.contribution[1] if self.st.contribution else None
        return (f"§10 申请日期…疫情解除后3个月内: the application (on {self.st.applied_on}) or the contribution "
                f"(paid {contribution}) came after L + 3 months = {last}")

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        c = self.st.contract
        deadline = self.deadline() if c is not None and self.params is not None and self.is_open else None
        return {
            "program": self.st.program,
            "enterprise": self.st.enterprise,
            "person": self.st.person,
            "signed_on": c.signed_on.isoformat() if c else None,
            "starts_on": c.starts_on.isoformat() if c else None,
            "term_months": c.term_months if c else None,
            "agency": c.referred_by_agency if c else None,
            "agency_paid": self.st.agency_paid,
            "priority_groups": self.st.groups,
            "registered_on": self.st.registered_on.isoformat() if self.st.registered_on else None,
            "months_counted": sorted({m.month for m in self.counted_months()}),
            "months_paid": self.st.months_paid,
            "contribution": self.st.contribution[0] if self.st.contribution else None,
            "applied_on": self.st.applied_on.isoformat() if self.st.applied_on else None,
            "terminated_on": self.st.terminated_on.isoformat() if self.st.terminated_on else None,
            "deadline": deadline.isoformat() if deadline else None,
            "generation": self.generation,
        }

def _event_date(ev: CaseEvent) -> date:
    """The business date an opening event is about (an application's own date)."""
    on = ev.data.get("on") or ev.data.get("signed_on")
    return date.fromisoformat(on) if isinstance(on, str) else business_date(ev.time)
