"""K2 unemployment_insurance (失业保险金, §18): one claim, its monthly benefit with the epidemic
uplift and price linkage, and its ending (re-employed, exhausted → K3, retired, ineligible → K3).

A claim can run for years (24 months and then to retirement), so the case continues as new at a
quiet point of its loop and carries everything it has decided.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import UiClaimFiled
    from policy import unemployment as ui
    from policy.calendar import business_date
    from policy.funds import Fund
    from workflows.case_base import CaseWorkflow

KIND = "unemployment_insurance"
ASSISTANCE_KIND = "unemployment_assistance"
# The internal event by which a K2 case opens a K3 case (never a Kafka input).
ASSISTANCE_REFERRAL = "ui.assistance.referred"

RULE_BENEFIT = "§18 失业保险金: ui.monthly_benefit at the start of each benefit month"
RULE_UPLIFT = "§18 临时性提高发放标准至疫情解除后3个月: months starting in [S, L + 3 months)"
RULE_UPLIFT_LATE = "§18 uplift owed for a month already paid, after a late or corrected epidemic date"
RULE_LINKAGE = "§18 价格联动: once per case for the month in which it pays benefit"
RULE_CONTINUATION = "§18 距离法定退休年龄不足1年的，可继续领取失业保险金直至法定退休年龄"


@workflow.defn(name=KIND)
class UnemploymentInsuranceWorkflow(CaseWorkflow):
    kind = KIND

    def __init__(self) -> None:
        super().__init__()
        self.claim: UiClaimFiled | None = None
        self.by_contribution = 0
        self.carried_over = 0
        self.entitlement = 0
        self.eligible = True
        self.months_paid = 0
        self.uplift_paid: set[int] = set()
        self.linkages: dict[str, ui.PriceLinkage] = {}
        self.linkage_paid: set[str] = set()
        self.reemployed_on: date | None = None
        self.continuation = False
        self.assistance_case_id: str | None = None
        self.assistance: workflow.ChildWorkflowHandle[Any, Any] | None = None
        # The business date of the last epidemic fact received while running: an uplift that
        # becomes owed for a month already paid falls due then.
        self.epidemic_learned_on: date | None = None

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        self.begin(inp)
        if not self.restored and not await self.open():
            return await self.outcome_after_assistance()
        while self.is_open:
            for ev in self.take_pending():
                await self.apply(ev)
            await self.settle(self.today())
            if not self.is_open:
                break
            self.next_deadline = self.deadline()
            await self.continue_as_new_if_long()
            await self.wait_for_event(self.next_deadline)
        return await self.outcome_after_assistance()

    # -- opening -----------------------------------------------------------------------------
    async def open(self) -> bool:
        """Judge the claim; False if the case closed at once (ineligible)."""
        opening = await self.next_event()
        claim = UiClaimFiled.model_validate(opening.data)
        self.claim = claim
        self.subject = f"person/{claim.person_id}"
        self.city = claim.city
        self.opened_on = claim.claim_on
        self.keys = [self.subject]
        self.note(
            claim.claim_on,
            f"claim filed: {claim.insured_months} insured months, "
            f"{'involuntary' if claim.involuntary else 'voluntary'} separation, retirement {claim.retirement_date}",
            event=opening.key,
        )
        # Recorded before the context is read: a price linkage stored after that read finds this
        # case open and signals it, one stored before it is in the context.
        await self.record("opened", on=claim.claim_on)
        context = await self.load_context(claim.city)
        for linkage in context.price_linkages:
            self.learn_linkage(ui.PriceLinkage(month=linkage.month, amount=linkage.amount, triggered_on=linkage.triggered_on))
        params = self.params
        assert params is not None
        previous = [c.summary for c in await self.case_history([KIND]) if c.closed_on is not None]
        self.carried_over = ui.unused_months_of_previous(previous)
        self.by_contribution = ui.months_by_contribution(claim.insured_months, params, claim.claim_on)

        if not ui.eligible(claim.insured_months, claim.involuntary, params, claim.claim_on):
            self.eligible = False
            reason = (
                f"{claim.insured_months} insured months give no entitlement (ui.months_by_contribution)"
                if self.by_contribution == 0
                else "voluntary separation"
            )
            if ui.is_insured(claim.insured_months):
                await self.refer_to_assistance(claim.claim_on, "ineligible")
            else:
                self.note(claim.claim_on, "never insured: no unemployment assistance either", rule="§18 参保失业人员")
            if self.carried_over:
                self.note(claim.claim_on, f"{self.carried_over} unused months from the previous claim stay unused")
            await self.close("ineligible", claim.claim_on, f"POLICY.md K2: not eligible: {reason}")
            return False

        self.entitlement = ui.entitlement_months(claim.insured_months, self.carried_over, params, claim.claim_on)
        self.note(
            claim.claim_on,
            f"entitled to {self.entitlement} months: {self.by_contribution} by contribution"
            + (f" + {self.carried_over} unused from the previous claim" if self.carried_over else "")
            + (f" (capped at {params.get('ui.carry_over_cap_months', claim.claim_on)})"
               if self.entitlement < self.by_contribution + self.carried_over else ""),
            rule="失业保险条例 §17; carry-over 合并计算 capped at ui.carry_over_cap_months",
        )
        self.next_deadline = self.deadline()
        await self.record("updated", on=claim.claim_on)
        if self.today() > claim.claim_on:
            await self.gather_burst()
        return True

    # -- inputs ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        c = self.claim
        assert c is not None
        if self.apply_shared_fact(ev):
            if ev.type.startswith("policy.epidemic."):
                # Nothing to re-aim: the deadlines are the month starts; the amount of each later
                # month and any uplift owed for paid months follow from the dates in settle().
                self.epidemic_learned_on = business_date(ev.time)
            return
        if ev.type == "policy.price_linkage.triggered":
            if ev.data.get("city") != self.city:
                self.note(business_date(ev.time), f"price linkage of city {ev.data.get('city')}: not this case's", event=ev.key)
                return
            self.learn_linkage(ui.PriceLinkage(month=ev.data["month"], amount=ev.data["amount"], triggered_on=business_date(ev.time)), ev.key)
        elif ev.type in ui.REEMPLOYMENT_TYPES:
            self.learn_reemployment(ev)
        elif ev.type == "ui.claim.filed":
            self.note(business_date(ev.time), "the same claim filed again: no effect", event=ev.key)
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    def learn_linkage(self, linkage: ui.PriceLinkage, event: str | None = None) -> None:
        if linkage.month in self.linkages:
            # "gets the amount once": a second trigger for the same month changes nothing.
            self.note(linkage.triggered_on, f"price linkage for {linkage.month} triggered again: no effect", event=event)
            return
        self.linkages[linkage.month] = linkage
        self.note(linkage.triggered_on, f"price linkage {linkage.amount} fen for {linkage.month}", rule=RULE_LINKAGE, event=event)

    def learn_reemployment(self, ev: CaseEvent) -> None:
        c = self.claim
        assert c is not None
        on = ui.reemployment_date(ev.type, ev.data, c.claim_on)
        if on is None:
            self.note(business_date(ev.time), f"{ev.type}: no re-employment after the claim", event=ev.key)
            return
        if self.reemployed_on is not None and self.reemployed_on <= on:
            self.note(on, f"{ev.type}: re-employed already on {self.reemployed_on}", event=ev.key)
            return
        self.reemployed_on = on
        self.note(on, f"re-employed ({ev.type}): payment stops from the next benefit month", rule="POLICY.md K2 re-employment", event=ev.key)
        late = [n for n in range(1, self.months_paid + 1) if ui.benefit_month_start(c.claim_on, n) > on]
        if late:
            # Paid stays paid: recovering an overpayment is not this system's business.
            self.note(on, f"months {late[0]}..{late[-1]} were paid before the re-employment was known")

    # -- rules -------------------------------------------------------------------------------
    def payable(self, n: int) -> bool:
        """Whether benefit month n is paid, as far as is known now."""
        c = self.claim
        assert c is not None
        start = ui.benefit_month_start(c.claim_on, n)
        return (
            ui.before_retirement(start, c.retirement_date)
            and ui.month_paid_before_stop(start, self.reemployed_on)
            and (n <= self.entitlement or self.continuation)
        )

    def endings(self) -> list[tuple[date, int, str]]:
        """(day, tie-break, what) of every ending still ahead: re-employment, retirement, and the
        end of entitlement (a re-employed person is not exhausted on the same day; a person
        retiring the day entitlement ends retires)."""
        c = self.claim
        assert c is not None
        # A claim filed on or after the retirement date closes at once, on the claim date.
        found = [(max(c.retirement_date, c.claim_on), 1, "retired")]
        if self.reemployed_on is not None:
            found.append((self.reemployed_on, 0, "reemployed"))
        if not self.continuation:
            found.append((ui.entitlement_end(c.claim_on, self.entitlement), 2, "entitlement_end"))
        return sorted(found)

    def deadline(self) -> date | None:
        """The next day something falls due: a month start, or an ending."""
        c = self.claim
        assert c is not None
        candidates = [d for d, _, _ in self.endings()]
        n = self.months_paid + 1
        if self.payable(n):
            candidates.append(ui.benefit_month_start(c.claim_on, n))
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay what fell due by `today`, then act on the first ending due by then."""
        c = self.claim
        assert c is not None and self.params is not None
        while self.is_open:
            await self.pay_due(today)
            due = [e for e in self.endings() if e[0] <= today]
            if not due:
                return
            on, _, what = due[0]
            if what == "reemployed":
                await self.close("reemployed", on, f"re-employed on {on}: {self.unused_months()} unused months kept for a later claim")
            elif what == "retired":
                await self.close("retired", on, f"retirement on {on}: no benefit month starting on or after it")
            elif ui.continues_to_retirement(c.retirement_date, on, self.params):
                self.continuation = True
                self.note(on, f"entitlement ended within a year of retirement on {c.retirement_date}: benefit continues", rule=RULE_CONTINUATION)
                await self.record("extended", on=on)
            else:
                await self.refer_to_assistance(on, "exhausted")
                await self.close("exhausted", on, f"{self.entitlement} months drawn; not within a year of retirement")

    async def pay_due(self, today: date) -> None:
        c = self.claim
        assert c is not None
        while self.payable(self.months_paid + 1) and ui.benefit_month_start(c.claim_on, self.months_paid + 1) <= today:
            await self.pay_month(self.months_paid + 1)
        await self.pay_uplift_owed(today)
        await self.pay_linkages(today)

    async def pay_month(self, n: int) -> None:
        c = self.claim
        assert c is not None and self.params is not None
        start = ui.benefit_month_start(c.claim_on, n)
        rule = RULE_BENEFIT if n <= self.entitlement else RULE_CONTINUATION
        await self.pay(
            payee=self.subject,
            program=ui.PROGRAM_BENEFIT,
            period=f"month-{n}",
            amount=ui.monthly_benefit(start, self.params),
            fund=str(Fund.UI),
            due_on=start,
            rule=rule,
        )
        self.months_paid = n
        if self.uplift_owed(n):
            await self.pay_uplift(n, start, RULE_UPLIFT)

    def uplift_owed(self, n: int) -> bool:
        c = self.claim
        assert c is not None and self.params is not None
        start = ui.benefit_month_start(c.claim_on, n)
        return n not in self.uplift_paid and ui.uplift_applies(
            start, self.epidemic.declared_on, self.epidemic.lifted_on, self.params
        )

    async def pay_uplift(self, n: int, due_on: date, rule: str) -> None:
        c = self.claim
        assert c is not None and self.params is not None
        await self.pay(
            payee=self.subject,
            program=ui.PROGRAM_UPLIFT,
            period=f"month-{n}",
            amount=ui.epidemic_uplift(ui.benefit_month_start(c.claim_on, n), self.params),
            fund=str(Fund.UI),
            due_on=due_on,
            rule=rule,
        )
        self.uplift_paid.add(n)

    async def pay_uplift_owed(self, today: date) -> None:
        """A lift date corrected to a later day (or a declaration learnt late) makes the uplift
        owed for months already paid without it: paid now. The reverse never takes money back
        (paid stays paid)."""
        c = self.claim
        assert c is not None
        for n in range(1, self.months_paid + 1):
            if self.uplift_owed(n):
                start = ui.benefit_month_start(c.claim_on, n)
                await self.pay_uplift(n, max(start, self.epidemic_learned_on or today), RULE_UPLIFT_LATE)

    async def pay_linkages(self, today: date) -> None:
        c = self.claim
        assert c is not None
        for month, linkage in sorted(self.linkages.items()):
            if month in self.linkage_paid:
                continue
            n = ui.linked_benefit_month(c.claim_on, month, self.months_paid)
            if n is None:
                continue
            start = ui.benefit_month_start(c.claim_on, n)
            await self.pay(
                payee=self.subject,
                program=ui.PROGRAM_PRICE_LINKAGE,
                period=ui.price_linkage_period(month),
                amount=linkage.amount,
                fund=str(Fund.UI),
                due_on=max(start, linkage.triggered_on),
                rule=RULE_LINKAGE,
            )
            self.linkage_paid.add(month)

    async def refer_to_assistance(self, on: date, reason: str) -> None:
        """Open the person's K3 case on `on`, unless that is after `ua.window_until`."""
        c = self.claim
        assert c is not None and self.params is not None
        if not ui.assistance_window_open(on, self.params):
            self.note(
                on,
                f"no unemployment assistance: it would open on {on}, after ua.window_until "
                f"{self.params.day('ua.window_until', on)}",
                rule="POLICY.md K3: not opened after ua.window_until",
            )
            return
        case_id = f"ua/{c.person_id}/{on.isoformat()}"
        opening = self.internal_event(
            ASSISTANCE_REFERRAL,
            {
                "person_id": c.person_id,
                "city": c.city,
                "opens_on": on.isoformat(),
                "reason": reason,
                "ui_case_id": self.case_id,
                "retirement_date": c.retirement_date.isoformat(),
            },
            suffix="assistance",
        )
        self.assistance = await self.open_case(ASSISTANCE_KIND, case_id, opening)
        self.assistance_case_id = case_id

    # -- views and continue-as-new -----------------------------------------------------------
    def unused_months(self) -> int:
        """Entitlement months not drawn; an ineligible claim leaves the carried months unused."""
        if not self.eligible:
            return self.carried_over
        return max(0, self.entitlement - self.months_paid)

    def details(self) -> dict[str, Any]:
        c = self.claim
        if c is None:
            return {}
        return {
            "claim_on": c.claim_on.isoformat(),
            "insured_months": c.insured_months,
            "involuntary": c.involuntary,
            "retirement_date": c.retirement_date.isoformat(),
            "months_by_contribution": self.by_contribution,
            "carried_over_months": self.carried_over,
            "entitlement_months": self.entitlement,
            "months_paid": self.months_paid,
            "unused_months": self.unused_months(),
            "continuation": self.continuation,
            "reemployed_on": self.reemployed_on.isoformat() if self.reemployed_on else None,
            "uplift_months": sorted(self.uplift_paid),
            "price_linkage_months": sorted(self.linkage_paid),
            "assistance_case_id": self.assistance_case_id,
        }

    def carry(self) -> dict[str, Any]:
        c = self.claim
        assert c is not None
        return {
            **super().carry(),
            "claim": c.model_dump(mode="json"),
            "by_contribution": self.by_contribution,
            "carried_over": self.carried_over,
            "entitlement": self.entitlement,
            "months_paid": self.months_paid,
            "uplift_paid": sorted(self.uplift_paid),
            "linkages": [
                {"month": x.month, "amount": x.amount, "triggered_on": x.triggered_on.isoformat()} for x in self.linkages.values()
            ],
            "linkage_paid": sorted(self.linkage_paid),
            "reemployed_on": self.reemployed_on.isoformat() if self.reemployed_on else None,
            "continuation": self.continuation,
            "epidemic_learned_on": self.epidemic_learned_on.isoformat() if self.epidemic_learned_on else None,
        }

    def restore(self, carried: dict[str, Any]) -> None:
        super().restore(carried)
        self.claim = UiClaimFiled.model_validate(carried["claim"])
        self.by_contribution = carried["by_contribution"]
        self.carried_over = carried["carried_over"]
        self.entitlement = carried["entitlement"]
        self.months_paid = carried["months_paid"]
        self.uplift_paid = set(carried["uplift_paid"])
        self.linkages = {
            x["month"]: ui.PriceLinkage(month=x["month"], amount=x["amount"], triggered_on=date.fromisoformat(x["triggered_on"]))
            for x in carried["linkages"]
        }
        self.linkage_paid = set(carried["linkage_paid"])
        self.reemployed_on = date.fromisoformat(carried["reemployed_on"]) if carried["reemployed_on"] else None
        self.continuation = carried["continuation"]
        self.epidemic_learned_on = (
            date.fromisoformat(carried["epidemic_learned_on"]) if carried["epidemic_learned_on"] else None
        )

    async def outcome_after_assistance(self) -> CaseOutcome:
        """The outcome, returned once the K3 case this one opened (if any) has ended.

        The case is closed already (read model, keys, lifecycle); only the workflow waits.
        Temporal's time-skipping test server, which `jiuye simulate` and the workflow tests run
        on, never releases its time-skipping lock when an abandoned child completes after its
        parent closed (temporalio/sdk-java#2392), and all later timers would hang. Waiting costs
        one idle workflow per K3 case (at most `ua.months`) on a real server."""
        if self.assistance is not None:
            try:
                await self.assistance
            except ChildWorkflowError:
                # The K3 case's failure is its own (it shows there); this one stays as it closed.
                pass
        return self.outcome()

    def outcome(self) -> CaseOutcome:
        return CaseOutcome(case_id=self.case_id, status=self.status, paid_fen=self.paid_fen)
