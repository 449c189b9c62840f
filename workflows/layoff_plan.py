"""K8 layoff_plan (经济性裁员, §3, §21): an enterprise's layoff plan from filing to the settlement
of its obligations: the mass-unemployment alert, the 30-day union notice, and the deadline for
compensation, wages owed and social-insurance arrears."""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput, CaseOutcome, TaskDecision, TaskRecord
    from contracts.events import LayoffExecuted, LayoffObligationsSettled, LayoffPlanFiled, LayoffUnionNotified
    from policy import layoff
    from policy.calendar import business_date
    from workflows._states import LayoffState
    from workflows.case_base import CaseWorkflow

KIND = kinds.LAYOFF_PLAN
EXTEND = "extend"
ESCALATE = "escalate"
DECISION_HELP = (
    'obligations_overdue takes {"action": "extend", "until": "YYYY-MM-DD"} (a date after today) '
    'or {"action": "escalate", "note": "..."}'
)


@workflow.defn(name=KIND)
class LayoffPlanWorkflow(CaseWorkflow):
    kind = KIND
    parameter_scope = ("layoff.",)  # its parameters (case_base `context_scope`)
    State = LayoffState
    st: LayoffState

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseOutcome:
        return await self.run_case(inp)

    # -- opening -----------------------------------------------------------------------------
    async def open(self, opening: CaseEvent) -> None:
        """Record the plan and judge the mass threshold on its filing date (§21)."""
        plan = LayoffPlanFiled.model_validate(opening.data)
        self.st.plan = plan
        self.subject = f"enterprise/{plan.enterprise_id}"
        self.keys = [self.subject]
        self.city = plan.city
        self.opened_on = plan.filed_on
        await self.load_context(self.city)
        assert self.params is not None
        self.note(
            plan.filed_on,
            f"layoff plan filed: {plan.planned_count} of {plan.insured_headcount} insured",
            event=opening.key,
        )
        await self.record("opened", on=plan.filed_on)
        self.st.mass = layoff.is_mass_layoff(plan.planned_count, plan.insured_headcount, plan.filed_on, self.params)
        if self.st.mass:
            await self.raise_alert(
                layoff.mass_alert_id(self.case_id),
                layoff.MASS_ALERT,
                plan.filed_on,
                {
                    "case_id": self.case_id,
                    "enterprise_id": plan.enterprise_id,
                    "planned_count": plan.planned_count,
                    "insured_headcount": plan.insured_headcount,
                    "rule": layoff.mass_layoff_rule(plan.planned_count, plan.insured_headcount, plan.filed_on, self.params),
                },
            )
        if self.today() > plan.filed_on:
            # Opened behind business time (a backlog): let the enterprise's burst arrive so that a
            # settlement dated before today is judged before the deadline it meets.
            await self.gather_burst()

    # -- events ------------------------------------------------------------------------------
    async def apply(self, ev: CaseEvent) -> None:
        if not self.is_open or self.apply_shared_fact(ev):
            return
        assert self.params is not None
        if ev.type == "layoff.union_notified":
            notice = LayoffUnionNotified.model_validate(ev.data)
            if self.st.executed_on is not None:
                # Judged when it took effect; a notice reported afterwards does not lift the flag.
                await self.refuse(notice.on, ev, "union notified after the layoff was executed; the judgement stands")
            elif self.st.union_notified_on is None or notice.on < self.st.union_notified_on:
                self.st.union_notified_on = notice.on
                self.note(
                    notice.on,
                    f"union notified; the layoff may take effect from {layoff.earliest_effective_day(notice.on, self.params)}",
                    rule="§3 提前30日向工会或全体职工说明情况",
                    event=ev.key,
                )
                await self.record("updated", on=notice.on)
            else:
                self.note(notice.on, "another union notice; the earliest one counts", event=ev.key)
        elif ev.type == "layoff.executed":
            await self.executed(LayoffExecuted.model_validate(ev.data), ev.key)
        elif ev.type == "layoff.obligations_settled":
            settled = LayoffObligationsSettled.model_validate(ev.data)
            if self.st.executed_on is None:
                self.st.settled_before_execution = settled.on
                self.note(settled.on, "obligations reported settled before the layoff was executed: noted only", event=ev.key)
                return
            for task in self.open_tasks():
                await self.finish_task(task.task_id, "withdrawn")
            late = layoff.is_overdue(settled.on, self.st.obligations_due or settled.on)
            await self.close(
                "settled",
                settled.on,
                f"§3 obligations settled on {settled.on}"
                + (f", after the deadline {self.st.obligations_due}" if late else f", by the deadline {self.st.obligations_due}")
                + ("; the execution was premature" if self.st.premature else ""),
            )
        else:
            self.note(business_date(ev.time), f"{ev.type} does not concern this case", event=ev.key)

    async def executed(self, ex: LayoffExecuted, key: str) -> None:
        assert self.params is not None
        if self.st.executed_on is not None:
            self.note(ex.on, f"another execution report ({len(ex.person_ids)} persons); the first one counts", event=key)
            return
        self.st.executed_on = ex.on
        self.st.executed_persons = len(ex.person_ids)
        self.st.obligations_due = layoff.obligations_deadline(ex.on, self.params)
        self.note(
            ex.on,
            f"layoff executed: {self.st.executed_persons} persons; obligations due by {self.st.obligations_due}",
            rule="§3 依法依规支付经济补偿，偿还拖欠的职工工资，补缴欠缴的社会保险费",
            event=key,
        )
        self.st.premature = layoff.is_premature(ex.on, self.st.union_notified_on, self.params)
        if self.st.premature:
            why = (
                "without any union notice"
                if self.st.union_notified_on is None
                else f"before {layoff.earliest_effective_day(self.st.union_notified_on, self.params)} "
                f"({self.params.get('layoff.notice_days', ex.on)} days after the union notice of {self.st.union_notified_on})"
            )
            self.note(ex.on, f"flagged premature: executed on {ex.on} {why}", rule="§3 提前30日向工会或全体职工说明情况")
            await self.record("flagged", on=ex.on)
            return
        await self.record("updated", on=ex.on)

    # -- time and decisions ------------------------------------------------------------------
    def awaiting_settlement(self) -> bool:
        return self.st.executed_on is not None and self.is_open and self.st.escalated is None

    def deadline(self) -> date | None:
        """The first day the obligations are overdue, while no task about it is open."""
        if not self.awaiting_settlement() or self.open_tasks() or self.st.obligations_due is None:
            return None
        return date.fromordinal(self.st.obligations_due.toordinal() + 1)

    async def settle(self, today: date) -> None:
        """Not settled by the deadline → a supervisor task (once per deadline)."""
        due = self.st.obligations_due
        if not self.awaiting_settlement() or due is None or self.open_tasks():
            return
        if not layoff.is_overdue(today, due):
            return
        if any(t.kind == layoff.OVERDUE_TASK and t.due_on == due for t in self.tasks.values()):
            return
        await self.raise_task(
            layoff.OVERDUE_TASK,
            due,
            {
                "rule": "POLICY.md K8: obligations not settled within "
                        f"{self.params.get('layoff.obligations_days', self.st.executed_on) if self.params else '?'} days of the execution",
                "executed_on": self.st.executed_on.isoformat() if self.st.executed_on else None,
                "persons": self.st.executed_persons,
                "deadline": due.isoformat(),
                "premature": self.st.premature,
            },
        )
        await self.record("updated", on=today)

    def validate_decision(self, task: TaskRecord, decision: TaskDecision) -> None:
        if task.kind != layoff.OVERDUE_TASK:
            raise ValueError(f"{self.kind} cases take no decisions on {task.kind}")
        action = decision.decision.get("action")
        if action == EXTEND:
            until = decision.decision.get("until")
            try:
                day = date.fromisoformat(until) if isinstance(until, str) else None
            except ValueError:
                day = None
            if day is None:
                raise ValueError(f"extend needs until as YYYY-MM-DD, not {until!r}; {DECISION_HELP}")
            if day <= self.today():
                raise ValueError(f"extend until {day}: must be after today {self.today()}; {DECISION_HELP}")
            return
        if action == ESCALATE:
            note = decision.decision.get("note")
            if not isinstance(note, str) or not note.strip():
                raise ValueError(f"escalate needs a note; {DECISION_HELP}")
            return
        raise ValueError(f"unknown action {action!r}: {DECISION_HELP}")

    async def act_on(self, decision: TaskDecision) -> None:
        action = decision.decision["action"]
        if action == EXTEND:
            self.st.obligations_due = date.fromisoformat(decision.decision["until"])
            self.note(self.today(), f"deadline for the obligations extended to {self.st.obligations_due} by {decision.decided_by}")
            await self.record("updated")
        else:
            self.st.escalated = str(decision.decision["note"]).strip()
            self.note(self.today(), f"escalated by {decision.decided_by}: {self.st.escalated}")
            await self.record("updated")

    # -- state -------------------------------------------------------------------------------
    def details(self) -> dict[str, Any]:
        plan = self.st.plan
        if plan is None:
            return {}
        return {
            "enterprise_id": plan.enterprise_id,
            "filed_on": plan.filed_on.isoformat(),
            "planned_count": plan.planned_count,
            "insured_headcount": plan.insured_headcount,
            "mass_unemployment": self.st.mass,
            "union_notified_on": self.st.union_notified_on.isoformat() if self.st.union_notified_on else None,
            "executed_on": self.st.executed_on.isoformat() if self.st.executed_on else None,
            "executed_persons": self.st.executed_persons,
            "premature": self.st.premature,
            "obligations_due": self.st.obligations_due.isoformat() if self.st.obligations_due else None,
            "escalated": self.st.escalated,
            "settled_before_execution": self.st.settled_before_execution.isoformat() if self.st.settled_before_execution else None,
            "generation": self.generation,
        }
