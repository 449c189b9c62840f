"""K9 unemployed_followup: one unemployment registration, its monthly follow-ups (§20) and the
marks other kinds read (long-term unemployed §10, 劳动预备制 §11, K12 参照 §16).

A registration can last for years, so the case continues as new at a quiet point of its loop,
carrying everything it has judged (months followed and escalated, marks, seen events).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import (
        EmploymentRegistered,
        FollowupRecorded,
        ReferralRecorded,
        UnemploymentDeregistered,
        UnemploymentRegistered,
    )
    from policy import difficult, followup
    from workflows._person_facts import person_facts
    from workflows._states import FollowupState
    from workflows.case_base import CaseWorkflow

KIND = kinds.UNEMPLOYED_FOLLOWUP



@workflow.defn(name=KIND)
class UnemployedFollowupWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, K12's categories, §10's long-term unemployed, §11's trainee eligibility (policy/followup.py).
    parameter_scope = (
        "followup.", "difficult.",
        "hiring.long_term_unemployed_months", "trainee.max_age", "trainee.window_from", "trainee.window_until",
    )
    State = FollowupState
    st: FollowupState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        reg = UnemploymentRegistered.model_validate(opening.data)
        self.st.registration = reg
        self.subject = f"person/{reg.person_id}"
        self.city = reg.city
        self.opened_on = reg.registered_on
        self.keys = [self.subject]
        self.note(reg.registered_on, "registered unemployed", event=opening.key)
        await self.load_context(reg.city)
        await self.evaluate_k12(reg.registered_on)
        await self.record("opened", on=reg.registered_on)
        if self.today() > reg.registered_on:
            # Opened behind business time: let the backlog of contacts arrive before judging.
            await self.gather_burst()

    # -- inputs ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        reg = self.st.registration
        assert reg is not None
        if self.apply_shared_fact(ev):
            return
        if ev.type == "followup.recorded":
            await self.followed_up(FollowupRecorded.model_validate(ev.data), ev)
        elif ev.type == "referral.recorded":
            e = ReferralRecorded.model_validate(ev.data)
            if e.on < reg.registered_on:
                self.note(e.on, "referral before this registration: not counted", event=ev.key)
                return
            self.st.referrals += 1
            self.note(e.on, f"referral to {e.employer_id}: {e.outcome}", event=ev.key)
            await self.evaluate_k12(min(e.on, self.today()))
        elif ev.type in ("unemployment.deregistered", "employment.registered"):
            e2: UnemploymentDeregistered | EmploymentRegistered = (
                UnemploymentDeregistered.model_validate(ev.data)
                if ev.type == "unemployment.deregistered"
                else EmploymentRegistered.model_validate(ev.data)
            )
            if e2.on < reg.registered_on:
                self.note(e2.on, f"{ev.type} dated before this registration: no effect", event=ev.key)
                return
            what = f"deregistered ({e2.reason})" if isinstance(e2, UnemploymentDeregistered) else f"employed ({e2.kind})"
            self.note(e2.on, what, event=ev.key)
            await self.settle(min(e2.on, self.today()))
            await self.end(e2.on)
        elif ev.type == "unemployment.registered":
            again = UnemploymentRegistered.model_validate(ev.data)
            if again.registered_on <= reg.registered_on:
                self.note(self.today(), "the same (or an older) registration delivered again: ignored", event=ev.key)
                return
            # A new registration supersedes this one (its deregistration never reached us).
            self.note(again.registered_on, "registered again: this registration has ended", event=ev.key)
            await self.settle(min(again.registered_on, self.today()))
            await self.end(again.registered_on)
        else:
            self.note(self.today(), f"{ev.type} does not concern this case", event=ev.key)

    async def followed_up(self, e: FollowupRecorded, ev: CaseEvent) -> None:
        reg = self.st.registration
        assert reg is not None
        n = followup.registered_month(reg.registered_on, e.on)
        if n is None:
            self.note(e.on, "contact before this registration: not counted", event=ev.key)
            return
        self.note(e.on, f"follow-up ({e.channel}) for registered month {n}", rule=followup.RULE_FOLLOWUP, event=ev.key)
        if n in self.st.followed:
            return
        self.st.followed[n] = e.on
        task_id = self.st.escalations.get(n)
        if task_id is not None and self.tasks[task_id].state == "open":
            # The contact happened in time and was reported late: nothing left to escalate.
            await self.finish_task(task_id, "withdrawn")
        await self.record("updated", on=e.on)  # the read model shows the months followed up

    async def act_on(self, decision: TaskDecision) -> None:
        """A supervisor's decision on an escalation is an acknowledgement: it is recorded on the
        task by the update itself; the case only notes it."""
        self.note(self.today(), f"escalation {decision.task_id} handled by {decision.decided_by}: {decision.decision}")

    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        if task.kind != followup.ESCALATION_TASK:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")

    # -- what falls due ----------------------------------------------------------------------
    async def settle(self, today: date) -> None:
        """Escalate every month whose grace ran out without a contact; set the marks that
        started to hold by `today`."""
        reg = self.st.registration
        assert reg is not None and self.params is not None
        start = reg.registered_on
        while followup.escalation_date(start, self.st.checked_through + 1, self.params) <= today:
            n = self.st.checked_through + 1
            if n not in self.st.followed:
                await self.escalate(n)
            self.st.checked_through = n
        if self.st.long_term_since is None and followup.is_long_term_unemployed(start, self.params, today):
            self.st.long_term_since = followup.long_term_unemployed_since(start, self.params, today)
            self.note(self.st.long_term_since, "long-term unemployed", rule=followup.RULE_LONG_TERM)
            await self.record("marked", on=self.st.long_term_since)
        if not self.st.training_checked:
            eligible_on = followup.trainee_eligible_on(start, reg.birth_date, reg.willing_training, self.params)
            if eligible_on is None:
                self.st.training_checked = True
            elif eligible_on <= today:
                self.st.training_checked = True
                self.st.training_notice_on = eligible_on
                self.note(eligible_on, "notice: eligible for 劳动预备制 training (under 20, willing, 2020)", rule=followup.RULE_TRAINING)
                await self.record("notice", on=eligible_on)
        if not self.st.anniversary_checked and self.anniversary() <= today:
            # The 参照 rule's only condition that time alone makes true; after it, referrals do.
            self.st.anniversary_checked = True
            await self.evaluate_k12(self.anniversary())

    async def escalate(self, n: int) -> None:
        reg = self.st.registration
        assert reg is not None and self.params is not None
        due = followup.due_date(reg.registered_on, n)
        task = await self.raise_task(
            followup.ESCALATION_TASK,
            due,
            {
                "rule": followup.RULE_ESCALATION,
                "registered_month": n,
                "followup_due_on": due.isoformat(),
                "escalated_on": followup.escalation_date(reg.registered_on, n, self.params).isoformat(),
            },
        )
        self.st.escalations[n] = task.task_id
        await self.record("updated", on=followup.escalation_date(reg.registered_on, n, self.params))

    def anniversary(self) -> date:
        """The day the registration reaches `difficult.continuous_unemployed_months` months."""
        reg = self.st.registration
        assert reg is not None and self.params is not None
        return difficult.continuous_registration_reached(reg.registered_on, self.today(), self.params)

    def deadline(self) -> date | None:
        reg = self.st.registration
        if reg is None or self.params is None:
            return None
        start = reg.registered_on
        today = self.today()
        candidates = [followup.escalation_date(start, self.st.checked_through + 1, self.params)]
        if self.st.long_term_since is None:
            candidates.append(followup.long_term_unemployed_since(start, self.params, today))
        if not self.st.training_checked:
            eligible_on = followup.trainee_eligible_on(start, reg.birth_date, reg.willing_training, self.params)
            if eligible_on is not None:
                candidates.append(eligible_on)
        if not self.st.anniversary_checked:
            candidates.append(self.anniversary())
        return min(candidates)

    async def evaluate_k12(self, on: date) -> None:
        """K12 on `on` from the person's stored facts; mark 参照 groups when they start to hold."""
        reg = self.st.registration
        assert reg is not None and self.params is not None
        facts = await self.load_facts([self.subject], list(difficult.PERSON_FACT_TYPES))
        facts = await person_facts(self, reg.person_id, facts)
        profile = difficult.profile_from_facts(reg.person_id, facts, on)
        self.st.categories = difficult.difficult_categories(profile, on, self.params)
        self.st.categories_on = on
        started = [g for g in difficult.treated_as_categories(self.st.categories) if g not in self.st.treated_as]
        if not started:
            return
        for group in started:
            self.st.treated_as[group] = on
        self.note(
            on,
            f"treated as difficult to employ (参照): {', '.join(started)} "
            f"({profile.referrals_not_hired} referrals without a job)",
            rule=followup.RULE_TREATED_AS,
        )
        await self.record("marked", on=on)

    async def end(self, on: date) -> None:
        for task in self.open_tasks():
            # Nobody can act on an escalation of a registration that has ended.
            await self.finish_task(task.task_id, "withdrawn")
        await self.close("closed", on, followup.RULE_CLOSED)

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        reg = self.st.registration
        if reg is None:
            return {}
        today = self.today()
        current = followup.registered_month(reg.registered_on, today)
        return {
            "person_id": reg.person_id,
            "registered_on": reg.registered_on.isoformat(),
            "registered_month": current,
            "next_followup_due": followup.due_date(reg.registered_on, current).isoformat() if current and self.is_open else None,
            "followed_months": sorted(self.st.followed),
            "escalated_months": sorted(self.st.escalations),
            "long_term_unemployed": self.st.long_term_since is not None,
            "long_term_unemployed_since": self.st.long_term_since.isoformat() if self.st.long_term_since else None,
            "training_notice_on": self.st.training_notice_on.isoformat() if self.st.training_notice_on else None,
            "treated_as": {g: d.isoformat() for g, d in sorted(self.st.treated_as.items())},
            "difficult_categories": self.st.categories,
            "difficult_categories_on": self.st.categories_on.isoformat() if self.st.categories_on else None,
            "referrals": self.st.referrals,
            "generation": self.generation,  # runs since the case opened (continue-as-new)
        }
