"""K1 internship_subsidy on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway, or signal-with-start directly), with business time in 2020.

Expected dates and amounts are worked out by hand from POLICY.md K1 with the shipped parameters
(internship.monthly_subsidy 120000 fen, fund employment_subsidy_fund, payee the unit); each test
says how. Time moves only by `env.sleep` (through the harness); nothing sleeps in real time but
the short waits for activities to finish.
"""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta

from temporalio.testing import WorkflowEnvironment

from contracts.cases import CaseEvent, CaseView
from tests.workflow.harness import World, agreement, at, internship_case_id, world
from workflows import internship_subsidy

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


# -- a stop dated after today (patch k1-close-once-owed-fell-due) ------------------------------------
def ended(person: str, unit: str, on: date, reason: str = "quit") -> dict[str, str]:
    return {"person_id": person, "unit_id": unit, "on": on.isoformat(), "reason": reason}


def contract(person: str, unit: str, signed: date) -> dict[str, object]:
    return {"person_id": person, "employer_id": unit, "signed_on": signed.isoformat(), "starts_on": (signed + timedelta(days=1)).isoformat(),
            "term_months": 12}


async def patch_markers(w: World, case: str) -> list[str]:
    """The ids of the `workflow.patched` markers in the case's history (this run's)."""
    history = json.loads((await w.handle(case).fetch_history()).to_json())
    return [json.loads(base64.b64decode(p["data"]))["id"] for e in history["events"]
            for p in e.get("markerRecordedEventAttributes", {}).get("details", {}).get("patch-data", {}).get("payloads", [])]


async def closing_rule(w: World, case: str) -> str:
    closing = (await w.view(case)).timeline[-1]
    assert closing.what.startswith("closed "), closing
    return closing.rule or ""


async def test_k1_an_end_dated_after_today_pays_the_month_completing_by_it_on_its_completion_day_then_closes_ended(
        env: WorkflowEnvironment) -> None:
    """POLICY.md K1: "`internship.ended` early: completed months only, closes `ended`", a month
    "completed at its end": an end notified ahead owes every month completing on or before its
    date, paid on its completion day, though that is after the day the end arrived.

    Start 2020-04-10, P = 12: months complete 05-10, 06-10. Ended on 06-10, notified 06-05: month 1
    is paid, the case stays `active` with its next deadline 06-10; on 06-10 month 2 is paid and the
    case closes `ended` on 06-10 with 2 completed months owed. A short history limit makes it
    continue as new while the close waits (on a parameter change from 07-01, which prices no month
    owed): the pending close is carried."""
    async with world(env, D(2020, 4, 10), history_limit=30) as w:
        case = await open_case(w, "E1", "W1", D(2020, 4, 10), 12)
        await w.send("internship.ended", ended("E1", "W1", D(2020, 6, 10)), D(2020, 6, 5))
        assert w.paid_months(case) == months(D(2020, 5, 10))
        view = await w.view(case)
        assert (view.status, view.closed_on, view.next_deadline) == ("active", None, D(2020, 6, 10))
        assert view.timeline[-1].what == "stays open until what it owes has fallen due (the next on 2020-06-10); then closes ended as of 2020-06-10"
        assert w.record(case).status == "active"
        change = {"city": "2101", "name": "internship.monthly_subsidy", "value": 140000, "effective_on": "2020-07-01"}
        await w.send("policy.parameter.changed", change, D(2020, 6, 7), subject="city/2101", source="policy/2101")
        continued = await w.view(case)
        assert (continued.status, continued.next_deadline, continued.details["generation"]) == ("active", D(2020, 6, 10), view.details["generation"] + 1)
        await w.advance_to_day(D(2020, 6, 9), hour=23)
        assert (w.paid_months(case), w.status(case)) == (months(D(2020, 5, 10)), "active")
        await w.advance_to(at(D(2020, 6, 10), hour=0) + timedelta(minutes=1))
        assert w.paid_months(case) == months(D(2020, 5, 10), D(2020, 6, 10))
        assert (w.record(case).status, w.record(case).closed_on) == ("ended", D(2020, 6, 10))
        assert await closing_rule(w, case) == "ended early (quit): 2 completed months owed"
        await w.advance_to_day(D(2020, 7, 11))
        assert len(w.payments_by_month(case)) == 2


async def test_k1_an_end_sent_just_before_midnight_for_the_next_day_pays_the_month_completing_that_day(env: WorkflowEnvironment) -> None:
    """The same rule when the end is dated the next day only because the sender's clock runs a
    little ahead of ours around Shanghai midnight (tests/faults f2 saw month 8 unpaid so).

    Start 2020-04-10, P = 12; ended on 06-10, sent at 06-09 23:58 business time: month 2 is paid in
    the first minute of 06-10 and the case closes `ended` on 06-10."""
    async with world(env, D(2020, 4, 10)) as w:
        case = await open_case(w, "E2", "W2", D(2020, 4, 10), 12)
        await w.send("internship.ended", ended("E2", "W2", D(2020, 6, 10)), at(D(2020, 6, 9), hour=23) + timedelta(minutes=58))
        assert (w.paid_months(case), w.status(case)) == (months(D(2020, 5, 10)), "active")
        await w.advance_to(at(D(2020, 6, 10), hour=0) + timedelta(minutes=1))
        assert w.paid_months(case) == months(D(2020, 5, 10), D(2020, 6, 10))
        assert (w.record(case).status, w.record(case).closed_on) == ("ended", D(2020, 6, 10))


async def test_k1_a_hire_dated_after_today_pays_the_month_completing_by_it_then_closes_hired(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: hired by the unit with a third or more left, "only completed months are paid
    and it closes `hired`": a contract signed ahead owes the month completing on its date.

    Start 2020-03-02, P = 6, D = 184. Contract dated 07-02 (S = 122, D − S = 62, not < 1/3),
    reported 06-25: months 1-3 are paid (04-02, 05-02, 06-02), month 4 on 07-02, and the case
    closes `hired` on 07-02 with 4 completed months owed."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "E3", "W3", D(2020, 3, 2), 6)
        await w.send("contract.signed", contract("E3", "W3", D(2020, 7, 2)), D(2020, 6, 25), source="lc/2101")
        assert (w.paid_months(case), w.status(case)) == (months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2)), "active")
        assert (await w.view(case)).next_deadline == D(2020, 7, 2)
        await w.advance_to_day(D(2020, 7, 2))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2), D(2020, 7, 2))
        assert (w.record(case).status, w.record(case).closed_on) == ("hired", D(2020, 7, 2))
        assert await closing_rule(w, case) == (
            "hired by the unit with 62 of 184 days left (not < 1/3, or after the window): 4 completed months owed")
        await w.advance_to_day(D(2020, 9, 3))
        assert len(w.payments_by_month(case)) == 4


async def test_k1_a_hire_dated_after_today_with_less_than_a_third_left_pays_every_month_on_the_hire_day(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: hired with D − S < D/3 by internship.full_subsidy_until, "the unit receives
    every unpaid month up to P at once and the case closes `hired_full_subsidy`" — at once on the
    hire day, when the contract is reported before it.

    Start 2020-03-02, P = 6, D = 184. Contract dated 07-03 (D − S = 61 < 61.33), reported 06-28:
    months 1-3 paid by then, month 4 on 07-02, months 5 and 6 on 07-03; closes on 07-03."""
    async with world(env, D(2020, 3, 2)) as w:
        case = await open_case(w, "E4", "W4", D(2020, 3, 2), 6)
        await w.send("contract.signed", contract("E4", "W4", D(2020, 7, 3)), D(2020, 6, 28), source="lc/2101")
        assert (len(w.payments_by_month(case)), w.status(case)) == (3, "active")
        await w.advance_to_day(D(2020, 7, 2))
        assert (len(w.payments_by_month(case)), w.status(case)) == (4, "active")
        await w.advance_to_day(D(2020, 7, 3))
        assert w.paid_months(case) == months(D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 2), D(2020, 7, 2), D(2020, 7, 3), D(2020, 7, 3))
        assert sum(p.amount for p in w.payments_by_month(case)) == 6 * MONTHLY
        assert (w.record(case).status, w.record(case).closed_on) == ("hired_full_subsidy", D(2020, 7, 3))
        assert "61 of 184 days left" in await closing_rule(w, case)


async def test_k1_an_end_dated_today_or_earlier_closes_at_once_as_before(env: WorkflowEnvironment) -> None:
    """POLICY.md K1 as it always ran: an end dated on the day it arrives, or before (reported
    late), owes nothing after today, so the case closes at once, and takes no new branch (its
    history has no marker of k1-close-once-owed-fell-due: the commands are those of before).

    Start 2020-04-10, P = 12: months complete 05-10, 06-10. Ended on 06-10 reported that day:
    2 months, `ended` on 06-10 at once. Ended on 06-01 reported on 06-05: 1 month, `ended` on 06-01."""
    async with world(env, D(2020, 4, 10)) as w:
        today = await open_case(w, "E5", "W5", D(2020, 4, 10), 12)
        earlier = await open_case(w, "E6", "W6", D(2020, 4, 10), 12)
        await w.send("internship.ended", ended("E6", "W6", D(2020, 6, 1)), D(2020, 6, 1), deliver_on=D(2020, 6, 5))
        assert w.paid_months(earlier) == months(D(2020, 5, 10))
        assert (w.record(earlier).status, w.record(earlier).closed_on) == ("ended", D(2020, 6, 1))
        await w.send("internship.ended", ended("E5", "W5", D(2020, 6, 10)), D(2020, 6, 10))
        assert w.paid_months(today) == months(D(2020, 5, 10), D(2020, 6, 10))
        assert (w.record(today).status, w.record(today).closed_on) == ("ended", D(2020, 6, 10))
        for case, n in ((today, 2), (earlier, 1)):
            assert await closing_rule(w, case) == f"ended early (quit): {n} completed months owed"
            assert not any(t.what.startswith("stays open") for t in (await w.view(case)).timeline)
            assert internship_subsidy.CLOSE_ONCE_OWED_FELL_DUE not in await patch_markers(w, case)


async def test_k1_an_interruption_while_the_close_waits_holds_the_month_and_the_case_closes_without_it(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: an interruption pauses accrual, and only completed months are paid: one
    dated before an announced end, reaching the case while its close waits, is taken as in an
    open case, and the month it holds is no longer owed.

    Start 2020-04-10, P = 12: months complete 05-10, 06-10, 07-10. Ended on 07-10, notified 07-01:
    the close waits for month 3. Interrupted (other) from 07-05, reported 07-06: month 3 is held,
    nothing owed falls due later, the case closes `ended` on 07-10 with 2 months. The resumption
    on 07-08 (month 3 then completes 07-13, after the end) changes nothing."""
    async with world(env, D(2020, 4, 10)) as w:
        case = await open_case(w, "E7", "W7", D(2020, 4, 10), 12)
        await w.send("internship.ended", ended("E7", "W7", D(2020, 7, 10)), D(2020, 7, 1))
        assert w.status(case) == "active"
        pause = {"person_id": "E7", "unit_id": "W7"}
        await w.send("internship.interrupted", {**pause, "on": "2020-07-05", "reason": "other"}, D(2020, 7, 6))
        assert (w.record(case).status, w.record(case).closed_on) == ("ended", D(2020, 7, 10))
        assert await closing_rule(w, case) == "ended early (quit): 2 completed months owed"
        await w.send("internship.resumed", {**pause, "on": "2020-07-08"}, D(2020, 7, 8))
        await w.advance_to_day(D(2020, 8, 1))
        assert w.paid_months(case) == months(D(2020, 5, 10), D(2020, 6, 10))
        assert w.status(case) == "ended"


async def test_k1_a_hire_dated_before_an_announced_end_is_the_stop_and_one_dated_after_it_changes_nothing(env: WorkflowEnvironment) -> None:
    """POLICY.md K1: the internship stops on the first of its end and the unit's hire. While the
    close of an end notified ahead waits, a hire dated before that end stops it (closes `hired`
    on the hire day, with the months owed by then); one dated on or after it concerns no month of
    it (noted), and the case closes `ended` as decided.

    Start 2020-04-10, P = 12 (D = 365): months complete 05-10, 06-10, 07-10. Both interns' ends
    are dated 07-20, notified 07-01. The first is hired on 07-05 (reported 07-03): month 3 (07-10)
    is no longer owed, `hired` on 07-05 at once with 2 months (S = 86, 279 days left). The second
    is hired on 07-25 (reported 07-03): noted; month 3 is paid on 07-10 and the case closes
    `ended` on 07-20."""
    async with world(env, D(2020, 4, 10)) as w:
        before = await open_case(w, "E8", "W8", D(2020, 4, 10), 12)
        after = await open_case(w, "E9", "W9", D(2020, 4, 10), 12)
        await w.send("internship.ended", ended("E8", "W8", D(2020, 7, 20)), D(2020, 7, 1))
        await w.send("internship.ended", ended("E9", "W9", D(2020, 7, 20)), D(2020, 7, 1))
        assert (w.status(before), w.status(after)) == ("active", "active")
        await w.send("contract.signed", contract("E8", "W8", D(2020, 7, 5)), D(2020, 7, 3), source="lc/2101")
        await w.send("contract.signed", contract("E9", "W9", D(2020, 7, 25)), D(2020, 7, 3), source="lc/2101")
        assert (w.record(before).status, w.record(before).closed_on) == ("hired", D(2020, 7, 5))
        assert await closing_rule(w, before) == (
            "hired by the unit with 279 of 365 days left (not < 1/3, or after the window): 2 completed months owed")
        assert w.status(after) == "active"
        assert (await w.view(after)).timeline[-1].what == (
            "hired by W9 on or after the internship stopped on 2020-07-20: no month of it changes")
        await w.advance_to_day(D(2020, 7, 10))
        assert (w.record(after).status, w.record(after).closed_on) == ("ended", D(2020, 7, 20))
        assert w.paid_months(after) == months(D(2020, 5, 10), D(2020, 6, 10), D(2020, 7, 10))
        await w.advance_to_day(D(2020, 8, 1))
        assert w.paid_months(before) == months(D(2020, 5, 10), D(2020, 6, 10))
