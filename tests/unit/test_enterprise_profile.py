"""The enterprise profile (policy.enterprise_profile) computed from stored facts."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from policy import enterprise_profile
from policy.pack import load_pack
from tests.unit._enterprise_facts import contribution, enrolled, exemption, left, registered, staff

PARAMS = load_pack().parameters("2101")


def test_registration_is_the_latest_reported_by_the_date_asked() -> None:
    facts = [registered("E1", "retail", "small", date(2019, 1, 2)), registered("E1", "retail", "large", date(2020, 5, 1))]
    assert enterprise_profile.registration("E1", facts, date(2020, 4, 30)).size == "small"
    assert enterprise_profile.registration("E1", facts, date(2020, 5, 1)).size == "large"
    assert enterprise_profile.registration("E2", facts, date(2020, 5, 1)) is None
    assert enterprise_profile.registration("E1", facts, date(2018, 12, 31)) is None


def test_headcount_from_enrolled_and_left_on_their_own_dates() -> None:
    facts = [*staff("E1", 3, date(2020, 1, 1)), left("E1", "P1", date(2020, 3, 10), "resignation"), enrolled("E1", "P9", date(2020, 4, 1))]
    assert enterprise_profile.insured_headcount("E1", facts, date(2019, 12, 31)) == 0
    assert enterprise_profile.insured_headcount("E1", facts, date(2020, 3, 9)) == 3
    # Left on the 10th: no longer insured that day.
    assert enterprise_profile.insured_headcount("E1", facts, date(2020, 3, 10)) == 2
    assert enterprise_profile.insured_headcount("E1", facts, date(2020, 4, 1)) == 3


def test_headcount_counts_only_the_enterprise_own_staff_and_re_enrolment() -> None:
    facts = [enrolled("E1", "P1", date(2020, 1, 1)), enrolled("E2", "P2", date(2020, 1, 1)),
             left("E1", "P1", date(2020, 2, 1), "other"), enrolled("E1", "P1", date(2020, 3, 1))]
    assert enterprise_profile.insured_persons("E1", facts, date(2020, 2, 15)) == set()
    assert enterprise_profile.insured_persons("E1", facts, date(2020, 3, 1)) == {"P1"}


def test_a_late_reported_enrolment_counts_from_its_date() -> None:
    late = enrolled("E1", "P1", date(2020, 1, 1))
    late = late.model_copy(update={"event_time": late.event_time.replace(year=2020, month=6)})
    assert enterprise_profile.insured_headcount("E1", [late], date(2020, 2, 1)) == 1


def test_average_headcount_is_the_mean_of_completed_month_ends_of_the_year() -> None:
    facts = [*staff("E1", 4, date(2019, 10, 1)), left("E1", "P4", date(2020, 2, 10))]
    # Completed before 15 April: Jan (4), Feb (3), Mar (3).
    assert enterprise_profile.completed_month_ends(2020, date(2020, 4, 15)) == [date(2020, 1, 31), date(2020, 2, 29), date(2020, 3, 31)]
    assert enterprise_profile.average_headcount("E1", facts, 2020, date(2020, 4, 15)) == Fraction(10, 3)
    # The last day of March is before 1 April: March counts on 1 April, not on 31 March.
    assert len(enterprise_profile.completed_month_ends(2020, date(2020, 4, 1))) == 3
    assert len(enterprise_profile.completed_month_ends(2020, date(2020, 3, 31))) == 2


def test_average_headcount_without_a_completed_month_is_the_headcount_on_the_date() -> None:
    facts = staff("E1", 7, date(2019, 10, 1))
    assert enterprise_profile.average_headcount("E1", facts, 2020, date(2020, 1, 20)) == 7


def test_layoffs_in_year_count_layoff_separations_of_the_year_up_to_the_date() -> None:
    facts = [
        *staff("E1", 6, date(2019, 1, 1)),
        left("E1", "P1", date(2019, 12, 31)),  # the year before
        left("E1", "P2", date(2020, 2, 1)),
        left("E1", "P3", date(2020, 3, 1), "resignation"),  # not a layoff
        left("E1", "P4", date(2020, 5, 1)),  # after the application date
    ]
    assert enterprise_profile.layoffs_in_year("E1", facts, 2020, date(2020, 4, 15)) == 1
    assert enterprise_profile.layoffs_in_year("E1", facts, 2020, date(2020, 5, 1)) == 2


def test_prior_year_ui_unemployment_only_counts_employer_and_employee_amounts() -> None:
    facts = [contribution("E1", "P1", "2019-05", 1000, 500, ["unemployment"])]
    assert enterprise_profile.prior_year_ui_contributions("E1", facts, 2020, PARAMS) == 1500


def test_prior_year_ui_of_a_combined_record_is_the_ui_rate_of_the_base_capped_by_what_was_paid() -> None:
    combined = contribution("E1", "P1", "2019-05", 80000, 40000, ["pension", "unemployment"], base=500000)
    assert enterprise_profile.prior_year_ui_contributions("E1", [combined], 2020, PARAMS) == 5000  # 1% of 500000
    odd = contribution("E1", "P1", "2019-06", 1000, 999, ["pension", "unemployment"], base=500099)
    # floor(1% × 500099) = 5000 > 1999 paid: capped at what was paid.
    assert enterprise_profile.prior_year_ui_contributions("E1", [odd], 2020, PARAMS) == 1999


def test_prior_year_ui_excludes_other_years_other_insurances_and_other_employers() -> None:
    facts = [
        contribution("E1", "P1", "2020-01", 1000, 500, ["unemployment"]),
        contribution("E1", "P1", "2018-12", 1000, 500, ["unemployment"]),
        contribution("E1", "P1", "2019-03", 80000, 40000, ["pension", "medical"]),
        contribution("E2", "P2", "2019-03", 1000, 500, ["unemployment"]),
        contribution("E1", "P1", "2019-12", 7, 3, ["unemployment"]),
    ]
    assert enterprise_profile.prior_year_ui_contributions("E1", facts, 2020, PARAMS) == 10


def test_the_same_event_stored_under_two_keys_counts_once() -> None:
    one = contribution("E1", "P1", "2019-05", 1000, 500, ["unemployment"])
    twin = one.model_copy(update={"key": "person/P1"})
    assert enterprise_profile.prior_year_ui_contributions("E1", [one, twin], 2020, PARAMS) == 1500


def test_fee_exemption_months_are_the_union_of_inclusive_ranges() -> None:
    facts = [exemption("E1", "2020-02", "2020-04"), exemption("E1", "2020-04", "2020-05"), exemption("E2", "2020-09", "2020-09"),
             exemption("E1", "2020-12", "2020-11")]
    assert enterprise_profile.fee_exemption_months("E1", facts) == {"2020-02", "2020-03", "2020-04", "2020-05"}
    assert enterprise_profile.months_between("2020-11", "2021-02") == ["2020-11", "2020-12", "2021-01", "2021-02"]
