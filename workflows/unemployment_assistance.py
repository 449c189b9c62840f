"""K3 unemployment_assistance (失业补助金, §18): opened by a K2 case (entitlement exhausted, or
an insured claimant who is not eligible), pays a share of the monthly benefit for `ua.months`
months from the day it opens, and ends `completed` or `reemployed`."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from policy import unemployment as ui
    from policy.calendar import add_months, business_date
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow

KIND = "unemployment_assistance"

RULE_ASSISTANCE = "§18 失业补助金: ua.ratio × ui.monthly_benefit at the start of each assistance month"


@workflow.defn(name=KIND)
class UnemploymentAssistanceWorkflow(CaseWorkflow):
    kind = KIND

    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.reason = ""
        self.ui_case_id: str | None = None
        self.months = 0
        self.months_paid = 0
        self.reemployed_on: date | None = None

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        self.begin(inp)
        if not self.restored:
            await self.open()
        while self.is_open:
            for ev in self.take_pending():
                self.apply(ev)
            await self.settle(self.today())
            if not self.is_open:
                break
            self.next_deadline = self.deadline()
            await self.continue_as_new_if_long()
            await self.wait_for_event(self.next_deadline)
        return self.outcome()

    async def open(self) -> None:
        opening = await self.next_event()
        d = opening.data
        self.person_id = d["person_id"]
        self.reason = d["reason"]
        self.ui_case_id = d.get("ui_case_id")
        self.subject = f"person/{self.person_id}"
        self.city = d["city"]
        self.opened_on = date.fromisoformat(d["opens_on"])
        # Registered under the person so that re-employment signals reach this case.
        self.keys = [self.subject]
        await self.record("opened", on=self.opened_on)
        await self.load_context(self.city)
        assert self.params is not None
        self.months = ui.assistance_months(self.params, self.opened_on)
        self.note(
            self.opened_on,
            f"opened by {self.ui_case_id} ({self.reason}): {self.months} months from {self.opened_on}",
            rule="§18 对领取失业保险金期满仍未就业、不符合领取失业保险金条件的参保失业人员，发放失业补助金",
            event=opening.key,
        )
        self.next_deadline = self.deadline()
        await self.record("updated", on=self.opened_on)
        if self.today() > self.opened_on:
            await self.gather_burst()

    def apply(self, ev: CaseEvent) -> None:
        assert self.opened_on is not None
        if self.apply_shared_fact(ev):
            return
        if ev.type in ui.REEMPLOYMENT_TYPES:
            on = ui.reemployment_date(ev.type, ev.data, self.opened_on)
            if on is None:
                self.note(business_date(ev.time), f"{ev.type}: no re-employment after the case opened", event=ev.key)
            elif self.reemployed_on is None or on < self.reemployed_on:
                self.reemployed_on = on
                self.note(on, f"re-employed ({ev.type}): payment stops from the next month", event=ev.key)
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    # -- rules -------------------------------------------------------------------------------
    def month_start(self, n: int) -> date:
        assert self.opened_on is not None
        return add_months(self.opened_on, n - 1)

    def period_end(self) -> date:
        assert self.opened_on is not None
        return add_months(self.opened_on, self.months)

    def payable(self, n: int) -> bool:
        return n <= self.months and ui.month_paid_before_stop(self.month_start(n), self.reemployed_on)

    def deadline(self) -> date:
        candidates = [self.period_end()]
        if self.reemployed_on is not None:
            candidates.append(self.reemployed_on)
        if self.payable(self.months_paid + 1):
            candidates.append(self.month_start(self.months_paid + 1))
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay the months started by `today`; then re-employment (before the period end) or the
        period end closes the case."""
        while self.payable(self.months_paid + 1) and self.month_start(self.months_paid + 1) <= today:
            await self.pay_month(self.months_paid + 1)
        end = self.period_end()
        if self.reemployed_on is not None and self.reemployed_on < end and self.reemployed_on <= today:
            await self.close("reemployed", self.reemployed_on, f"re-employed on {self.reemployed_on} after {self.months_paid} months")
        elif today >= end:
            await self.close("completed", end, f"{self.months_paid} of {self.months} months paid")

    async def pay_month(self, n: int) -> None:
        assert self.params is not None
        start = self.month_start(n)
        await self.pay(
            payee=self.subject,
            program=ui.PROGRAM_ASSISTANCE,
            period=f"month-{n}",
            amount=ui.assistance_amount(start, self.params),
            fund=str(Fund.UI),
            due_on=start,
            rule=RULE_ASSISTANCE,
        )
        self.months_paid = n

    # -- views and continue-as-new -----------------------------------------------------------
    def details(self) -> dict[str, Any]:
        if self.opened_on is None:
            return {}
        return {
            "reason": self.reason,
            "ui_case_id": self.ui_case_id,
            "months": self.months,
            "months_paid": self.months_paid,
            "period_end": self.period_end().isoformat() if self.months else None,
            "reemployed_on": self.reemployed_on.isoformat() if self.reemployed_on else None,
        }

    def carry(self) -> dict[str, Any]:
        return {
            **super().carry(),
            "person_id": self.person_id,
            "reason": self.reason,
            "ui_case_id": self.ui_case_id,
            "months": self.months,
            "months_paid": self.months_paid,
            "reemployed_on": self.reemployed_on.isoformat() if self.reemployed_on else None,
        }

    def restore(self, carried: dict[str, Any]) -> None:
        super().restore(carried)
        self.person_id = carried["person_id"]
        self.reason = carried["reason"]
        self.ui_case_id = carried["ui_case_id"]
        self.months = carried["months"]
        self.months_paid = carried["months_paid"]
        self.reemployed_on = date.fromisoformat(carried["reemployed_on"]) if carried["reemployed_on"] else None

    def outcome(self) -> CaseOutcome:
        return CaseOutcome(case_id=self.case_id, status=self.status, paid_fen=self.paid_fen)
