"""K5 public_welfare_post: one placement on a public-welfare post, its monthly post and
social-insurance subsidies, the supervisor's approval of a placement beyond the limit, the
2020 extension and its ending.

A case opened by this code pays by stating what it owes (`owed`: both subsidies of each month
completed on the post) and reconciling the ledger with it, so a leaving or a stable-employment
contract dated in the past, or a backdated subsidy change, makes an overpayment or arrears
(POLICY.md part 2); a case opened before pays month by month as it always did (paid stays paid).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import ContractSigned, WelfarePostLeft, WelfarePostPlaced
    from policy import difficult, subsidy_period, welfare_post
    from policy.corrections import Owed
    from policy.monthly_schedule import last_month_paid, month_start
    from policy.subsidy_period import Period
    from workflows._decisions import approval
    from workflows._person_facts import person_facts
    from workflows._states import APPROVAL_GRANTED, APPROVAL_PENDING, WelfarePostState
    from workflows.case_base import CaseWorkflow

KIND = kinds.PUBLIC_WELFARE_POST
# Cases opened from here on reconcile what they owe (histories recorded before pay month by month).
RECONCILE_OWED = "k5-reconcile-owed"
# A closed case that paid takes the late facts that reach it in its listening window (POLICY.md
# part 2: facts still correct a case up to ledger.correction_days after it closed); before this,
# `apply` ignored every event once the case closed (found by tests/workflow/test_order_independence.py).
LATE_FACTS_CORRECT = "k5-late-facts-correct"


@workflow.defn(name=KIND)
class PublicWelfarePostWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, K12: policy/difficult.py judges the person.
    parameter_scope = ("welfare_post.", "difficult.")
    # Leaving the post and a stable contract reach a placement rejected as not difficult to
    # employ too (its route gives them to every listening case): taken, with their own dates, if
    # a late K12 fact reopens it, so the reopened case ends where the person left. (Before, they
    # went to open cases only; no rejected case ever received one, so no history changes.)
    held_while_rejected = welfare_post.OFF_POST_EVENTS
    State = WelfarePostState
    st: WelfarePostState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """K12 on the start date, the placement count and fund, the period; rejected closes the case."""
        p = WelfarePostPlaced.model_validate(opening.data)
        self.st.placement = p
        self.st.reconciles = workflow.patched(RECONCILE_OWED)
        self.subject = f"person/{p.person_id}"
        self.keys = [self.subject]
        self.city = p.city
        self.opened_on = p.starts_on
        self.note(p.starts_on, f"placed on {p.kind} post {p.post_id}", event=opening.key)
        await self.load_context(p.city)
        params = self.params
        assert params is not None
        profile = await self.judge_k12(p)
        if profile is None:
            await self.close(
                "rejected",
                p.starts_on,
                f"§17/§16: {p.person_id} is not difficult to employ on {p.starts_on}: none of "
                f"{subsidy_period.k12_checked()} holds",
                without_fact=True,
            )
            return
        await self.admit(p, profile, "opened")

    async def judge_k12(self, p: WelfarePostPlaced) -> difficult.PersonProfile | None:
        """K12 on the start date from the stored facts about the person; None: not difficult."""
        assert self.params is not None
        # The placement itself is among the facts (its stated categories count for K12).
        facts = await person_facts(self, p.person_id, await self.load_facts([self.subject], list(difficult.PERSON_FACT_TYPES)))
        profile = difficult.profile_from_facts(p.person_id, facts, p.starts_on)
        self.st.categories = difficult.difficult_categories(profile, p.starts_on, self.params)
        return profile if difficult.is_difficult(profile, p.starts_on, self.params) else None

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """A placement rejected as not difficult to employ, judged again with the late fact (it
        is stored before it is routed here) as if it had come first."""
        p = self.st.placement
        if p is None or ev.type not in difficult.PERSON_FACT_TYPES:
            return False
        profile = await self.judge_k12(p)
        if profile is None:
            return False
        await self.reopen(f"§17/§16: difficult to employ on {p.starts_on} ({', '.join(self.st.categories)})", ev.key)
        await self.admit(p, profile, "reopened")
        return True

    async def admit(self, p: WelfarePostPlaced, profile: difficult.PersonProfile, change: str) -> None:
        """The placement of a person difficult to employ: count, fund, period, approval."""
        params = self.params
        assert params is not None
        history = await self.case_history([KIND])
        self.st.placement_number = welfare_post.placement_number(c.status for c in history)
        choice = welfare_post.fund_for(self.st.placement_number, profile, p.starts_on, params, p.categories)
        self.st.fund, self.st.fund_reason = choice.fund, choice.reason
        period = welfare_post.placement_period(p.kind, p.months, p.starts_on, profile.retirement_date, params)
        if period.end <= period.start:
            await self.close("rejected", p.starts_on, f"retired on {profile.retirement_date}, before the post would start")
            return
        self.st.period = period
        self.note(
            p.starts_on,
            f"placement no. {self.st.placement_number}; period {period.start} .. {period.last_day}"
            + (" (until retirement)" if period.until_retirement else "")
            + f"; paid from {self.st.fund}",
            rule=self.st.fund_reason,
        )
        if welfare_post.needs_approval(self.st.placement_number, params, p.starts_on):
            self.st.approval = APPROVAL_PENDING
        await self.record(change, on=p.starts_on)
        if self.st.approval == APPROVAL_PENDING:
            task = await self.raise_task(
                welfare_post.EXTRA_PLACEMENT_TASK,
                p.starts_on,
                {
                    "rule": f"{welfare_post.placement_limit_rule(params, p.starts_on)}: placement no. {self.st.placement_number}",
                    "placement_number": self.st.placement_number,
                    "post_id": p.post_id,
                },
            )
            self.st.approval_task = task.task_id
        if self.today() > p.starts_on:
            await self.gather_burst()

    # -- inputs ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if not self.takes_events(LATE_FACTS_CORRECT):
            return
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        p = self.st.placement
        assert p is not None and self.params is not None
        if ev.type == "welfare_post.left":
            e = WelfarePostLeft.model_validate(ev.data)
            on = max(e.on, p.starts_on)
            if self.st.left_on is None or on < self.st.left_on:
                self.st.left_on, self.st.cause = on, ev.key
            self.note(e.on, f"left post {e.post_id}", event=ev.key)
        elif ev.type == "contract.signed":
            c = ContractSigned.model_validate(ev.data)
            if subsidy_period.is_stable_contract(c.term_months, c.signed_on, self.params, welfare_post.PARAMETER_PREFIX):
                starts = max(c.starts_on, p.starts_on)
                if self.st.employed_from is None or starts < self.st.employed_from:
                    self.st.employed_from, self.st.cause = starts, ev.key
                self.note(c.signed_on, f"stable employment with {c.employer_id} from {c.starts_on}", event=ev.key)
            else:
                self.note(c.signed_on, f"contract of {c.term_months} months with {c.employer_id}: not stable employment", event=ev.key)
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        """An extra placement is approved or denied, with a reason (§17 原则上: exceptions are
        a supervisor's call and must say why)."""
        if task.kind != welfare_post.EXTRA_PLACEMENT_TASK:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        approval(decision)

    async def act_on(self, decision: TaskDecision) -> None:
        if decision.task_id != self.st.approval_task or self.st.approval != APPROVAL_PENDING:
            return
        assert self.st.placement is not None and self.params is not None
        today = self.today()
        reason = decision.decision["reason"]
        rule = welfare_post.placement_limit_rule(self.params, self.st.placement.starts_on)
        if decision.decision["approve"]:
            self.st.approval = APPROVAL_GRANTED
            self.note(today, f"extra placement approved by {decision.decided_by}: {reason}", rule=rule)
            await self.record("updated", on=today)
            return
        await self.close("rejected", today, f"{rule}: placement no. {self.st.placement_number} denied by {decision.decided_by}: {reason}")

    # -- time --------------------------------------------------------------------------------
    def off_post(self) -> date | None:
        """The first day the person is no longer on the post (left, or stably employed)."""
        days = [d for d in (self.st.left_on, self.st.employed_from) if d is not None]
        return min(days) if days else None

    def deadline(self) -> date | None:
        """The next day something falls due: a month completes, the person is off the post, or
        the period ends. While an extra placement waits for its decision only leaving the post
        is due (the months are caught up on approval, however late it comes)."""
        period = self.st.period
        if period is None:
            return None
        off = self.off_post()
        if self.st.approval == APPROVAL_PENDING:
            return off
        candidates = [period.end, month_start(period.start, self.st.months_paid + 2)]
        if off is not None:
            candidates.append(off)
        return min(candidates)

    async def settle(self, today: date) -> None:
        """Pay the months completed by `today` (up to leaving); then leaving or the period end."""
        while self.is_open:
            period = self.st.period
            assert period is not None and self.params is not None
            off = self.off_post()
            if self.st.approval == APPROVAL_PENDING:
                if off is not None and today >= off:
                    await self.withdraw_approval()
                    await self.close("ended", off, f"off the post on {off} before the extra placement was decided; nothing paid")
                return
            if self.st.reconciles:
                await self.pay_owed()
            else:
                await self.pay_completed(min(today, off) if off is not None else today)
            if off is not None and off < period.end and today >= off:
                why = "left the post" if off == self.st.left_on else "stable employment"
                self.note_paid_past(off)
                await self.close("ended", off, f"§17: {why} on {off}; {self.st.months_paid} completed months paid")
                return
            if today < period.end:
                return
            if (
                off is None
                and self.st.placement is not None
                and self.st.placement.kind == "regular"
                and subsidy_period.may_extend(period, self.params, welfare_post.PARAMETER_PREFIX)
            ):
                self.st.period = subsidy_period.extended(period, self.params, welfare_post.PARAMETER_PREFIX)
                last = period.last_day
                self.note(
                    period.end,
                    f"period ran out on {last} without stable employment: extended to {self.st.period.last_day}",
                    rule=(
                        "§17 政策期满仍未实现稳定就业的，政策享受期限可延长1年 (window "
                        f"{self.params.day('welfare_post.extension_window_from', last)}.."
                        f"{self.params.day('welfare_post.extension_window_until', last)})"
                    ),
                )
                await self.record("extended", on=period.end)
                continue
            await self.close("completed", period.end, self.completion_rule(period))
            return

    def completion_rule(self, period: Period) -> str:
        assert self.st.placement is not None
        why = (
            "temporary post"
            if self.st.placement.kind == "temporary"
            else "end of the extension"
            if period.extended
            else "ran to retirement"
            if period.until_retirement
            else "off the post at its end"
            if self.off_post() is not None
            else f"last day {period.last_day} outside the extension window"
        )
        return f"§17: period ended on {period.last_day} ({why}); {self.st.months_paid} completed months paid"

    def note_paid_past(self, off: date) -> None:
        """A leaving reported after months that followed it were paid: counted, and said on the
        timeline. A case that reconciles has overpaid them (recovered by `overpayment_recovery`
        as it closes); one opened before takes nothing back (its ledger only adds)."""
        assert self.st.period is not None
        due = subsidy_period.completed_months(self.st.period, off)
        if self.st.months_paid > due:
            self.st.paid_past_end = self.st.months_paid - due
            self.note(off, f"{self.st.paid_past_end} month(s) after {off} were paid before it was reported"
                      + ("; overpaid" if self.st.reconciles else ""))

    # -- what the placement owes (cases opened by this code) ---------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        """Both subsidies of every month completed, or still to complete, on the post within the
        period, on the facts known now (None for a case that pays the old way)."""
        return self._owed_within(self.st.period)

    def owed_ahead(self, until: date) -> list[Owed] | None:
        """As `owed`, with the once-only extension `settle` grants at the period's end to a regular
        post still held then (§17), when the period ends by `until`: no new fact needed for it."""
        period = self.st.period
        if (period is not None and self.params is not None and self.off_post() is None and self.st.placement is not None
                and self.st.placement.kind == "regular" and period.end <= until
                and subsidy_period.may_extend(period, self.params, welfare_post.PARAMETER_PREFIX)):
            period = subsidy_period.extended(period, self.params, welfare_post.PARAMETER_PREFIX)
        return self._owed_within(period)

    def _owed_within(self, period: Period | None) -> list[Owed] | None:
        if not self.st.reconciles or period is None or self.params is None:
            return None
        off = self.off_post()
        done = subsidy_period.completed_months(period, off if off is not None else period.end)
        return welfare_post.owed_by_month(
            payee=self.subject, fund=str(self.st.fund), start=period.start, months=range(1, done + 1), params=self.params,
            rule=lambda n, begins: f"§17: completed month {n} ({begins} .. {month_start(period.start, n + 1)}); "
                                   f"{self.st.fund_reason}",
        )

    def removal_rule(self) -> str:
        return welfare_post.RULE_NOT_ON_POST

    async def pay_owed(self) -> None:
        """Reconcile on the business day (a correction falls due the day it is known), then count
        the months paid from the ledger."""
        self.st.months_paid = last_month_paid(await self.reconcile_owed(self.today(), self.st.cause), self.st.months_paid)

    async def withdraw_approval(self) -> None:
        if self.st.approval_task and self.tasks[self.st.approval_task].state == "open":
            await self.finish_task(self.st.approval_task, "withdrawn")

    async def pay_completed(self, until: date) -> None:
        period = self.st.period
        assert period is not None and self.params is not None
        done = subsidy_period.completed_months(period, until)
        while self.st.months_paid < done:
            n = self.st.months_paid + 1
            begins = month_start(period.start, n)
            due = month_start(period.start, n + 1)
            for program, amount in welfare_post.monthly_payments(begins, self.params):
                await self.pay(
                    payee=self.subject,
                    program=program,
                    period=f"month-{n}",
                    amount=amount,
                    fund=str(self.st.fund),
                    due_on=due,
                    rule=f"§17: completed month {n} ({begins} .. {due}); {self.st.fund_reason}",
                )
            self.st.months_paid = n

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        p = self.st.placement
        if p is None:
            return {}
        return {
            "post_id": p.post_id,
            "post_kind": p.kind,
            "starts_on": p.starts_on.isoformat(),
            "placement_number": self.st.placement_number,
            "fund": str(self.st.fund),
            "fund_reason": self.st.fund_reason,
            "approval": self.st.approval,
            "difficult_categories": self.st.categories,
            "period": self.st.period.to_dict() if self.st.period else None,
            "months_paid": self.st.months_paid,
            "left_on": self.st.left_on.isoformat() if self.st.left_on else None,
            "employed_from": self.st.employed_from.isoformat() if self.st.employed_from else None,
            "paid_past_end": self.st.paid_past_end,
            "generation": self.generation,
        }

