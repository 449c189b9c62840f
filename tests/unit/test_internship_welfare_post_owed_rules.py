"""What K1 and K5 owe on the facts known now (POLICY.md part 2): the pure schedules their
workflows reconcile against, with dates and amounts derived by hand from POLICY.md K1/K5 and the
shipped parameters (internship.monthly_subsidy 120000; welfare_post.post_subsidy 165000 and
si_subsidy 60000)."""

from __future__ import annotations

from datetime import date

from policy import internship, welfare_post
from policy.corrections import LedgerEntry, reconcile
from policy.monthly_schedule import last_month_paid, month_completed_on
from policy.pack import load_pack

D = date
PARAMS = load_pack().parameters("2101")


def schedule(months: list[internship.OwedMonth]) -> list[tuple[int, date, bool]]:
    return [(m.n, m.due_on, m.lump) for m in months]


def test_k1_owed_months_are_the_completion_days_within_the_period() -> None:
    # Start 03-02, P = 3: 04-02, 05-02, 06-02; whatever `today` is, the schedule is the same.
    for today in (D(2020, 3, 2), D(2020, 5, 10), D(2020, 9, 1)):
        assert schedule(internship.owed_months(D(2020, 3, 2), 3, [], today)) == [
            (1, D(2020, 4, 2), False), (2, D(2020, 5, 2), False), (3, D(2020, 6, 2), False)]


def test_k1_a_closed_other_pause_moves_months_later_and_drops_those_past_the_end() -> None:
    # P = 4 (end 07-02), paused [04-10, 05-20) = 40 days: 04-02, 06-11, 07-12 > end, 08-11 > end.
    pauses = [internship.Pause(D(2020, 4, 10), D(2020, 5, 20), epidemic=False)]
    assert schedule(internship.owed_months(D(2020, 3, 2), 4, pauses, D(2020, 6, 10))) == [
        (1, D(2020, 4, 2), False), (2, D(2020, 6, 11), False)]


def test_k1_an_open_pause_owes_nothing_from_its_start_until_a_resumption_is_known() -> None:
    # Paused since 04-20, P = 3 (start 03-02): months 2 and 3 complete after the pause began, so
    # neither is owed while it lasts, whatever `today` is and whether or not it is an epidemic pause.
    for epidemic in (False, True):
        pauses = [internship.Pause(D(2020, 4, 20), None, epidemic=epidemic)]
        for today in (D(2020, 4, 25), D(2020, 5, 10), D(2020, 6, 2), D(2020, 9, 1)):
            assert schedule(internship.owed_months(D(2020, 3, 2), 3, pauses, today)) == [(1, D(2020, 4, 2), False)]
    # The resumption on 05-10 (20 days) owes them again, due on their new completion days.
    resumed = [internship.Pause(D(2020, 4, 20), D(2020, 5, 10), epidemic=True)]
    assert schedule(internship.owed_months(D(2020, 3, 2), 3, resumed, D(2020, 5, 10))) == [
        (1, D(2020, 4, 2), False), (2, D(2020, 5, 22), False), (3, D(2020, 6, 22), False)]


def test_k1_an_open_pause_held_months_until_the_period_end_for_cases_opened_before() -> None:
    # The rule before patch k1-open-pause-owes-nothing. Paused since 04-20 (other reason), P = 3,
    # end 06-02: on 05-10 months 2 and 3 are due no earlier than 05-02 + 20 = 05-22 and 06-22 (if
    # resumed that day), kept until the end; on the end day they can no longer complete.
    pauses = [internship.Pause(D(2020, 4, 20), None, epidemic=False)]
    assert schedule(internship.owed_months(D(2020, 3, 2), 3, pauses, D(2020, 5, 10), held_owed_until_period_end=True)) == [
        (1, D(2020, 4, 2), False), (2, D(2020, 5, 22), False), (3, D(2020, 6, 22), False)]
    assert schedule(internship.owed_months(D(2020, 3, 2), 3, pauses, D(2020, 6, 2), held_owed_until_period_end=True)) == [
        (1, D(2020, 4, 2), False)]
    # An epidemic pause moves the end with it: nothing is ever dropped while it is open.
    epidemic = [internship.Pause(D(2020, 4, 20), None, epidemic=True)]
    assert [m.n for m in internship.owed_months(D(2020, 3, 2), 3, epidemic, D(2020, 9, 1), held_owed_until_period_end=True)] == [1, 2, 3]


def test_k1_an_early_end_or_hire_stops_the_schedule_and_a_lump_pays_the_rest_that_day() -> None:
    start = D(2020, 3, 2)
    assert [m.n for m in internship.owed_months(start, 6, [], D(2020, 7, 10), stopped_on=D(2020, 5, 20))] == [1, 2]
    # Hired 07-03 with 61 of 184 days left: months 5 and 6 due on the hire day.
    assert schedule(internship.owed_months(start, 6, [], D(2020, 7, 3), stopped_on=D(2020, 7, 3), lump_on=D(2020, 7, 3)))[-3:] == [
        (4, D(2020, 7, 2), False), (5, D(2020, 7, 3), True), (6, D(2020, 7, 3), True)]
    assert internship.full_subsidy_on_hire(start, 6, [], D(2020, 7, 3), PARAMS)
    # The lump is judged on the pauses known now: 10 paused days before the hire leave
    # 71 of 184 days (not < 1/3), so a late interruption turns months 5 and 6 into overpayments.
    late = [internship.Pause(D(2020, 5, 1), D(2020, 5, 11), epidemic=False)]
    assert not internship.full_subsidy_on_hire(start, 6, late, D(2020, 7, 3), PARAMS)


def test_k5_owed_by_month_prices_both_subsidies_on_the_month_start_and_dues_them_at_its_end() -> None:
    changed = PARAMS.with_change("welfare_post.post_subsidy", 175000, D(2020, 5, 1))
    owed = welfare_post.owed_by_month(payee="person/W", fund="employment_subsidy_fund", start=D(2020, 3, 16), months=[1, 2, 3],
                            params=changed, rule=lambda n, begins: f"month {n} from {begins}")
    assert sorted((o.program, o.period, o.amount, o.due_on) for o in owed) == sorted(
        [(welfare_post.PROGRAM_POST, "month-1", 165000, D(2020, 4, 16)), (welfare_post.PROGRAM_POST, "month-2", 165000, D(2020, 5, 16)),
         (welfare_post.PROGRAM_POST, "month-3", 175000, D(2020, 6, 16)), (welfare_post.PROGRAM_SI, "month-1", 60000, D(2020, 4, 16)),
         (welfare_post.PROGRAM_SI, "month-2", 60000, D(2020, 5, 16)), (welfare_post.PROGRAM_SI, "month-3", 60000, D(2020, 6, 16))])
    assert month_completed_on(D(2020, 1, 31), 1) == D(2020, 2, 29)
    written = reconcile(owed, [], D(2020, 5, 16), PARAMS.ratio("recovery.max_deduction_ratio", D(2020, 5, 16)))
    assert (last_month_paid(written, 0), last_month_paid([], 7)) == (2, 7)
    # Month 3 was paid at 165000 before the change was known: 10000 arrears, due the day known.
    paid = [LedgerEntry(welfare_post.PROGRAM_POST, "month-3", "payment", 165000, "employment_subsidy_fund", "person/W", D(2020, 6, 16), "r")]
    rows = reconcile([o for o in owed if (o.program, o.period) == (welfare_post.PROGRAM_POST, "month-3")], paid, D(2020, 6, 20),
                     PARAMS.ratio("recovery.max_deduction_ratio", D(2020, 6, 20)), "policy#1")
    assert [(r.entry, r.amount, r.due_on, r.corrects, r.cause) for r in rows] == [
        ("arrears", 10000, D(2020, 6, 20), "month-3", "policy#1")]
