"""POLICY.md part 2: an overpayment left when the payee has no more payments becomes a supervisor
task `overpayment_recovery`; its decision closes the receivable (workflows/case_base.py
`take_recovery_decision`), on a closed case as on an open one.

A K2 case (workflows/unemployment_insurance.py) on Temporal's time-skipping server: months 3 and
4 (150000 each, ui.monthly_benefit) are overpaid by a re-employment learnt late, the case closes
`reemployed` and listens for `ledger.correction_days`, with the task open.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts import kinds
from contracts.cases import CaseOutcome, TaskDecision, TaskRecord
from policy.corrections import RECOVERY_OUTCOMES
from tests.workflow.harness import World, event_key, world

UI = "unemployment_insurance"


def month(n: int) -> str:
    return f"month-{n}"


async def overpaid_and_closed(w: World, person: str) -> tuple[str, str]:
    """Claim 03-15 (months start 03-15, 04-15, 05-15, 06-15); an employer's contribution for
    2020-05 known on 06-20: re-employed from 05-01, months 3 and 4 overpaid (300000), nothing more
    to pay. Returns the case and the overpayment's cause."""
    await w.claim(person, date(2020, 3, 15))
    await w.advance_to_day(date(2020, 6, 20))
    cause = event_key(await w.contribution(person, "2020-05", date(2020, 6, 20)))
    return kinds.unemployment_insurance_case_id(person, "2020-03-15"), cause


def recovery_tasks(w: World, case: str) -> list[tuple[str, str, int, list[str], object]]:
    return [(t["task_id"], t["state"], t["details"]["amount"], t["details"]["periods"],
             (t["decision"] or {}).get("closed")) for t in w.tasks(case) if t["kind"] == "overpayment_recovery"]


async def decide(w: World, case: str, task_id: str, decision: Mapping[str, object]) -> TaskRecord:
    return await w.env.client.get_workflow_handle(case).execute_update(
        "decide", TaskDecision(task_id=task_id, decided_by="sup-7", decision=dict(decision)), result_type=TaskRecord)


async def test_overpayment_repaid_by_the_payee_closes_the_receivable_and_a_later_overpayment_gets_its_own_task(
        env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        case, cause = await overpaid_and_closed(w, "R1")
        assert w.status(case) == "reemployed"
        first = f"{case}/task/1"
        assert recovery_tasks(w, case) == [(first, "open", 300000, [month(3), month(4)], None)]
        await decide(w, case, first, {"outcome": "repaid", "reason": "receipt 2020-118"})
        await w.advance_to_day(date(2020, 6, 22))
        assert recovery_tasks(w, case) == [(first, "decided", 300000, [month(3), month(4)], 300000)]
        (note,) = [t for t in (await w.view(case)).timeline if t.rule == RECOVERY_OUTCOMES["repaid"]]
        assert (note.on, note.amount) == (date(2020, 6, 20), 300000)
        assert "repaid, decided by sup-7: receipt 2020-118; receivable closed" in note.what
        # A contract from 04-10 reaching the case on 06-22 (in its window): month 2 (04-15) is overpaid too.
        # Only it is left to recover: the repaid months are not asked for again.
        later = event_key(await w.contract("R1", date(2020, 4, 10)))
        await w.advance_to_day(date(2020, 6, 26))
        assert w.ledger_rows(case) == [
            (UI, month(3), "overpayment", 150000, date(2020, 6, 20), month(3), cause),
            (UI, month(4), "overpayment", 150000, date(2020, 6, 20), month(4), cause),
            (UI, month(2), "overpayment", 150000, date(2020, 6, 22), month(2), later),
        ]
        assert recovery_tasks(w, case) == [
            (first, "decided", 300000, [month(3), month(4)], 300000),
            (f"{case}/task/2", "open", 150000, [month(2), month(3), month(4)], None),
        ]


async def test_overpayment_written_off_by_the_office_closes_the_receivable_and_an_unknown_outcome_is_refused(
        env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        case, _ = await overpaid_and_closed(w, "R2")
        task = f"{case}/task/1"
        for refused in ({"outcome": "forgiven", "reason": "x"}, {"outcome": "written_off"},
                        {"outcome": "written_off", "reason": "  "}):
            with pytest.raises(WorkflowUpdateFailedError):
                await decide(w, case, task, refused)
        assert recovery_tasks(w, case) == [(task, "open", 300000, [month(3), month(4)], None)]
        decided = await decide(w, case, task, {"outcome": "written_off", "reason": "payee deceased"})
        assert (decided.state, decided.decided_by) == ("decided", "sup-7")
        await w.advance_to_day(date(2020, 6, 22))
        assert recovery_tasks(w, case) == [(task, "decided", 300000, [month(3), month(4)], 300000)]
        notes = [t for t in (await w.view(case)).timeline if t.rule == RECOVERY_OUTCOMES["written_off"]]
        assert [(n.amount, "written off, decided by sup-7: payee deceased" in n.what) for n in notes] == [(300000, True)]
        with pytest.raises(WorkflowUpdateFailedError):  # decided once
            await decide(w, case, task, {"outcome": "repaid", "reason": "receipt"})


async def test_overpayment_recovery_decided_after_the_correction_days_is_still_taken(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: the window for late facts (ledger.correction_days, 365) ends, the
    receivable does not: a case with an open overpayment_recovery task runs on until it is decided
    (patch run-until-recovery-decided; before it the run ended and the decision failed)."""
    async with world(env, date(2020, 3, 1)) as w:
        case, _ = await overpaid_and_closed(w, "R3")
        task = f"{case}/task/1"
        await w.advance_to_day(date(2021, 7, 1))
        assert case not in w.store.listening  # the window ended: no longer taking late facts
        decided = await decide(w, case, task, {"outcome": "repaid", "reason": "receipt 2021-044"})
        assert (decided.state, decided.decision) == ("decided", {"outcome": "repaid", "reason": "receipt 2021-044", "closed": 300000})
        outcome = await w.env.client.get_workflow_handle(case, result_type=CaseOutcome).result()
        assert outcome.status == "reemployed"  # the run ended once the task was decided
        assert recovery_tasks(w, case) == [(task, "decided", 300000, [month(3), month(4)], 300000)]
