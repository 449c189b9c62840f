"""Facts after a case closed (POLICY.md part 2 "What a case owes, and corrections"), on
Temporal's time-skipping server through the intake: a closed case listens for late facts for
`ledger.correction_days` (365) after closing if it paid through reconciliation, and for
`intake.late_fact_days` (30) after a decision taken without a fact.

Amounts by hand from the shipped defaults: ui.monthly_benefit 150000; K5 pays
welfare_post.post_subsidy 165000 + welfare_post.si_subsidy 60000 per completed month, due on
the month's completion day (start + n months).
"""

from __future__ import annotations

from datetime import date

from temporalio.testing import WorkflowEnvironment

from tests.workflow.harness import at, registered, world
from tests.workflow.test_unemployment_insurance_corrections import key, month, rows, worth

UI = "unemployment_insurance"
FAR = date(2045, 1, 1)
POST, SI = "welfare_post_subsidy", "welfare_post_si_subsidy"


async def test_k2_closed_reemployed_then_a_backdated_contribution_overpays_and_raises_recovery(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("L1", date(2020, 3, 15))  # months start 03-15, 04-15, 05-15, 06-15
        await w.employment("L1", date(2020, 6, 20))
        case = "ui/L1/2020-03-15"
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 20))
        assert rows(w, case) == []
        assert w.store.tasks == {}
        # Known on 07-10, three weeks after closing: an employer paid for 2020-05, so the person
        # was re-employed from 05-01 and months 3 (05-15) and 4 (06-15) were not owed.
        cause = key(await w.contribution("L1", "2020-05", date(2020, 7, 10)))
        assert rows(w, case) == [
            (UI, month(3), "overpayment", 150000, date(2020, 7, 10), month(3), cause),
            (UI, month(4), "overpayment", 150000, date(2020, 7, 10), month(4), cause),
        ]
        assert worth(w, case) == {(UI, month(1)): 150000, (UI, month(2)): 150000, (UI, month(3)): 0, (UI, month(4)): 0}
        # Still closed as it closed; nothing more will be paid, so a supervisor recovers it.
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 20))
        tasks = [t for t in w.store.tasks.values() if t["case_id"] == case]
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in tasks] == [
            ("overpayment_recovery", "open", 300000, [month(3), month(4)])
        ]
        # The same fact again, from another employer's report: nothing more is owed or raised.
        await w.contribution("L1", "2020-05", date(2020, 7, 12), employer="E8")
        assert len(rows(w, case)) == 2 and len([t for t in w.store.tasks.values() if t["case_id"] == case]) == 1


async def test_k2_a_backdated_fact_after_the_correction_window_changes_nothing(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("L2", date(2020, 3, 15))
        await w.employment("L2", date(2020, 6, 20))
        case = "ui/L2/2020-03-15"
        assert w.closed_on(case) == date(2020, 6, 20)
        ledger = sorted(p.ledger_key for p in w.store.ledger.values() if p.case_id == case)
        # ledger.correction_days 365 after 2020-06-20: the window ended with 2021-06-20.
        outcome = await w.contribution("L2", "2020-05", date(2021, 6, 22))
        assert outcome.status == "ignored", outcome
        assert sorted(p.ledger_key for p in w.store.ledger.values() if p.case_id == case) == ledger
        assert rows(w, case) == [] and w.store.tasks == {}
        assert await w.store.open_cases(["person/L2"]) == []


async def test_k5_rejected_as_not_difficult_reopens_when_the_registration_comes_late(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        start = date(2020, 3, 16)
        await h.send("welfare_post.placed", {"person_id": "LW1", "post_id": "P1", "city": "2101", "kind": "regular",
                                             "starts_on": start.isoformat()}, at(start))
        case = f"welfare_post/LW1/P1/{start.isoformat()}"
        assert h.status(case) == "rejected" and h.record(case).closed_on == start
        # The registration of 01-02 reaches the intake on 04-10, 25 days after the decision
        # (within intake.late_fact_days 30): judged again as if it had come first.
        late = await h.send("unemployment.registered", registered("LW1", date(2020, 1, 2), FAR, ["dibao_household"]), at(date(2020, 4, 10)))
        assert late.status == "applied" and case in late.detail, late
        assert h.status(case) == "active"
        record = h.record(case)
        assert (record.opened_on, record.closed_on) == (start, None)
        await h.advance_to_day(date(2020, 5, 20))
        # Paid from the original start, with the original due dates (completion days).
        assert [(p.program, p.period, p.amount, p.due_on, p.entry) for p in h.payments(case)] == [
            (SI, "month-1", 60000, date(2020, 4, 16), "payment"),
            (POST, "month-1", 165000, date(2020, 4, 16), "payment"),
            (SI, "month-2", 60000, date(2020, 5, 16), "payment"),
            (POST, "month-2", 165000, date(2020, 5, 16), "payment"),
        ]
        view = await h.view(case)
        assert any(t.what.startswith("reopened") and t.event == key(late) for t in view.timeline)
        # Open again: a second placement while it runs is refused as before.
        again = await h.send("welfare_post.placed", {"person_id": "LW1", "post_id": "P2", "city": "2101", "kind": "regular",
                                                     "starts_on": "2020-05-25"}, at(date(2020, 5, 25)))
        assert again.status == "dead_letter" and "still placed" in again.detail


async def test_k5_registration_after_the_late_fact_window_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        start = date(2020, 3, 16)
        await h.send("welfare_post.placed", {"person_id": "LW2", "post_id": "P1", "city": "2101", "kind": "regular",
                                             "starts_on": start.isoformat()}, at(start))
        case = f"welfare_post/LW2/P1/{start.isoformat()}"
        assert h.status(case) == "rejected"
        # intake.late_fact_days 30 after 03-16: the window ended with 04-15.
        await h.send("unemployment.registered", registered("LW2", date(2020, 1, 2), FAR, ["dibao_household"]), at(date(2020, 4, 17)))
        await h.advance_to_day(date(2020, 6, 1))
        assert h.status(case) == "rejected" and h.record(case).closed_on == start
        assert h.payments(case) == []
        assert [c for c in await h.store.open_cases(["person/LW2"]) if c.case_id == case] == []
        # A new placement after the window is a new case, not refused as a duplicate.
        nxt = date(2020, 6, 1)
        again = await h.send("welfare_post.placed", {"person_id": "LW2", "post_id": "P2", "city": "2101", "kind": "regular",
                                                     "starts_on": nxt.isoformat()}, at(nxt))
        assert again.status == "applied"
        assert h.status(f"welfare_post/LW2/P2/{nxt.isoformat()}") == "active"


async def test_k2_keeps_listening_across_continue_as_new(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1), history_limit=60) as w:
        await w.claim("L3", date(2020, 3, 15))
        await w.employment("L3", date(2020, 6, 20))
        case = "ui/L3/2020-03-15"
        assert w.closed_on(case) == date(2020, 6, 20)
        first_run = (await w.env.client.get_workflow_handle(case).describe()).run_id
        # Contributions from the new employer after the re-employment: news, but nothing owed changes.
        for n, m in enumerate(("2020-07", "2020-08", "2020-09", "2020-10", "2020-11", "2020-12")):
            await w.contribution("L3", m, date(2020, 7 + n, 20))
        assert rows(w, case) == []
        assert (await w.env.client.get_workflow_handle(case).describe()).run_id != first_run
        cause = key(await w.contribution("L3", "2020-05", date(2021, 1, 10), employer="E8"))
        assert rows(w, case) == [
            (UI, month(3), "overpayment", 150000, date(2021, 1, 10), month(3), cause),
            (UI, month(4), "overpayment", 150000, date(2021, 1, 10), month(4), cause),
        ]
        assert (w.status(case), w.closed_on(case)) == ("reemployed", date(2020, 6, 20))


async def test_k2_a_backdated_benefit_change_after_closing_pays_arrears_at_once(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as w:
        await w.claim("L4", date(2020, 3, 15))
        await w.employment("L4", date(2020, 6, 20))
        case = "ui/L4/2020-03-15"
        assert w.closed_on(case) == date(2020, 6, 20)
        # Three weeks after closing, city 2101 raises the benefit to 160000 from 2020-04-01:
        # months 2 (04-15), 3 (05-15) and 4 (06-15) were paid 10000 short each.
        change = key(await w.parameter("ui.monthly_benefit", 160000, effective=date(2020, 4, 1), day=date(2020, 7, 10)))
        assert rows(w, case) == [
            (UI, month(2), "arrears", 10000, date(2020, 7, 10), month(2), change),
            (UI, month(3), "arrears", 10000, date(2020, 7, 10), month(3), change),
            (UI, month(4), "arrears", 10000, date(2020, 7, 10), month(4), change),
        ]
        assert worth(w, case) == {(UI, month(1)): 150000, **{(UI, month(n)): 160000 for n in (2, 3, 4)}}
        assert (w.status(case), w.store.tasks) == ("reemployed", {})


async def test_k4_rejected_as_not_difficult_reopens_in_the_registrations_city_and_pays_from_the_original_dates(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        applied = date(2020, 3, 2)
        await h.send("contribution.paid", {"person_id": "LK1", "month": "2020-03", "base": 300000, "employer_amount": 60000,
                                           "employee_amount": 24000, "insurances": ["pension"]}, at(date(2020, 3, 1)))
        await h.send("application.submitted", {"program": "flexible_employment_si", "applicant": "LK1", "on": applied.isoformat(),
                                               "details": {}}, at(applied), subject="person/LK1")
        case = f"flexible/LK1/{applied.isoformat()}"
        assert h.status(case) == "rejected" and h.record(case).city == "2101"
        await h.send("unemployment.registered", registered("LK1", date(2020, 1, 2), FAR, ["disabled"], city="2102"), at(date(2020, 3, 20)))
        record = h.record(case)
        assert (record.status, record.opened_on, record.closed_on, record.city) == ("active", applied, None, "2102")
        await h.advance_to_day(date(2020, 3, 21))  # past the reopened case's quiet spell (gather_burst)
        # 2/3 x 84000, due the later of paid (03-01), the month start and the application (03-02).
        assert [(p.period, p.amount, p.due_on, p.entry) for p in h.payments(case)] == [("2020-03", 56000, applied, "payment")]
