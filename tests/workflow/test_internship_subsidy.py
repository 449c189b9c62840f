"""K1 internship_subsidy on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway, or signal-with-start directly), with business time in 2020.

Expected dates and amounts are worked out by hand from POLICY.md K1 with the shipped parameters
(internship.monthly_subsidy 120000 fen, fund employment_subsidy_fund, payee the unit); each test
says how. Time moves only by `env.sleep` (through the harness); nothing sleeps in real time but
the short waits for activities to finish.
"""

from __future__ import annotations

from datetime import date, timedelta

from temporalio.testing import WorkflowEnvironment

from contracts.cases import CaseEvent, CaseView
from tests.workflow.harness import World, agreement, at, internship_case_id, world

D = date
MONTHLY = 120000


def months(*dates: date) -> list[tuple[str, date]]:
    return [(f"month-{n}", d) for n, d in enumerate(dates, start=1)]


async def open_case(w: World, person: str, unit: str, start: date, p: int, cohort: int = 2020) -> str:
    outcome = await w.send("internship.agreement_signed", agreement(person, unit, start, p, cohort), start)
    assert outcome.status == "applied", outcome
    return internship_case_id(person, unit, start)


async def test_k1_monthly_payment_falls_due_on_each_completion_date(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "The unit is paid internship.monthly_subsidy for each completed internship
    month"; conventions: month n = [D + (n-1) months, D + n months), completed at its end.

    Start 2020-03-02, P = 3: months complete 04-02, 05-02, 06-02; the period ends 06-02 → `completed`.
    """
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "A1", "U1", D(2020, 3, 2), 3)
        assert w.status(case) == "active"
        await w.advance_to_day(D(2020, 4, 1))
        assert w.paid_months(case) == []  # not a day early
        await w.advance_to(at(D(2020, 4, 2), hour=0) + timedelta(minutes=1))  # the first minute of the completion day
        assert w.paid_months(case) == months(D(2020, 4, 2))
        (first,) = w.payments_by_month(case)
        assert (first.payee, first.program, first.amount, first.fund) == (
            "enterprise/U1", "internship_subsidy", MONTHLY, "employment_subsidy_fund",
        )
        await w.advance_to_day(D(2020, 6, 1))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2))
        await w.advance_to_day(D(2020, 6, 2))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2))
        record = w.record(case)
        assert (record.status, record.closed_on) == ("completed", D(2020, 6, 2))
        await w.advance_to_day(D(2020, 9, 1))
        assert len(w.payments_by_month(case)) == 3  # never past P months


async def test_k1_epidemic_pause_then_resume_moves_later_payments_and_the_end(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "`internship.interrupted` with reason `epidemic` pauses the clock;
    `internship.resumed` resumes it. Paused days do not count and the period end moves back by
    them (§14 相应延长)."

    Start 2020-02-03, P = 3; paused [02-10, 03-16) = 20 + 15 = 35 days. Nominal completions
    03-03, 04-03, 05-03 each move 35 days: 04-07, 05-08, 06-07; the end 05-03 + 35 = 06-07.
    """
    async with world(env, D(2020, 2, 3)) as w:
        case = await open_case(w, "A2", "U2", D(2020, 2, 3), 3)
        pause = {"person_id": "A2", "unit_id": "U2"}
        await w.send("internship.interrupted", {**pause, "on": "2020-02-10", "reason": "epidemic"}, D(2020, 2, 10))
        view = await w.view(case)
        assert (view.status, view.next_deadline, view.details["period_end"]) == ("paused", None, None)
        await w.advance_to_day(D(2020, 3, 4))
        assert w.paid_months(case) == []  # 03-03 would have completed month 1 without the pause
        await w.send("internship.resumed", {**pause, "on": "2020-03-16"}, D(2020, 3, 16))
        view = await w.view(case)
        assert (view.status, view.next_deadline, view.details["period_end"]) == ("active", D(2020, 4, 7), "2020-06-07")
        await w.advance_to_day(D(2020, 4, 6))
        assert w.paid_months(case) == []
        await w.advance_to_day(D(2020, 4, 7))
        assert w.paid_months(case) == months(D(2020, 4, 7))
        await w.advance_to_day(D(2020, 6, 6))
        assert w.paid_months(case) == months(D(2020, 4, 7), D(2020, 5, 8))
        assert w.status(case) == "active"
        await w.advance_to_day(D(2020, 6, 7))
        assert w.paid_months(case) == months(D(2020, 4, 7), D(2020, 5, 8), D(2020, 6, 7))
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 6, 7))


async def test_k1_other_reason_pause_delays_payments_but_not_the_end(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "An interruption for another reason pauses accrual but does not move the end."

    Start 2020-03-02, P = 3; paused [03-10, 03-20) = 10 days. Completions 04-12, 05-12, 06-12,
    but the end stays 06-02: month 3 never completes; `completed` on 06-02 with 2 months paid.
    """
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "A3", "U3", D(2020, 3, 2), 3)
        pause = {"person_id": "A3", "unit_id": "U3"}
        await w.send("internship.interrupted", {**pause, "on": "2020-03-10", "reason": "other"}, D(2020, 3, 10))
        view = await w.view(case)
        assert (view.status, view.details["period_end"]) == ("paused", "2020-06-02")
        await w.send("internship.resumed", {**pause, "on": "2020-03-20"}, D(2020, 3, 20))
        await w.advance_to_day(D(2020, 4, 11))
        assert w.paid_months(case) == []
        await w.advance_to_day(D(2020, 4, 12))
        assert w.paid_months(case) == months(D(2020, 4, 12))
        await w.advance_to_day(D(2020, 6, 2))
        assert w.paid_months(case) == months(D(2020, 4, 12), D(2020, 5, 12))
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 6, 2))
        await w.advance_to_day(D(2020, 6, 13))
        assert len(w.payments_by_month(case)) == 2


async def test_k1_hire_with_less_than_a_third_left_pays_every_month_at_once(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "If D − S < D/3 and the contract date is on or before
    internship.full_subsidy_until, the unit receives every unpaid month up to P at once and the
    case closes `hired_full_subsidy`."

    Start 2020-03-02, P = 6: D = 184 (to 09-02). Contract 07-03: S = 123, D − S = 61 < 61.33.
    Months 1-4 completed 04-02, 05-02, 06-02, 07-02 (paid then); months 5, 6 due on 07-03.
    """
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "A4", "U4", D(2020, 3, 2), 6)
        await w.advance_to_day(D(2020, 7, 2))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2), D(2020, 7, 2))
        contract = {"person_id": "A4", "employer_id": "U4", "signed_on": "2020-07-03", "starts_on": "2020-07-04", "term_months": 12}
        await w.send("contract.signed", contract, D(2020, 7, 3), source="lc/2101")
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2), D(2020, 7, 2), D(2020, 7, 3), D(2020, 7, 3))
        assert sum(p.amount for p in w.payments_by_month(case)) == 6 * MONTHLY
        record = w.record(case)
        assert (record.status, record.closed_on) == ("hired_full_subsidy", D(2020, 7, 3))
        closing = (await w.view(case)).timeline[-1]
        assert closing.what == "closed hired_full_subsidy" and "61 of 184 days left" in (closing.rule or "")


async def test_k1_hire_with_a_third_or_more_left_pays_completed_months_only(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "Otherwise only completed months are paid and it closes `hired`."

    Start 2020-03-02, P = 6, D = 184. Contract 07-02: S = 122, D − S = 62 > 61.33 → not full.
    Month 4 completes that same day (07-02), so 4 months are paid.
    """
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "A5", "U5", D(2020, 3, 2), 6)
        contract = {"person_id": "A5", "employer_id": "U5", "signed_on": "2020-07-02", "starts_on": "2020-07-02", "term_months": 12}
        await w.send("contract.signed", contract, D(2020, 7, 2), source="lc/2101")
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2), D(2020, 7, 2))
        assert (w.record(case).status, w.record(case).closed_on) == ("hired", D(2020, 7, 2))
        await w.advance_to_day(D(2020, 9, 3))
        assert len(w.payments_by_month(case)) == 4


async def test_k1_hire_by_another_employer_changes_nothing(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: only a hire "by the unit (`contract.signed`, employer = the unit)" counts."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "A6", "U6", D(2020, 3, 2), 3)
        contract = {"person_id": "A6", "employer_id": "OTHER", "signed_on": "2020-05-20", "starts_on": "2020-05-20", "term_months": 12}
        outcome = await w.send("contract.signed", contract, D(2020, 5, 20), source="lc/2101")
        assert outcome.status == "ignored"
        assert w.status(case) == "active"
        await w.advance_to_day(D(2020, 6, 2))
        assert (w.status(case), len(w.payments_by_month(case))) == ("completed", 3)


async def test_k1_early_end_pays_completed_months_and_closes_ended(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "`internship.ended` early: completed months only, closes `ended`."

    Start 2020-04-10, P = 12: months complete 05-10, 06-10; ended 06-20 → 2 months.
    """
    async with world(env, D(2020, 4, 10)) as w:
        case = await open_case(w, "A7", "U7", D(2020, 4, 10), 12)
        ended = {"person_id": "A7", "unit_id": "U7", "on": "2020-06-20", "reason": "quit"}
        await w.send("internship.ended", ended, D(2020, 6, 20))
        assert w.paid_months(case) == months(D(2020, 5, 10), D(2020, 6, 10))
        assert (w.record(case).status, w.record(case).closed_on) == ("ended", D(2020, 6, 20))
        await w.advance_to_day(D(2020, 7, 11))
        assert len(w.payments_by_month(case)) == 2


async def test_k1_cohort_not_covered_is_rejected_without_payment(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "Not eligible (case closes `rejected`, no payment) unless the graduate's
    cohort is in internship.cohorts" (2020, 2021)."""
    async with world(env, D(2020, 3, 5)) as w:
        case = await open_case(w, "A8", "U8", D(2020, 3, 5), 6, cohort=2019)
        record = w.record(case)
        assert (record.status, record.opened_on, record.closed_on) == ("rejected", D(2020, 3, 5), D(2020, 3, 5))
        closing = (await w.view(case)).timeline[-1]
        assert closing.what == "closed rejected" and "cohort 2019" in (closing.rule or "")
        await w.advance_to_day(D(2020, 4, 6))
        assert w.payments_by_month(case) == []


async def test_k1_epidemic_declared_and_lifted_do_not_change_k1_payments(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: only the case's own `internship.interrupted`/`resumed` move its clock; the
    shared epidemic facts (declared S, lifted L, a corrected L) are for other kinds.

    Same dates as the epidemic-pause test (start 02-03, P = 3, paused [02-10, 03-16)):
    04-07, 05-08, 06-07, whether the facts arrive before the start, during the pause or after.
    """
    async with world(env, D(2020, 1, 25)) as w:
        await w.send("policy.epidemic.declared", {"on": "2020-01-25"}, D(2020, 1, 25), subject="city/2101", source="policy/2101")
        case = await open_case(w, "A9", "U9", D(2020, 2, 3), 3)
        pause = {"person_id": "A9", "unit_id": "U9"}
        await w.send("internship.interrupted", {**pause, "on": "2020-02-10", "reason": "epidemic"}, D(2020, 2, 10))
        await w.send("policy.epidemic.lifted", {"on": "2020-03-01"}, D(2020, 3, 1), subject="province/21", source="policy/21")
        assert w.status(case) == "paused"  # the lift does not resume the internship
        await w.send("internship.resumed", {**pause, "on": "2020-03-16"}, D(2020, 3, 16))
        await w.send("policy.epidemic.declared", {"on": "2020-01-20"}, D(2020, 4, 1), subject="province/21", source="policy/21")
        await w.send("policy.epidemic.lifted", {"on": "2020-04-28"}, D(2020, 4, 28), subject="province/21", source="policy/21")
        await w.advance_to_day(D(2020, 6, 7))
        assert w.paid_months(case) == months(D(2020, 4, 7), D(2020, 5, 8), D(2020, 6, 7))
        assert (w.record(case).status, w.record(case).closed_on) == ("completed", D(2020, 6, 7))
        notes = [t.what for t in (await w.view(case)).timeline]
        assert notes.count("epidemic lifted") == 2 and notes.count("epidemic declared") == 1  # they did arrive


async def test_k1_duplicate_signal_with_the_same_source_and_id_is_absorbed(env: WorkflowEnvironment) -> None:
    """POLICY.md conventions: paying twice is a defect; the case drops a redelivered event
    (same source + id) — here a redelivered interruption after the resumption, which would
    otherwise reopen the pause and stop the clock for good.

    Start 2020-03-02, P = 3, paused (epidemic) [03-10, 03-20) = 10 days → 04-12, 05-12, 06-12.
    """
    async with world(env, D(2020, 3, 2)) as w:
        case = internship_case_id("B1", "V1", D(2020, 3, 2))

        def ev(id_: str, type_: str, day: date, **data: object) -> CaseEvent:
            return CaseEvent(source="es/2101", id=id_, type=type_, subject="person/B1", time=at(day), data=data)

        await w.advance_to(at(D(2020, 3, 2)))
        handle = await w.start_directly(
            ev("b1-open", "internship.agreement_signed", D(2020, 3, 2), **agreement("B1", "V1", D(2020, 3, 2), 3)), case
        )
        await w.settle()
        interrupted = ev("b1-int", "internship.interrupted", D(2020, 3, 10), person_id="B1", unit_id="V1", on="2020-03-10", reason="epidemic")
        await w.advance_to(at(D(2020, 3, 10)))
        await handle.signal("event", interrupted)
        await w.advance_to(at(D(2020, 3, 20)))
        await handle.signal("event", ev("b1-res", "internship.resumed", D(2020, 3, 20), person_id="B1", unit_id="V1", on="2020-03-20"))
        await w.advance_to(at(D(2020, 3, 25)))
        await handle.signal("event", interrupted)  # redelivered
        await handle.signal("event", interrupted)
        await w.settle()
        view = await w.view(case)
        assert (view.status, view.events_seen) == ("active", 3)
        assert [t.what for t in view.timeline].count("interrupted (epidemic)") == 1
        await w.advance_to_day(D(2020, 6, 12))
        assert w.paid_months(case) == months(D(2020, 4, 12), D(2020, 5, 12), D(2020, 6, 12))
        outcome = await handle.result()
        assert (outcome.status, outcome.paid_fen) == ("completed", 3 * MONTHLY)


async def test_k1_redelivered_record_is_a_duplicate_at_the_intake(env: WorkflowEnvironment) -> None:
    """The inbox: one row per (source, id); the same record again is a duplicate, not a second case."""
    async with world(env, D(2020, 3, 2)) as w:
        data = agreement("B2", "V2", D(2020, 3, 2), 3)
        first = await w.send("internship.agreement_signed", data, D(2020, 3, 2), event_id="same")
        again = await w.send("internship.agreement_signed", data, D(2020, 3, 2), event_id="same")
        assert (first.status, again.status) == ("applied", "duplicate")
        assert (await w.view(internship_case_id("B2", "V2", D(2020, 3, 2)))).events_seen == 1


async def test_k1_late_agreement_catches_up_on_what_fell_due(env: WorkflowEnvironment) -> None:
    """POLICY.md conventions: "Events can arrive late: a case catches up (pays what fell due) and
    goes on." An agreement starting 2020-03-02 (P = 3) delivered on 05-15: months 1 and 2 are paid
    at once, each with its own due date (04-02, 05-02); month 3 falls due 06-02."""
    async with world(env, D(2020, 3, 2)) as w:
        data = agreement("B3", "V3", D(2020, 3, 2), 3)
        await w.send("internship.agreement_signed", data, D(2020, 3, 2), deliver_on=D(2020, 5, 15))
        case = internship_case_id("B3", "V3", D(2020, 3, 2))
        # A case that opens behind business time first waits a few quiet seconds for the rest of
        # the subject's burst (CaseWorkflow.gather_burst), then judges it in date order.
        assert w.paid_months(case) == []
        await w.advance_to(at(D(2020, 5, 15), hour=10))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2))
        await w.advance_to_day(D(2020, 6, 2))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2))
        assert w.status(case) == "completed"


async def test_k1_state_query_returns_a_case_view_with_rules_on_the_timeline(env: WorkflowEnvironment) -> None:
    """What a supervisor sees (the `state` query): status, dates, the next deadline and a
    timeline whose payments and closing name the POLICY.md rule that decided them."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "B4", "V4", D(2020, 3, 2), 3)
        await w.advance_to_day(D(2020, 4, 2))
        view = await w.view(case)
        assert isinstance(view, CaseView)
        assert (view.case_id, view.kind, view.status, view.subject, view.city) == (
            case, "internship_subsidy", "active", "person/B4", "2101",
        )
        assert (view.opened_on, view.closed_on, view.next_deadline, view.business_today) == (
            D(2020, 3, 2), None, D(2020, 5, 2), D(2020, 4, 2),
        )
        assert view.details["agreed_months"] == 3 and view.details["months_paid"] == 1
        assert view.details["period_end"] == "2020-06-02" and view.paid_fen == MONTHLY
        paid = [t for t in view.timeline if t.amount]
        assert [(t.on, t.amount) for t in paid] == [(D(2020, 4, 2), MONTHLY)]
        assert paid[0].rule and paid[0].rule.startswith("§14")
        await w.advance_to_day(D(2020, 6, 2))
        view = await w.view(case)
        assert (view.status, view.closed_on, view.next_deadline) == ("completed", D(2020, 6, 2), None)
        assert view.timeline[-1].what == "closed completed" and "3 of 3 months" in (view.timeline[-1].rule or "")


async def test_k1_monthly_amount_is_the_value_in_force_at_each_month_start(env: WorkflowEnvironment) -> None:
    """POLICY.md shared facts: "a city's parameter can change from an effective date; a case
    uses the value in force on the date of each payment's period start."

    Start 2020-03-02, P = 4: months start 03-02, 04-02, 05-02, 06-02. internship.monthly_subsidy
    for 2101 becomes 140000 from 05-01 (announced before the case opens, read from the stored
    facts) and 150000 from 06-01 (announced while it runs, delivered as a signal):
    120000, 120000, 140000, 150000.
    """
    async with world(env, D(2020, 2, 20)) as w:
        change = {"city": "2101", "name": "internship.monthly_subsidy"}
        await w.send("policy.parameter.changed", {**change, "value": 140000, "effective_on": "2020-05-01"}, D(2020, 2, 20),
                     subject="city/2101", source="policy/2101")
        case = await open_case(w, "B5", "V5", D(2020, 3, 2), 4)
        await w.send("policy.parameter.changed", {**change, "value": 150000, "effective_on": "2020-06-01"}, D(2020, 3, 10),
                     subject="city/2101", source="policy/2101")
        await w.advance_to_day(D(2020, 7, 2))
        assert [(p.period, p.due_on, p.amount) for p in w.payments_by_month(case)] == [
            ("month-1", D(2020, 4, 2), 120000),
            ("month-2", D(2020, 5, 2), 120000),
            ("month-3", D(2020, 6, 2), 140000),
            ("month-4", D(2020, 7, 2), 150000),
        ]
        assert w.status(case) == "completed"
