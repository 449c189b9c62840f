"""K16 incubator_subsidy (§12): the pure rules of policy/incubator.py, each test named after the
POLICY.md rule it guards."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from policy import incubator
from policy.funds import Fund
from policy.pack import PolicyPack, load_pack

PACK = load_pack()
PARAMS = PACK.parameters("2101")
S, L = date(2020, 1, 25), date(2020, 5, 15)


def report(operating: int, public_services: int, year: int = 2020) -> incubator.ExpensesReport:
    return incubator.ExpensesReport(year, operating, public_services)


def test_k16_pack_ships_the_incubator_parameters_of_policy_md() -> None:
    """POLICY.md table: city_share 30%, city_cap 100,000,000 fen a year; 10 provincial slots a year,
    provincial_cap 500,000,000 fen; rent relief 50% from employment_subsidy_fund."""
    assert PARAMS.ratio("incubator.city_share") == Fraction(3, 10) and PARAMS.get("incubator.city_cap") == 100_000_000
    assert PARAMS.get("incubator.provincial_slots") == 10 and PARAMS.get("incubator.provincial_cap") == 500_000_000
    assert PARAMS.ratio("incubator.rent_relief_share") == Fraction(1, 2)
    assert PARAMS.get("incubator.rent_relief_fund") == "employment_subsidy_fund"


# -- city support -------------------------------------------------------------------------------
def test_k16_city_support_pays_city_share_of_operating_and_public_services() -> None:
    """pays floor(`incubator.city_share` × (operating + public_services)); program
    `incubator_city`, period `Y`, fund `employment_subsidy_fund`."""
    assert incubator.city_support(report(3_000_001, 1_000_000), PARAMS) == 1_200_000  # floor(0.3 × 4,000,001)
    assert (incubator.CITY_PROGRAM, incubator.FUND) == ("incubator_city", Fund.EMPLOYMENT_SUBSIDY)
    assert incubator.payee("I1") == "incubator/I1"


def test_k16_city_support_is_at_most_city_cap_per_incubator_per_year() -> None:
    """at most `incubator.city_cap` per incubator per year"""
    assert incubator.city_support(report(400_000_000, 0), PARAMS) == 100_000_000


def test_k16_a_later_report_for_the_same_year_replaces_the_earlier_one() -> None:
    """A later report for the same year replaces the earlier one: the difference is a correction
    (what the case owes is the support of the latest report)."""
    first, later = report(1_000_000, 0), report(2_000_000, 500_000)
    assert incubator.city_support(later, PARAMS) - incubator.city_support(first, PARAMS) == 450_000


# -- provincial special subsidy -------------------------------------------------------------------
def test_k16_only_an_accredited_incubator_applies_for_the_provincial_subsidy() -> None:
    """Provincial special subsidy: an accredited incubator applies"""
    assert incubator.application_refusal(date(2019, 6, 1), date(2020, 3, 1)) is None
    assert incubator.application_refusal(None, date(2020, 3, 1)) is not None
    assert incubator.application_refusal(date(2020, 3, 2), date(2020, 3, 1)) is not None


@pytest.mark.parametrize(("so_far", "refused"), [(0, False), (9, False), (10, True), (11, True)])
def test_k16_at_most_provincial_slots_approvals_per_year_province_wide(so_far: int, refused: bool) -> None:
    """At most `incubator.provincial_slots` approvals per year, province-wide: an approval beyond
    them is refused, and concurrent approvals must never exceed it."""
    reason = incubator.approval_refusal(2020, so_far, PARAMS)
    assert (reason is not None) is refused
    if refused:
        assert "10 provincial slots of 2020" in str(reason)


def test_k16_an_approved_incubator_is_paid_its_expenses_up_to_provincial_cap() -> None:
    """An approved incubator is paid min(`incubator.provincial_cap`, operating + public_services of
    its report for the year)"""
    assert incubator.provincial_subsidy(report(3_000_000, 1_000_000), PARAMS) == 4_000_000
    assert incubator.provincial_subsidy(report(450_000_000, 100_000_000), PARAMS) == 500_000_000


# -- rent relief --------------------------------------------------------------------------------
@pytest.mark.parametrize(("month", "lifted", "overlaps"), [
    ("2019-12", L, False),
    ("2020-01", L, True),   # the 25th is in January
    ("2020-05", L, True),
    ("2020-06", L, False),
    ("2020-09", None, True),  # not lifted yet: the epidemic goes on
])
def test_k16_rent_relief_for_a_month_that_overlaps_the_epidemic_period(month: str, lifted: date | None, overlaps: bool) -> None:
    """for a month that overlaps the epidemic period [S, L], pays floor(`incubator.rent_relief_share`
    × rent_waived); program `incubator_rent_relief`, period the month"""
    assert incubator.overlaps_epidemic(month, S, lifted) is overlaps
    assert incubator.rent_relief(month, 480_001, S, lifted, PARAMS) == (240_000 if overlaps else 0)


def test_k16_no_rent_relief_before_an_epidemic_is_declared() -> None:
    assert incubator.rent_relief("2020-03", 480_000, None, None, PARAMS) == 0


def test_k16_rent_relief_fund_is_a_city_parameter() -> None:
    """fund `incubator.rent_relief_fund` (a city parameter: 就业补助资金 or 工业企业结构调整专项奖补资金)."""
    assert incubator.rent_relief_fund("2020-03", PARAMS) == Fund.EMPLOYMENT_SUBSIDY
    pack = PolicyPack(name=PACK.name, defaults=PACK.defaults, cities={"2102": {"incubator.rent_relief_fund": "restructuring_fund"}})
    assert incubator.rent_relief_fund("2020-03", pack.parameters("2102")) == Fund.RESTRUCTURING


def test_k16_closes_settled_six_months_after_the_end_of_year_y() -> None:
    """Closes `settled` six months after the end of year Y."""
    assert incubator.settles_on(2020, PARAMS) == date(2021, 7, 1)
