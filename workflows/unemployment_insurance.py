"""K2 unemployment_insurance (失业保险金, §18): one claim, its monthly benefit with the epidemic
uplift and price linkage, and its ending (re-employed, exhausted → K3, retired, ineligible → K3).

A case opened by this code pays by stating what it owes (`owed`) and reconciling the ledger with
it, so a fact dated in the past, a corrected lift date or a backdated parameter change makes
arrears or an overpayment (POLICY.md part 2); a case opened before pays month by month as it
always did (`paid stays paid`).

A claim can run for years (24 months and then to retirement), so the case continues as new at a
quiet point of its loop and carries everything it has decided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome
    from contracts.events import UiClaimFiled
    from policy import unemployment
    from policy.calendar import business_date
    from policy.corrections import Owed
    from policy.funds import Fund
    from policy.monthly_schedule import month_number, month_start
    from workflows._states import InsuranceState
    from workflows.case_base import CaseWorkflow

KIND = kinds.UNEMPLOYMENT_INSURANCE
# The internal event by which a K2 case opens a K3 case (never a Kafka input).
ASSISTANCE_REFERRAL = "ui.assistance.referred"

RULE_BENEFIT = "§18 失业保险金: ui.monthly_benefit at the start of each benefit month"
RULE_UPLIFT = "§18 临时性提高发放标准至疫情解除后3个月: months starting in [S, L + 3 months)"
RULE_UPLIFT_LATE = "§18 uplift owed for a month already paid, after a late or corrected epidemic date"
RULE_LINKAGE = "§18 价格联动: once per case for the month in which it pays benefit"
RULE_CONTINUATION = "§18 距离法定退休年龄不足1年的，可继续领取失业保险金直至法定退休年龄"
RULE_NOT_OWED = "POLICY.md K2: no benefit for a month starting after re-employment or on or after retirement"
RULE_LINKAGE_NOT_OWED = "§18 价格联动: no linkage for a calendar month in which the case pays no benefit"
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k2-reconcile-owed"
# Cases opened from here on (and reconciling) count the price linkage in what they owe; those
# opened under RECONCILE_OWED alone pay it beside reconciliation, as they always did.
LINKAGE_OWED = "k2-price-linkage-owed"


@workflow.defn(name=KIND)
class UnemploymentInsuranceWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, the window K3 opens in (ua.window_until).
    parameter_scope = ("ui.", "ua.window_until")
    State = InsuranceState
    st: InsuranceState

    def __init__(self) -> None:
        super().__init__()
        # The K3 case this one opened (not carried: it opens as the case closes).
        self.assistance: workflow.ChildWorkflowHandle[Any, Any] | None = None

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Judge the claim; closes the case at once if ineligible."""
        claim = UiClaimFiled.model_validate(opening.data)
        self.st.claim = claim
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.st.links_owed = self.st.reconciles and workflow.patched(LINKAGE_OWED)
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
            self.learn_linkage(unemployment.PriceLinkage(month=linkage.month, amount=linkage.amount, triggered_on=linkage.triggered_on))
        params = self.params
        assert params is not None
        previous = [c.summary for c in await self.case_history([KIND]) if c.closed_on is not None]
        self.st.carried_over = unemployment.unused_months_of_previous(previous)
        self.st.by_contribution = unemployment.months_by_contribution(claim.insured_months, params, claim.claim_on)

        if not unemployment.eligible(claim.insured_months, claim.involuntary, params, claim.claim_on):
            self.st.eligible = False
            reason = (
                f"{claim.insured_months} insured months give no entitlement (ui.months_by_contribution)"
                if self.st.by_contribution == 0
                else "voluntary separation"
            )
            if unemployment.is_insured(claim.insured_months):
                await self.refer_to_assistance(claim.claim_on, "ineligible")
            else:
                self.note(claim.claim_on, "never insured: no unemployment assistance either", rule="§18 参保失业人员")
            if self.st.carried_over:
                self.note(claim.claim_on, f"{self.st.carried_over} unused months from the previous claim stay unused")
            await self.close("ineligible", claim.claim_on, f"POLICY.md K2: not eligible: {reason}")
            return

        self.st.entitlement = unemployment.entitlement_months(claim.insured_months, self.st.carried_over, params, claim.claim_on)
        self.note(
            claim.claim_on,
            f"entitled to {self.st.entitlement} months: {self.st.by_contribution} by contribution"
            + (f" + {self.st.carried_over} unused from the previous claim" if self.st.carried_over else "")
            + (f" (capped at {params.get('ui.carry_over_cap_months', claim.claim_on)})"
               if self.st.entitlement < self.st.by_contribution + self.st.carried_over else ""),
            rule="失业保险条例 §17; carry-over 合并计算 capped at ui.carry_over_cap_months",
        )
        await self.record("updated", on=claim.claim_on)
        if self.today() > claim.claim_on:
            await self.gather_burst()

    # -- inputs ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        c = self.st.claim
        assert c is not None
        if self.apply_shared_fact(ev):
            if ev.type.startswith("policy.epidemic."):
                # Nothing to re-aim: the deadlines are the month starts; the amount of each later
                # month and any correction of paid months follow from the dates in settle().
                self.st.epidemic_learned_on = business_date(ev.time)
            self.st.cause = ev.key
            return
        if ev.type == "policy.price_linkage.triggered":
            if ev.data.get("city") != self.city:
                self.note(business_date(ev.time), f"price linkage of city {ev.data.get('city')}: not this case's", event=ev.key)
                return
            linkage = unemployment.PriceLinkage(month=ev.data["month"], amount=ev.data["amount"], triggered_on=business_date(ev.time))
            if self.learn_linkage(linkage, ev.key) and self.st.links_owed:
                self.st.cause = ev.key  # what is owed changed: named on the corrections it makes
        elif ev.type in unemployment.REEMPLOYMENT_TYPES:
            self.learn_reemployment(ev)
        elif ev.type == "ui.claim.filed":
            self.note(business_date(ev.time), "the same claim filed again: no effect", event=ev.key)
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    def learn_linkage(self, linkage: unemployment.PriceLinkage, event: str | None = None) -> bool:
        """Take a price linkage; False for a second trigger of a month already known."""
        if any(known.month == linkage.month for known in self.st.linkages):
            # "gets the amount once": a second trigger for the same month changes nothing.
            self.note(linkage.triggered_on, f"price linkage for {linkage.month} triggered again: no effect", event=event)
            return False
        self.st.linkages.append(linkage)
        self.note(linkage.triggered_on, f"price linkage {linkage.amount} fen for {linkage.month}", rule=RULE_LINKAGE, event=event)
        return True

    def learn_reemployment(self, ev: CaseEvent) -> None:
        c = self.st.claim
        assert c is not None
        on = unemployment.reemployment_date(ev.type, ev.data, c.claim_on)
        if on is None:
            self.note(business_date(ev.time), f"{ev.type}: no re-employment after the claim", event=ev.key)
            return
        if self.st.reemployed_on is not None and self.st.reemployed_on <= on:
            self.note(on, f"{ev.type}: re-employed already on {self.st.reemployed_on}", event=ev.key)
            return
        self.st.reemployed_on = on
        self.st.cause = ev.key
        self.note(on, f"re-employed ({ev.type}): payment stops from the next benefit month", rule="POLICY.md K2 re-employment", event=ev.key)
        late = [n for n in range(1, self.st.months_paid + 1) if month_start(c.claim_on, n) > on]
        if late and not self.st.reconciles:
            # A case opened before corrections: paid stays paid (one opened since overpays them).
            self.note(on, f"months {late[0]}..{late[-1]} were paid before the re-employment was known")

    # -- rules -------------------------------------------------------------------------------
    def payable(self, n: int) -> bool:
        """Whether benefit month n is paid, as far as is known now."""
        c = self.st.claim
        assert c is not None
        return unemployment.payable(n, c.claim_on, c.retirement_date, self.st.reemployed_on, self.st.entitlement, self.st.continuation)

    def endings(self) -> list[tuple[date, int, str]]:
        """(day, tie-break, what) of every ending still ahead: re-employment, retirement, and the
        end of entitlement (a re-employed person is not exhausted on the same day; a person
        retiring the day entitlement ends retires)."""
        c = self.st.claim
        assert c is not None
        # A claim filed on or after the retirement date closes at once, on the claim date.
        found = [(max(c.retirement_date, c.claim_on), 1, "retired")]
        if self.st.reemployed_on is not None:
            found.append((self.st.reemployed_on, 0, "reemployed"))
        if not self.st.continuation:
            found.append((unemployment.entitlement_end(c.claim_on, self.st.entitlement), 2, "entitlement_end"))
        return sorted(found)

    def deadline(self) -> date | None:
        """The next day something falls due: a month start, or an ending."""
        c = self.st.claim
        if c is None or self.params is None:
            return None  # opening: not judged yet
        candidates = [d for d, _, _ in self.endings()]
        n = self.st.months_paid + 1
        if self.payable(n):
            candidates.append(month_start(c.claim_on, n))
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay what fell due by `today`, then act on the first ending due by then."""
        c = self.st.claim
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
            elif unemployment.continues_to_retirement(c.retirement_date, on, self.params):
                self.st.continuation = True
                self.note(on, f"entitlement ended within a year of retirement on {c.retirement_date}: benefit continues", rule=RULE_CONTINUATION)
                await self.record("extended", on=on)
            else:
                await self.refer_to_assistance(on, "exhausted")
                await self.close("exhausted", on, f"{self.st.entitlement} months drawn; not within a year of retirement")

    async def pay_due(self, today: date) -> None:
        c = self.st.claim
        assert c is not None
        if self.st.reconciles:
            await self.pay_owed(today)
            if not self.st.links_owed:
                await self.pay_linkages(today)
            return
        while self.payable(self.st.months_paid + 1) and month_start(c.claim_on, self.st.months_paid + 1) <= today:
            await self.pay_month(self.st.months_paid + 1)
        await self.pay_uplift_owed(today)
        await self.pay_linkages(today)

    # -- what the case owes (cases opened by this code) ---------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Benefit and uplift of every benefit month due by `today` on the facts known now, and
        (a case opened under LINKAGE_OWED) the price linkage of those months; None for a case
        that pays the old way. An uplift that became owed for a month whose benefit was paid
        without it falls due the day the epidemic fact was learnt."""
        c = self.st.claim
        if not self.st.reconciles or c is None or self.params is None:
            return None
        months = unemployment.months_due(today, c.claim_on, c.retirement_date, self.st.reemployed_on, self.st.entitlement,
                               self.st.continuation)
        owed = unemployment.owed_by_month(
            payee=self.subject, claim_on=c.claim_on, months=months, entitlement=self.st.entitlement, params=self.params,
            declared_on=self.epidemic.declared_on, lifted_on=self.epidemic.lifted_on, benefit_rule=RULE_BENEFIT,
            continuation_rule=RULE_CONTINUATION, uplift_rule=RULE_UPLIFT,
        )
        paid = {(r.program, r.period) for r in self.ledger if r.entry == "payment"}
        learned_on = self.st.epidemic_learned_on
        owed = [
            replace(o, due_on=max(o.due_on, learned_on))
            if o.program == unemployment.PROGRAM_UPLIFT and learned_on is not None and (unemployment.PROGRAM_BENEFIT, o.period) in paid
            and (o.program, o.period) not in paid
            else o
            for o in owed
        ]
        if self.st.links_owed:
            owed += unemployment.linkage_owed(payee=self.subject, claim_on=c.claim_on, today=today, months=months,
                                    linkages=self.st.linkages, rule=RULE_LINKAGE, not_owed_rule=RULE_LINKAGE_NOT_OWED)
        return owed

    def removal_rule(self) -> str:
        return RULE_NOT_OWED

    async def pay_owed(self, today: date) -> None:
        """Reconcile, then count the months paid from the ledger (the next deadline and the
        price linkage follow them)."""
        for row in await self.reconcile_owed(today, self.st.cause):
            if row.entry != "payment":
                continue
            if row.program == unemployment.PROGRAM_BENEFIT:
                self.st.months_paid = max(self.st.months_paid, month_number(row.period))
            elif row.program == unemployment.PROGRAM_UPLIFT:
                self.st.uplift_paid.append(month_number(row.period))
            elif row.program == unemployment.PROGRAM_PRICE_LINKAGE:
                self.st.linkage_paid.append(unemployment.price_linkage_month(row.period))

    async def pay_month(self, n: int) -> None:
        c = self.st.claim
        assert c is not None and self.params is not None
        start = month_start(c.claim_on, n)
        rule = RULE_BENEFIT if n <= self.st.entitlement else RULE_CONTINUATION
        await self.pay(
            payee=self.subject,
            program=unemployment.PROGRAM_BENEFIT,
            period=f"month-{n}",
            amount=unemployment.monthly_benefit(start, self.params),
            fund=str(Fund.UI),
            due_on=start,
            rule=rule,
        )
        self.st.months_paid = n
        if self.uplift_owed(n):
            await self.pay_uplift(n, start, RULE_UPLIFT)

    def uplift_owed(self, n: int) -> bool:
        c = self.st.claim
        assert c is not None and self.params is not None
        start = month_start(c.claim_on, n)
        return n not in self.st.uplift_paid and unemployment.uplift_applies(
            start, self.epidemic.declared_on, self.epidemic.lifted_on, self.params
        )

    async def pay_uplift(self, n: int, due_on: date, rule: str) -> None:
        c = self.st.claim
        assert c is not None and self.params is not None
        await self.pay(
            payee=self.subject,
            program=unemployment.PROGRAM_UPLIFT,
            period=f"month-{n}",
            amount=unemployment.epidemic_uplift(month_start(c.claim_on, n), self.params),
            fund=str(Fund.UI),
            due_on=due_on,
            rule=rule,
        )
        self.st.uplift_paid.append(n)

    async def pay_uplift_owed(self, today: date) -> None:
        """A case opened before corrections: a lift date corrected to a later day (or a
        declaration learnt late) makes the uplift owed for months already paid without it: paid
        now. The reverse never takes money back (paid stays paid)."""
        c = self.st.claim
        assert c is not None
        for n in range(1, self.st.months_paid + 1):
            if self.uplift_owed(n):
                start = month_start(c.claim_on, n)
                await self.pay_uplift(n, max(start, self.st.epidemic_learned_on or today), RULE_UPLIFT_LATE)

    async def pay_linkages(self, today: date) -> None:
        """A case opened before LINKAGE_OWED: each linkage paid once with the benefit month that
        starts in its calendar month, beside reconciliation (paid stays paid)."""
        c = self.st.claim
        assert c is not None
        for linkage in sorted(self.st.linkages, key=lambda x: x.month):
            month = linkage.month
            if month in self.st.linkage_paid:
                continue
            n = unemployment.linked_benefit_month(c.claim_on, month, self.st.months_paid)
            if n is None:
                continue
            start = month_start(c.claim_on, n)
            await self.pay(
                payee=self.subject,
                program=unemployment.PROGRAM_PRICE_LINKAGE,
                period=unemployment.price_linkage_period(month),
                amount=linkage.amount,
                fund=str(Fund.UI),
                due_on=max(start, linkage.triggered_on),
                rule=RULE_LINKAGE,
            )
            self.st.linkage_paid.append(month)

    async def refer_to_assistance(self, on: date, reason: str) -> None:
        """Open the person's K3 case on `on`, unless that is after `ua.window_until`."""
        c = self.st.claim
        assert c is not None and self.params is not None
        if not unemployment.assistance_window_open(on, self.params):
            self.note(
                on,
                f"no unemployment assistance: it would open on {on}, after ua.window_until "
                f"{self.params.day('ua.window_until', on)}",
                rule="POLICY.md K3: not opened after ua.window_until",
            )
            return
        case_id = kinds.unemployment_assistance_case_id(c.person_id, on)
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
        self.assistance = await self.open_case(kinds.UNEMPLOYMENT_ASSISTANCE, case_id, opening)
        self.st.assistance_case_id = case_id

    # -- views and continue-as-new -----------------------------------------------------------
    def unused_months(self) -> int:
        """Entitlement months not drawn; an ineligible claim leaves the carried months unused."""
        if not self.st.eligible:
            return self.st.carried_over
        return max(0, self.st.entitlement - self.st.months_paid)

    def details(self) -> dict[str, Any]:
        c = self.st.claim
        if c is None:
            return {}
        return {
            "claim_on": c.claim_on.isoformat(),
            "insured_months": c.insured_months,
            "involuntary": c.involuntary,
            "retirement_date": c.retirement_date.isoformat(),
            "months_by_contribution": self.st.by_contribution,
            "carried_over_months": self.st.carried_over,
            "entitlement_months": self.st.entitlement,
            "months_paid": self.st.months_paid,
            "unused_months": self.unused_months(),
            "continuation": self.st.continuation,
            "reemployed_on": self.st.reemployed_on.isoformat() if self.st.reemployed_on else None,
            "uplift_months": sorted(self.st.uplift_paid),
            "price_linkage_months": sorted(self.st.linkage_paid),
            "assistance_case_id": self.st.assistance_case_id,
        }

    async def finish(self) -> CaseOutcome:
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
