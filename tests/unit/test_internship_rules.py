"""K1 internship_subsidy (就业见习补贴, §14): every rule of POLICY.md K1 as a pure test.

Each test is named after the rule it guards and quotes it. Expected values are worked out by
hand from the calendar (day counts are written next to them), never copied from the program.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policy import internship
from policy.calendar import add_months
from policy.internship import Pause
from policy.pack import PolicyPack, load_pack

PACK = load_pack()
PARAMS = PACK.parameters("2101")
D = date


def completions(start: date, months: int, pauses: list[Pause]) -> list[date | None]:
    return [internship.completion_date(start, n, pauses) for n in range(1, months + 1)]


# --- eligibility ------------------------------------------------------------------------------
@pytest.mark.parametrize("cohort", [2020, 2021])
def test_cohort_2020_and_2021_are_eligible(cohort: int) -> None:
    """POLICY.md K1: "Not eligible ... unless the graduate's cohort is in internship.cohorts"
    (shipped: 2020, 2021 — §14 将2020届、2021届毕业学年高校毕业生纳入就业见习补贴)."""
    assert internship.cohort_eligible(cohort, PARAMS, D(2020, 3, 2))


@pytest.mark.parametrize("cohort", [2019, 2022])
def test_cohort_outside_internship_cohorts_is_not_eligible(cohort: int) -> None:
    """POLICY.md K1: a cohort not in internship.cohorts → the case closes `rejected`."""
    assert not internship.cohort_eligible(cohort, PARAMS, D(2020, 3, 2))


def test_cohort_city_override_in_the_pack_is_respected() -> None:
    """POLICY.md: "each [city] has its own parameters"; a city override of internship.cohorts
    decides for that city only."""
    pack = PolicyPack(
        name=PACK.name,
        defaults=PACK.defaults,
        cities={"2102": {"internship.cohorts": [2019, 2020, 2021]}},
    )
    on = D(2020, 3, 2)
    assert internship.cohort_eligible(2019, pack.parameters("2102"), on)
    assert not internship.cohort_eligible(2019, pack.parameters("2101"), on)


def test_cohort_dated_parameter_change_applies_from_its_effective_date() -> None:
    """POLICY.md shared facts: "a city's parameter can change from an effective date"."""
    changed = PARAMS.with_change("internship.cohorts", [2019, 2020, 2021], D(2020, 6, 1))
    assert not internship.cohort_eligible(2019, changed, D(2020, 5, 31))
    assert internship.cohort_eligible(2019, changed, D(2020, 6, 1))


@pytest.mark.parametrize(("months", "valid"), [(2, False), (3, True), (6, True), (12, True), (13, False)])
def test_agreed_months_outside_3_to_12_are_bad_input(months: int, valid: bool) -> None:
    """POLICY.md K1: "P outside 3..12 is bad input" (internship.months, national)."""
    assert internship.agreed_months_valid(months, PARAMS, D(2020, 3, 2)) is valid


# --- D and S ----------------------------------------------------------------------------------
def test_period_days_D_is_start_to_same_day_P_months_later() -> None:
    """POLICY.md K1: "D = days from the start date to the same day P months later"."""
    # 2020-03-02 → 2020-09-02: Mar 29 + Apr 30 + May 31 + Jun 30 + Jul 31 + Aug 31 + 2 = 184.
    assert internship.period_days(D(2020, 3, 2), 6) == 184
    # 2020-02-01 → 2020-05-01: Feb 29 (leap) + Mar 31 + Apr 30 = 90.
    assert internship.period_days(D(2020, 2, 1), 3) == 90
    # 2020-04-01 → 2021-01-01: 30+31+30+31+31+30+31+30+31 = 275.
    assert internship.period_days(D(2020, 4, 1), 9) == 275


def test_served_days_S_excludes_paused_days() -> None:
    """POLICY.md K1: "S = days served up to the contract date (paused days excluded)"."""
    start = D(2020, 3, 2)
    # No pause: 2020-03-02 → 2020-04-02 = 31 days.
    assert internship.served_days(start, D(2020, 4, 2), []) == 31
    # Pause [03-10, 03-20) = 10 days, of either reason, is not served.
    for epidemic in (True, False):
        assert internship.served_days(start, D(2020, 4, 2), [Pause(D(2020, 3, 10), D(2020, 3, 20), epidemic)]) == 21
    # A pause still open on the day asked: only its days so far count (03-10..03-14 = 5).
    assert internship.served_days(start, D(2020, 3, 15), [Pause(D(2020, 3, 10), None, True)]) == 8
    # Nothing served before the start.
    assert internship.served_days(start, start, []) == 0
    assert internship.served_days(start, D(2020, 3, 1), []) == 0


# --- the 1/3 rule on hire ---------------------------------------------------------------------
def test_hire_one_third_rule_just_below_one_third_left_pays_full() -> None:
    """POLICY.md K1: "If D − S < D/3 and the contract date is on or before
    internship.full_subsidy_until, the unit receives every unpaid month up to P at once"."""
    start = D(2020, 3, 2)  # P = 6, D = 184, D/3 = 61.33: D − S ≤ 61 ⇔ S ≥ 123.
    contract = start + timedelta(days=123)  # 2020-07-03: D − S = 61 < 61.33
    assert contract == D(2020, 7, 3)
    assert internship.full_subsidy_on_hire(start, 6, [], contract, PARAMS)


def test_hire_one_third_rule_just_above_one_third_left_is_not_full() -> None:
    """POLICY.md K1: otherwise "only completed months are paid and it closes `hired`"."""
    start = D(2020, 3, 2)  # D = 184: S = 122 → D − S = 62 > 61.33.
    assert not internship.full_subsidy_on_hire(start, 6, [], D(2020, 7, 2), PARAMS)


def test_hire_one_third_rule_exactly_one_third_left_is_not_full() -> None:
    """POLICY.md K1: the rule is strict, D − S < D/3; exactly a third left does not qualify."""
    start = D(2020, 2, 1)  # P = 3, D = 90 (leap Feb), D/3 = 30.
    assert internship.period_days(start, 3) == 90
    # 2020-04-01: S = 29 + 31 = 60, D − S = 30 = D/3 → not full.
    assert not internship.full_subsidy_on_hire(start, 3, [], D(2020, 4, 1), PARAMS)
    # 2020-04-02: S = 61, D − S = 29 < 30 → full.
    assert internship.full_subsidy_on_hire(start, 3, [], D(2020, 4, 2), PARAMS)
    # 2020-03-31: S = 59, D − S = 31 > 30 → not full.
    assert not internship.full_subsidy_on_hire(start, 3, [], D(2020, 3, 31), PARAMS)


def test_hire_one_third_rule_paused_days_do_not_count_as_served() -> None:
    """POLICY.md K1: S excludes paused days, so a pause keeps more of the period "left"."""
    start = D(2020, 3, 2)  # D = 184; without a pause 2020-07-03 is full (S = 123).
    pause = [Pause(D(2020, 4, 1), D(2020, 4, 3), True)]  # 2 days → S = 121, D − S = 63.
    assert not internship.full_subsidy_on_hire(start, 6, pause, D(2020, 7, 3), PARAMS)
    # Two days later the served days catch up: 2020-07-05, S = 125 − 2 = 123.
    assert internship.full_subsidy_on_hire(start, 6, pause, D(2020, 7, 5), PARAMS)


def test_hire_window_edge_contract_on_full_subsidy_until_is_full() -> None:
    """POLICY.md K1: full subsidy only when "the contract date is on or before
    internship.full_subsidy_until" (2020-12-31, §14 实施期限至2020年12月31日)."""
    start = D(2020, 8, 1)  # P = 6, D = 184; on 2020-12-31 S = 152, D − S = 32 < 61.33.
    until = PARAMS.day("internship.full_subsidy_until", D(2020, 12, 31))
    assert until == D(2020, 12, 31)
    assert internship.full_subsidy_on_hire(start, 6, [], until, PARAMS)


def test_hire_window_edge_contract_the_day_after_is_not_full() -> None:
    """POLICY.md K1: a contract after internship.full_subsidy_until is never a full subsidy,
    however little of the period is left."""
    start = D(2020, 8, 1)  # On 2021-01-01 S = 153, D − S = 31 < 61.33, but after the window.
    assert not internship.full_subsidy_on_hire(start, 6, [], D(2021, 1, 1), PARAMS)


def test_hire_window_follows_a_city_override_of_full_subsidy_until() -> None:
    """POLICY.md: windows are parameters of the pack, never literals in code."""
    start = D(2020, 8, 1)
    later = PARAMS.with_change("internship.full_subsidy_until", "2021-06-30", D(2020, 1, 1))
    assert internship.full_subsidy_on_hire(start, 6, [], D(2021, 1, 1), later)


# --- completion dates and the period end ------------------------------------------------------
def test_month_is_completed_at_its_end_without_pauses() -> None:
    """POLICY.md conventions: "Month n ... is [D + (n-1) months, D + n months). A month is
    completed at its end"; K1 pays "for each completed internship month"."""
    start = D(2020, 3, 2)
    assert completions(start, 6, []) == [D(2020, m, 2) for m in range(4, 10)]
    assert internship.period_end(start, 6, []) == D(2020, 9, 2)
    assert internship.completed_months(start, 6, [], D(2020, 4, 1)) == 0
    assert internship.completed_months(start, 6, [], D(2020, 4, 2)) == 1


def test_epidemic_pause_moves_the_period_end_and_later_completion_dates() -> None:
    """POLICY.md K1: "`internship.interrupted` with reason `epidemic` pauses the clock ...
    Paused days do not count and the period end moves back by them (§14 相应延长)"."""
    start = D(2020, 2, 3)
    pause = [Pause(D(2020, 2, 10), D(2020, 3, 16), True)]  # Feb 10..29 = 20, Mar 1..15 = 15: 35 days
    # Nominal completions 03-03, 04-03, ... 08-03, each + 35 days.
    assert completions(start, 6, pause) == [
        D(2020, 4, 7), D(2020, 5, 8), D(2020, 6, 7), D(2020, 7, 8), D(2020, 8, 7), D(2020, 9, 7)
    ]
    assert internship.period_end(start, 6, pause) == D(2020, 9, 7)  # 2020-08-03 + 35
    assert internship.completed_months(start, 6, pause, D(2020, 9, 7)) == 6


def test_epidemic_pause_does_not_move_months_completed_before_it() -> None:
    """POLICY.md K1: only paused days before a completion push it back."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 5, 10), D(2020, 5, 20), True)]  # 10 days, after month 2 ends (05-02)
    assert completions(start, 3, pause) == [D(2020, 4, 2), D(2020, 5, 2), D(2020, 6, 12)]


def test_epidemic_pause_still_open_leaves_the_end_and_later_completions_unknown() -> None:
    """POLICY.md K1: the epidemic pause "pauses the clock": while it lasts nothing after it
    completes and the end is not yet known."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 3, 20), None, True)]
    assert internship.period_end(start, 3, pause) is None
    assert internship.completion_date(start, 1, pause) is None
    assert internship.completed_months(start, 3, pause, D(2020, 12, 31)) == 0


def test_other_reason_pause_does_not_move_the_end_so_the_last_month_never_completes() -> None:
    """POLICY.md K1: "An interruption for another reason pauses accrual but does not move the end"."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 3, 10), D(2020, 3, 20), False)]  # 10 days
    assert completions(start, 3, pause) == [D(2020, 4, 12), D(2020, 5, 12), D(2020, 6, 12)]
    assert internship.period_end(start, 3, pause) == D(2020, 6, 2)  # unmoved
    # Month 3 would complete on 06-12, after the end on 06-02: only 2 months ever complete.
    assert internship.completed_months(start, 3, pause, D(2020, 6, 2)) == 2
    assert internship.completed_months(start, 3, pause, D(2020, 12, 31)) == 2


def test_other_reason_pause_open_at_the_end_does_not_hold_the_end() -> None:
    """POLICY.md K1: a non-epidemic interruption never moves the end, even while it lasts."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 5, 10), None, False)]
    assert internship.period_end(start, 3, pause) == D(2020, 6, 2)
    assert internship.completed_months(start, 3, pause, D(2020, 6, 2)) == 2


def test_pause_across_a_month_end_moves_that_completion_by_its_length() -> None:
    """POLICY.md K1: paused days do not count; a pause that spans a month's nominal end moves
    that completion (and every later one) by its whole length."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 3, 25), D(2020, 4, 10), True)]  # Mar 25..31 = 7, Apr 1..9 = 9: 16 days
    # Month 1: 23 days served before the pause (03-02..03-24), 8 more after 04-10 → 04-18 = 04-02 + 16.
    assert completions(start, 3, pause) == [D(2020, 4, 18), D(2020, 5, 18), D(2020, 6, 18)]
    assert internship.period_end(start, 3, pause) == D(2020, 6, 18)


def test_two_pauses_add_up_and_only_epidemic_days_move_the_end() -> None:
    """POLICY.md K1: epidemic days move the end; other days only pause accrual."""
    start = D(2020, 3, 2)
    pauses = [Pause(D(2020, 3, 10), D(2020, 3, 15), True), Pause(D(2020, 4, 10), D(2020, 4, 13), False)]
    # Month 1: 04-02 + 5 = 04-07 (the second pause starts after). Month 2: 05-02 + 5 + 3 = 05-10.
    assert completions(start, 3, pauses) == [D(2020, 4, 7), D(2020, 5, 10), D(2020, 6, 10)]
    assert internship.period_end(start, 3, pauses) == D(2020, 6, 7)  # 06-02 + 5 epidemic days
    assert internship.completed_months(start, 3, pauses, D(2020, 6, 7)) == 2


def test_pause_starting_on_a_completion_date_does_not_delay_that_month() -> None:
    """POLICY.md conventions: month n is completed at its end, i.e. on start + n months."""
    start = D(2020, 3, 2)
    pause = [Pause(D(2020, 4, 2), D(2020, 4, 12), True)]
    assert completions(start, 2, pause) == [D(2020, 4, 2), D(2020, 5, 12)]


# --- leap February ----------------------------------------------------------------------------
def test_leap_february_month_end_clamps_to_the_29th() -> None:
    """POLICY.md conventions: month n = [D + (n-1) months, D + n months); Jan 31 + 1 month = Feb 29 (2020)."""
    assert add_months(D(2020, 1, 31), 1) == D(2020, 2, 29)
    assert internship.completion_date(D(2020, 1, 31), 1, []) == D(2020, 2, 29)


def test_leap_day_start_plus_12_months_is_feb_28() -> None:
    """POLICY.md conventions: 2020-02-29 + 12 months = 2021-02-28 (clamped)."""
    assert add_months(D(2020, 2, 29), 12) == D(2021, 2, 28)
    assert internship.period_end(D(2020, 2, 29), 12, []) == D(2021, 2, 28)
    assert internship.period_days(D(2020, 2, 29), 12) == 365  # 2020-02-29 → 2021-02-28


def test_leap_february_period_counts_months_from_the_start_not_from_each_other() -> None:
    """POLICY.md conventions: month n ends at start + n months (not month n−1's end + 1 month),
    so a period starting 2020-01-31 spans Feb 29 and then returns to the 31st / month end."""
    start = D(2020, 1, 31)
    assert completions(start, 4, []) == [D(2020, 2, 29), D(2020, 3, 31), D(2020, 4, 30), D(2020, 5, 31)]
    # D over Feb 2020: Jan 31 → Apr 30 = 1 + 29 + 31 + 30 = 90 days.
    assert internship.period_days(start, 3) == 90


# --- never more than P months -----------------------------------------------------------------
@pytest.mark.parametrize("months", [3, 6, 12])
def test_completed_months_never_exceed_agreed_months(months: int) -> None:
    """POLICY.md K1: "After P completed months: closes `completed`" — never more than P."""
    start = D(2020, 1, 31)
    for pauses in ([], [Pause(D(2020, 2, 10), D(2020, 3, 1), True)], [Pause(D(2020, 2, 10), D(2020, 3, 1), False)]):
        assert internship.completed_months(start, months, pauses, D(2030, 1, 1)) <= months
    assert internship.completed_months(start, months, [], D(2030, 1, 1)) == months
