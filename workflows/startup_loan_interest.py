"""K13 startup_loan_interest (创业担保贷款贴息, §2, §13, §15): one guaranteed startup loan; the
interest subsidy of each period the bank reports is paid to the bank, within the subsidised term
(lengthened by an epidemic extension); a default stops it and asks a supervisor to review the
guarantee fund's claim.

Eligible loans take one of the borrower's `loan.max_subsidized_loans` slots, which the store
shares across every loan case of the borrower, so concurrent grants never pass the limit. The
kind pays by stating what it owes per interest period (`owed`): a second report of a period, an
extension learnt late or a default after a period was paid become corrections in the ledger.
A loan of an enterprise with no registration on file is rejected without a fact (POLICY.md part
2): the registration arriving within intake.late_fact_days reopens it with its original dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import LoanExtended, LoanGranted, LoanInterestCharged
    from policy import enterprise_profile, startup_loan
    from policy.calendar import business_date
    from policy.corrections import Owed, replaces
    from workflows._decisions import approval
    from workflows._states import StartupLoanState
    from workflows.case_base import CaseWorkflow

KIND = kinds.STARTUP_LOAN_INTEREST
# Loans granted from here on listen, when rejected for want of the enterprise's registration, for
# it to arrive late (POLICY.md part 2); histories recorded before close for good.
LATE_FACTS = "k13-late-facts"
# Loans granted from here on take, of two reports of one period, the one announced last (not the
# one delivered last), and complete only on the report of the term's last period (one wholly
# after the term, delivered first, completed the case unpaid); histories recorded before keep
# their path.
ORDER_INDEPENDENT = "k13-order-independent"
# The bank's own events about the loan (routed by its key).
LOAN_EVENTS = ("loan.interest_charged", "loan.extended", "loan.repaid", "loan.defaulted")


@workflow.defn(name=KIND)
class StartupLoanInterestWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("loan.",)  # its parameters (case_base `context_scope`)
    State = StartupLoanState
    held_while_rejected = LOAN_EVENTS
    held_until = "paid with its own date if the loan reopens"
    st: StartupLoanState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Judge the loan on its grant date: the borrower and the terms, then one of the
        borrower's subsidised-loan slots; rejected closes the case with nothing paid."""
        granted = LoanGranted.model_validate(opening.data)
        loan = startup_loan.Loan.from_data(granted.model_dump())
        self.st.loan = loan
        self.subject = loan.borrower_subject
        self.keys = [startup_loan.loan_key(loan.loan_id)]
        self.city = granted.city
        self.opened_on = loan.granted_on
        self.note(loan.granted_on, f"loan {loan.loan_id} of {loan.principal} fen granted by bank {loan.bank_id} "
                  f"for {loan.term_months} months", event=opening.key)
        await self.load_context(self.city)
        assert self.params is not None
        self.st.late_facts = workflow.patched(LATE_FACTS)
        self.st.order_independent = workflow.patched(ORDER_INDEPENDENT)
        if self.st.late_facts and loan.borrower_kind == startup_loan.SMALL_ENTERPRISE:
            self.keys.append(self.subject)  # its registration reaches the loan (streams/routes/startup_loan.py)
        size = await self.enterprise_size(loan, loan.granted_on)
        reason = startup_loan.borrower_ineligibility(loan, size, self.params)
        if reason is None:
            reason = await self.take_slot(loan)
        if reason is not None:
            # Only a missing registration may still come (on its own topic); the rest is final.
            waits = self.st.late_facts and startup_loan.awaits_registration(loan, size, self.params)
            await self.close("rejected", loan.granted_on, reason, without_fact=waits)
            return
        self.note(loan.granted_on, f"eligible: subsidised term until {self.term_end()}", rule=startup_loan.RULE_SUBSIDY)
        await self.record("opened", on=loan.granted_on)

    async def enterprise_size(self, loan: startup_loan.Loan, by: date) -> str | None:
        """The size of an enterprise borrower as registered by `by` (None: an individual, or no
        registration on file)."""
        if loan.borrower_kind != startup_loan.SMALL_ENTERPRISE:
            return None
        facts = await self.load_facts([self.subject], [enterprise_profile.REGISTERED])
        registration = enterprise_profile.registration(loan.borrower, facts, by)
        return registration.size if registration is not None else None

    async def take_slot(self, loan: startup_loan.Loan) -> str | None:
        """One of the borrower's subsidised-loan slots; the refusal when they are used up."""
        assert self.params is not None
        slot = await self.take_slots((startup_loan.slot_scope(loan), startup_loan.max_loans(loan.granted_on, self.params)))
        return None if slot.taken else startup_loan.loans_used_up(slot.held[0], loan.granted_on, self.params)

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """A loan rejected for want of the enterprise's registration, judged again when it arrives
        as if it had come first: the registration reported by now counts on the grant date (it
        carries no date of its own). The bank's reports reaching the rejected loan are held and
        paid, with their own dates, if it reopens (`held_while_rejected`)."""
        loan = self.st.loan
        if loan is None or self.params is None:
            return False
        if ev.type != enterprise_profile.REGISTERED:
            return False
        size = await self.enterprise_size(loan, max(loan.granted_on, self.today()))
        if startup_loan.borrower_ineligibility(loan, size, self.params) is not None:
            return False
        refused = await self.take_slot(loan)
        if refused is not None:
            self.note(self.today(), "registered, but the borrower's subsidised loans are used up", rule=refused, event=ev.key)
            return False
        await self.reopen(startup_loan.RULE_ELIGIBLE, ev.key)
        self.note(loan.granted_on, f"eligible (registered {size}): subsidised term until {self.term_end()}", rule=startup_loan.RULE_SUBSIDY)
        await self.record("reopened", on=loan.granted_on)
        return True

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        assert self.params is not None
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        received = business_date(ev.time)
        if ev.type == "loan.interest_charged":
            charged = LoanInterestCharged.model_validate(ev.data)
            period = startup_loan.interest_period(charged.model_dump(by_alias=True))
            if self.st.order_independent:
                await self.take_report(period, ev)
                return
            replaced = period.period in self.st.reported
            self.st.reported[period.period] = (period, received)
            self.st.cause = ev.key
            self.note(received, f"interest {period.interest} fen for {period.period} ({period.from_} .. {period.to})"
                      + (" replaces the earlier report" if replaced else ""), event=ev.key)
        elif ev.type == "loan.extended":
            e = LoanExtended.model_validate(ev.data)
            extension = startup_loan.Extension(on=e.on, months=e.months, reason=e.reason)
            self.st.extensions.append(extension)
            self.st.cause = ev.key
            added = startup_loan.subsidised_extension(extension, self.params)
            self.note(e.on, f"extended by {e.months} months ({e.reason}): " + (
                f"subsidised term until {self.term_end()}" if added else "noted, not subsidised"), event=ev.key)
        elif ev.type == "loan.repaid":
            self.st.repaid_on = date.fromisoformat(ev.data["on"])
            self.note(self.st.repaid_on, "loan repaid", event=ev.key)
        elif ev.type == "loan.defaulted":
            on = date.fromisoformat(ev.data["on"])
            if self.st.defaulted_on is None or on < self.st.defaulted_on:
                self.st.defaulted_on = on
                self.st.cause = ev.key
                self.note(on, "loan defaulted: no subsidy for periods ending after it", rule=startup_loan.RULE_DEFAULTED, event=ev.key)
        else:
            self.note(received, f"{ev.type} does not concern this case", event=ev.key)

    async def take_report(self, period: startup_loan.InterestPeriod, ev: CaseEvent) -> None:
        """A report of a period stands unless one announced later was taken already (POLICY.md
        part 2: a corrected report replaces an earlier one, whatever order they arrive in); the
        period keeps the day it was first reported (its subsidy falls due then)."""
        received = business_date(ev.time)
        known = self.st.announced.get(period.period)
        first = self.st.reported.get(period.period)
        what = f"interest {period.interest} fen for {period.period} ({period.from_} .. {period.to})"
        if known is not None and not replaces(ev.time, ev.key, *known):
            await self.refuse(received, ev, f"{what}: announced before the report that stands ({business_date(known[0])}), "
                              "which it does not replace")
            return
        self.st.reported[period.period] = (period, min(first[1], received) if first else received)
        self.st.announced[period.period] = (ev.time, ev.key)
        self.st.cause = ev.key
        self.note(received, what + (" replaces the earlier report" if first else ""), event=ev.key)

    def term_over(self) -> bool:
        """The subsidised term's last period is reported (paid by the reconciliation before it):
        the period holding the term's last day; a case opened before `k13-order-independent`
        took any period reaching it, also one wholly after the term."""
        ends = self.term_end()
        reaches = startup_loan.holds_last_day if self.st.order_independent else startup_loan.term_paid_out
        return any(reaches(period, ends) for period, _ in self.st.reported.values())

    # -- what is owed --------------------------------------------------------------------------
    def term_end(self) -> date:
        assert self.st.loan is not None and self.params is not None
        return startup_loan.term_end(self.st.loan, startup_loan.subsidised_months(self.st.extensions, self.params))

    def owed(self, today: date) -> list[Owed] | None:
        if self.st.loan is None or self.params is None:
            return None
        return startup_loan.owed(self.st.loan, self.st.reported, self.st.extensions, self.st.defaulted_on, self.params)

    def removal_rule(self) -> str:
        return startup_loan.RULE_DEFAULTED

    async def settle(self, today: date) -> None:
        """Reconcile the reported periods; then a repayment closes the case, a default raises the
        guarantee review (the case closes `defaulted` when it is decided), and a paid period
        reaching the end of the subsidised term completes it."""
        await self.reconcile_owed(today, self.st.cause)
        if self.st.repaid_on is not None:
            await self.close("repaid", self.st.repaid_on, "loan repaid")
        elif self.st.defaulted_on is not None:
            if self.st.claim_task is None:
                task = await self.raise_task(startup_loan.GUARANTEE_CLAIM_TASK, today, {
                    "rule": startup_loan.RULE_GUARANTEE_CLAIM, "loan_id": self.st.loan.loan_id if self.st.loan else None,
                    "bank": startup_loan.payee(self.st.loan.bank_id) if self.st.loan else None,
                    "defaulted_on": self.st.defaulted_on.isoformat(),
                })
                self.st.claim_task = task.task_id
        elif self.term_over():
            await self.close("completed", today, f"the subsidised term ended on {self.term_end()} and its last period is paid")

    # -- the guarantee review --------------------------------------------------------------------
    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """The guarantee fund's claim is approved or denied, with a reason."""
        if task.kind != startup_loan.GUARANTEE_CLAIM_TASK:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        approval(decision)

    async def act_on(self, decision: TaskDecision) -> None:
        if decision.task_id != self.st.claim_task or not self.is_open:
            return
        verdict = "approved" if approval(decision) else "denied"
        reason = str(decision.decision["reason"]).strip()
        self.note(self.today(), f"guarantee claim {verdict} by {decision.decided_by}: {reason}", rule=startup_loan.RULE_GUARANTEE_CLAIM)
        assert self.st.defaulted_on is not None
        await self.close("defaulted", self.today(), f"defaulted on {self.st.defaulted_on}; guarantee claim {verdict}")

    # -- views -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        loan = self.st.loan
        if loan is None or self.params is None:
            return {}
        return {
            "loan_id": loan.loan_id,
            "bank": startup_loan.payee(loan.bank_id),
            "borrower_kind": loan.borrower_kind,
            "principal": loan.principal,
            "rate_bp": loan.rate_bp,
            "lpr_bp": loan.lpr_bp,
            "term_end": self.term_end().isoformat(),
            "periods_reported": sorted(self.st.reported),
            "repaid_on": self.st.repaid_on.isoformat() if self.st.repaid_on else None,
            "defaulted_on": self.st.defaulted_on.isoformat() if self.st.defaulted_on else None,
        }
