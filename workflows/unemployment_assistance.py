"""K3 unemployment_assistance (失业补助金, §18): opened by a K2 case (entitlement exhausted, or
an insured claimant who is not eligible), pays a share of the monthly benefit for `ua.months`
months from the day it opens, and ends `completed` or `reemployed`.

A case opened by this code pays by stating what it owes (`owed`, on the monthly schedule K2 uses)
and reconciling the ledger with it, so a re-employment dated before months already paid or a
backdated change of `ua.ratio` or `ui.monthly_benefit` makes arrears or an overpayment (POLICY.md
part 2); a case opened before pays month by month as it always did (paid stays paid)."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from policy import monthly_schedule, unemployment
    from policy.calendar import add_months, business_date
    from policy.corrections import Owed
    from policy.funds import Fund
    from workflows._person_facts import take_reemployment
    from workflows._states import AssistanceState
    from workflows.case_base import CaseWorkflow

KIND = kinds.UNEMPLOYMENT_ASSISTANCE

RULE_ASSISTANCE = "§18 失业补助金: ua.ratio × ui.monthly_benefit at the start of each assistance month"
RULE_NOT_OWED = "POLICY.md K3: re-employment stops assistance from the next month"
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k3-reconcile-owed"


@workflow.defn(name=KIND)
class UnemploymentAssistanceWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, the benefit it is a ratio of.
    parameter_scope = ("ua.", "ui.monthly_benefit")
    State = AssistanceState
    st: AssistanceState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        d = opening.data
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.person_id = d["person_id"]
        self.st.reason = d["reason"]
        self.st.ui_case_id = d.get("ui_case_id")
        self.subject = f"person/{self.st.person_id}"
        self.city = d["city"]
        self.opened_on = date.fromisoformat(d["opens_on"])
        # Registered under the person so that re-employment signals reach this case.
        self.keys = [self.subject]
        await self.record("opened", on=self.opened_on)
        await self.load_context(self.city)
        assert self.params is not None
        self.st.months = unemployment.assistance_months(self.params, self.opened_on)
        self.note(
            self.opened_on,
            f"opened by {self.st.ui_case_id} ({self.st.reason}): {self.st.months} months from {self.opened_on}",
            rule="§18 对领取失业保险金期满仍未就业、不符合领取失业保险金条件的参保失业人员，发放失业补助金",
            event=opening.key,
        )
        await self.record("updated", on=self.opened_on)
        if self.today() > self.opened_on:
            await self.gather_burst()

    async def apply(self, ev: CaseEvent) -> None:
        assert self.opened_on is not None
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if ev.type in unemployment.REEMPLOYMENT_TYPES:
            take_reemployment(self, ev, self.opened_on, "payment stops from the next month")
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    # -- rules -------------------------------------------------------------------------------
    def month_start(self, n: int) -> date:
        assert self.opened_on is not None
        return monthly_schedule.month_start(self.opened_on, n)

    def period_end(self) -> date:
        assert self.opened_on is not None
        return add_months(self.opened_on, self.st.months)

    def payable(self, n: int) -> bool:
        return n <= self.st.months and unemployment.month_paid_before_stop(self.month_start(n), self.st.reemployed_on)

    def deadline(self) -> date | None:
        if not self.st.months:
            return None  # opening: the months are not known yet
        candidates = [self.period_end()]
        if self.st.reemployed_on is not None:
            candidates.append(self.st.reemployed_on)
        if self.payable(self.st.months_paid + 1):
            candidates.append(self.month_start(self.st.months_paid + 1))
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay the months started by `today`; then re-employment (before the period end) or the
        period end closes the case."""
        await self.pay_due(today)
        end = self.period_end()
        if self.st.reemployed_on is not None and self.st.reemployed_on < end and self.st.reemployed_on <= today:
            await self.close("reemployed", self.st.reemployed_on, f"re-employed on {self.st.reemployed_on} after {self.st.months_paid} months")
        elif today >= end:
            await self.close("completed", end, f"{self.st.months_paid} of {self.st.months} months paid")

    async def pay_due(self, today: date) -> None:
        if self.st.reconciles:
            for row in await self.reconcile_owed(today, self.st.cause):
                if row.entry == "payment":
                    self.st.months_paid = max(self.st.months_paid, monthly_schedule.month_number(row.period))
            return
        while self.payable(self.st.months_paid + 1) and self.month_start(self.st.months_paid + 1) <= today:
            await self.pay_month(self.st.months_paid + 1)

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """The assistance of every month due by `today` on the facts known now; None for a case
        that pays the old way (or while its months are not known)."""
        if not self.st.reconciles or not self.st.months or self.opened_on is None or self.params is None:
            return None
        months = unemployment.assistance_months_due(today, self.opened_on, self.st.months, self.st.reemployed_on)
        return unemployment.assistance_owed(payee=self.subject, opened_on=self.opened_on, months=months, params=self.params,
                                  rule=RULE_ASSISTANCE)

    def removal_rule(self) -> str:
        return RULE_NOT_OWED

    async def pay_month(self, n: int) -> None:
        assert self.params is not None
        start = self.month_start(n)
        await self.pay(
            payee=self.subject,
            program=unemployment.PROGRAM_ASSISTANCE,
            period=f"month-{n}",
            amount=unemployment.assistance_amount(start, self.params),
            fund=str(Fund.UI),
            due_on=start,
            rule=RULE_ASSISTANCE,
        )
        self.st.months_paid = n

    # -- views and continue-as-new -----------------------------------------------------------
    def details(self) -> dict[str, Any]:
        if self.opened_on is None:
            return {}
        return {
            "reason": self.st.reason,
            "ui_case_id": self.st.ui_case_id,
            "months": self.st.months,
            "months_paid": self.st.months_paid,
            "period_end": self.period_end().isoformat() if self.st.months else None,
            "reemployed_on": self.st.reemployed_on.isoformat() if self.st.reemployed_on else None,
        }
