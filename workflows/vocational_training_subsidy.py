"""K14 vocational_training_subsidy (职业培训补贴, §1, §11, §13, §14, §15) with 劳动预备制 (§11):
one enrolment. Judged on its start date; a completion with a certificate at the enrolled level
pays the level's subsidy to the trainee (or, for on-the-job training, a fixed amount to the
sponsoring enterprise) within the person's limits across all their training cases — at most
`training.max_per_year` a year and never twice for one occupation and level, held as store slots
so that concurrent completions cannot pass them. A 劳动预备制 trainee is also paid a living
allowance per completed training month, by timer at each month's end. An enrolment in no group
for want of the person's registration is rejected without a fact (POLICY.md part 2): one dated on
or before the start and arriving within intake.late_fact_days reopens it."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, Fact
    from contracts.events import TrainingCompleted, TrainingDropped, TrainingEnrolled
    from policy import difficult, training_subsidy
    from policy.calendar import business_date
    from policy.corrections import Owed
    from workflows._states import TrainingState
    from workflows.case_base import CaseWorkflow

KIND = kinds.VOCATIONAL_TRAINING_SUBSIDY
# Enrolments from here on listen, when rejected for want of the person's registration, for it to
# arrive late (POLICY.md part 2); histories recorded before close for good.
LATE_FACTS = "k14-late-facts"
# The provider's own events about the enrolment (routed by its key).
COURSE_EVENTS = ("training.completed", "training.dropped")


@workflow.defn(name=KIND)
class VocationalTrainingSubsidyWorkflow(CaseWorkflow):
    kind = KIND
    # Its parameters (case_base `context_scope`); beside its own, §11 劳动预备制: the trainee and the living allowance.
    parameter_scope = ("training.", "trainee.")
    State = TrainingState
    held_while_rejected = COURSE_EVENTS
    held_until = "taken with its own date if the enrolment reopens"
    st: TrainingState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    async def open(self, opening: CaseEvent) -> None:
        """Judge the enrolment on its start date; rejected closes the case — for want of the
        person's registration, one that arrives within intake.late_fact_days reopens it (`reopen_on`)."""
        enrolment = training_subsidy.Enrolment.from_data(TrainingEnrolled.model_validate(opening.data).model_dump())
        self.st.enrolment = enrolment
        self.subject = f"person/{enrolment.person_id}"
        self.keys = [training_subsidy.enrolment_key(enrolment.enrolment_id)]
        self.city = enrolment.city
        self.opened_on = enrolment.starts_on
        self.note(enrolment.starts_on, f"enrolled in {enrolment.occupation} ({enrolment.level}, {enrolment.mode}) "
                  f"{enrolment.starts_on} .. {enrolment.ends_on}", event=opening.key)
        await self.load_context(self.city)
        assert self.params is not None
        self.st.late_facts = workflow.patched(LATE_FACTS)
        if self.st.late_facts:
            self.keys.append(self.subject)  # the person's facts reach a rejected enrolment (streams/routes/training.py)
        facts, registered, flexible = await self.judge(enrolment)
        reason = training_subsidy.ineligibility(enrolment, registered, flexible, self.params)
        if reason is not None:
            # Every group the facts can give (a registration, flexible employment) may still be
            # reported on its own topic: a decision taken without a fact (POLICY.md part 2).
            await self.close("rejected", enrolment.starts_on, reason, without_fact=self.st.late_facts)
            return
        await self.admit(enrolment, facts, registered, flexible, "opened")

    async def judge(self, enrolment: training_subsidy.Enrolment) -> tuple[list[Fact], bool, bool]:
        """The stored facts about the person; registered unemployed and a flexible worker on the
        start date."""
        facts = await self.load_facts([self.subject], list(training_subsidy.FACT_TYPES))
        on = enrolment.starts_on
        registered = difficult.profile_from_facts(enrolment.person_id, facts, on).registered_on is not None
        return facts, registered, training_subsidy.is_flexible_worker(enrolment.person_id, facts, on)

    async def reopen_on(self, ev: CaseEvent) -> bool:
        """An enrolment rejected for want of the person's registration (unemployed, or employed
        as a flexible worker), judged again with the late fact (stored before it is routed here)
        as if it had come first; its completion or drop reaching it meanwhile is held and taken
        with its own date if it reopens (`held_while_rejected`)."""
        enrolment = self.st.enrolment
        if enrolment is None or self.params is None:
            return False
        if ev.type not in training_subsidy.FACT_TYPES:
            return False
        facts, registered, flexible = await self.judge(enrolment)
        if training_subsidy.ineligibility(enrolment, registered, flexible, self.params) is not None:
            return False
        await self.reopen(training_subsidy.RULE_ELIGIBLE, ev.key)
        await self.admit(enrolment, facts, registered, flexible, "reopened")
        return True

    async def admit(self, enrolment: training_subsidy.Enrolment, facts: list[Fact], registered: bool, flexible: bool, change: str) -> None:
        """An eligible enrolment: its groups, and whether it is a 劳动预备制 trainee."""
        assert self.params is not None
        on = enrolment.starts_on
        self.st.groups = training_subsidy.eligible_groups(enrolment, registered, flexible, self.params)
        reg = training_subsidy.registration(enrolment.person_id, facts, on)
        birth = date.fromisoformat(reg["birth_date"]) if reg and isinstance(reg.get("birth_date"), str) else None
        self.st.trainee = training_subsidy.labour_preparation_trainee(enrolment, registered, birth, bool(reg and reg.get("willing_training")),
                                                         self.params)
        self.note(on, f"eligible ({', '.join(self.st.groups)})" + ("; a 劳动预备制 trainee" if self.st.trainee else ""),
                  rule=training_subsidy.RULE_ALLOWANCE if self.st.trainee else training_subsidy.RULE_SUBSIDY)
        await self.record(change, on=on)
        if self.today() > on:
            await self.gather_burst()

    async def apply(self, ev: CaseEvent) -> None:
        if self.apply_shared_fact(ev):
            self.st.cause = ev.key
            return
        if ev.type == "training.completed" and self.st.completed_on is None and self.st.dropped_on is None:
            c = TrainingCompleted.model_validate(ev.data)
            self.st.completed_on, self.st.certificate_level = c.on, c.certificate_level
            self.note(c.on, f"completed, certificate {c.certificate_level or 'none'}", event=ev.key)
        elif ev.type == "training.dropped" and self.st.completed_on is None and self.st.dropped_on is None:
            d = TrainingDropped.model_validate(ev.data)
            self.st.dropped_on = d.on
            self.st.cause = ev.key
            self.note(d.on, "dropped", rule=training_subsidy.RULE_DROPPED, event=ev.key)
        else:
            self.note(business_date(ev.time), f"{ev.type}: the course is already over", event=ev.key)

    # -- what is owed, and when ------------------------------------------------------------
    def owed(self, today: date) -> list[Owed] | None:
        if self.st.enrolment is None or self.params is None:
            return None
        return training_subsidy.owed(self.st.enrolment, self.st.trainee, self.st.dropped_on, self.st.granted, self.st.completed_on, self.params)

    def deadline(self) -> date | None:
        written = {(r.program, r.period) for r in self.ledger}
        due = [o.due_on for o in self.owed(self.today()) or () if (o.program, o.period) not in written]
        return min(due) if due else None

    async def settle(self, today: date) -> None:
        """Judge a completion (certificate, then the person's limits), reconcile what fell due,
        and close once the course is over and nothing more falls due."""
        enrolment = self.st.enrolment
        assert enrolment is not None and self.params is not None
        if self.st.completed_on is not None and not self.st.judged:
            await self.judge_completion(enrolment, self.st.completed_on)
        await self.reconcile_owed(today, self.st.cause)
        if self.st.completed_on is None and self.st.dropped_on is None:
            return
        if self.deadline() is not None:
            return  # a training month still to be paid
        if self.st.dropped_on is not None:
            await self.close("dropped", self.st.dropped_on, training_subsidy.RULE_DROPPED)
        elif self.st.granted is not None:
            await self.close("paid", self.st.completed_on or today, self.st.granted.program)
        elif self.st.refusal is not None:
            await self.close("rejected", self.st.completed_on or today, self.st.refusal)
        else:
            await self.close("failed", self.st.completed_on or today, training_subsidy.failure_reason(enrolment, self.st.certificate_level))

    async def judge_completion(self, enrolment: training_subsidy.Enrolment, completed_on: date) -> None:
        assert self.params is not None
        self.st.judged = True
        payment = training_subsidy.completion_payment(enrolment, self.st.certificate_level, self.params)
        if payment is None:
            return  # failed: closed once the living-allowance months are paid
        slots = await self.take_slots(*training_subsidy.limit_scopes(enrolment, completed_on, self.params))
        if not slots.taken:
            # Refused by a limit; closed `rejected` once the living-allowance months are paid.
            self.st.refusal = training_subsidy.limit_reason(enrolment, completed_on, slots.held, self.params)
            self.note(completed_on, "the completion's subsidy is refused", rule=self.st.refusal)
            return
        self.st.granted = payment

    def details(self) -> dict[str, Any]:
        e = self.st.enrolment
        if e is None:
            return {}
        return {"occupation": e.occupation, "level": e.level, "mode": e.mode, "groups": self.st.groups,
                "labour_preparation": self.st.trainee, "completed_on": self.st.completed_on.isoformat() if self.st.completed_on else None,
                "certificate_level": self.st.certificate_level}
