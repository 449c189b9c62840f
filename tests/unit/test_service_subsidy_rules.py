"""K18 employment_service_subsidy (§20): the pure rules of policy/service_subsidy.py, each test
named after the POLICY.md rule it guards."""

from __future__ import annotations

from datetime import date

import pytest

from policy import service_subsidy
from policy.funds import Fund
from policy.pack import load_pack

PARAMS = load_pack().parameters("2101")
Q1 = "2020-Q1"
Service, Employment = service_subsidy.Service, service_subsidy.Employment


def test_k18_pack_ships_the_service_subsidy_parameters_of_policy_md() -> None:
    """POLICY.md table: per_placement / per_guidance / per_enterprise 30000 / 5000 / 10000 fen;
    confirm_days 90; cap_per_year 5,000,000 fen per agency."""
    assert [PARAMS.get(f"service_subsidy.{n}") for n in ("per_placement", "per_guidance", "per_enterprise")] == [30000, 5000, 10000]
    assert PARAMS.get("service_subsidy.confirm_days") == 90 and PARAMS.get("service_subsidy.cap_per_year") == 5_000_000


def test_k18_settled_per_quarter_confirm_days_after_the_quarters_end() -> None:
    """Settled per calendar quarter, `service_subsidy.confirm_days` after the quarter's end, for the
    services delivered in it"""
    assert service_subsidy.settlement_day(Q1, PARAMS) == date(2020, 6, 30)  # 2020-04-01 + 90 days
    assert service_subsidy.settlement_day("2020-Q4", PARAMS) == date(2021, 4, 1)  # 2021-01-01 + 90 days
    assert service_subsidy.quarters(2020) == ["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4"]


@pytest.mark.parametrize(("employed_on", "counts"), [
    (date(2020, 3, 31), True),
    (date(2020, 6, 29), True),   # 90 days after the service
    (date(2020, 6, 30), False),  # a placement confirmed later does not count
    (date(2020, 3, 30), False),  # employed before the service: not its result
])
def test_k18_a_placement_counts_when_employed_within_confirm_days_after_the_service(employed_on: date, counts: bool) -> None:
    """`job_placement`: `service_subsidy.per_placement` for each person who is employed (a
    `contract.signed` or an `employment.registered`, any employer) within `confirm_days` after the
    service date; a placement confirmed later does not count"""
    services = [Service(date(2020, 3, 31), "job_placement", person_id="P1")]
    settled = service_subsidy.settle_quarter(Q1, services, [Employment("P1", employed_on)], PARAMS)
    assert (settled.placements == ("P1",)) is counts
    assert settled.amount == (30000 if counts else 0)


def test_k18_a_placement_counts_once_per_person() -> None:
    """for each person who is employed: two placement services for one person are one placement."""
    services = [Service(date(2020, 1, 5), "job_placement", person_id="P1"), Service(date(2020, 2, 5), "job_placement", person_id="P1")]
    settled = service_subsidy.settle_quarter(Q1, services, [Employment("P1", date(2020, 2, 20))], PARAMS)
    assert settled.placements == ("P1",) and settled.amount == 30000


def test_k18_guidance_and_startup_services_once_per_person_per_agency_per_quarter() -> None:
    """`career_guidance` and `startup_service`: `service_subsidy.per_guidance`, at most once per
    person per agency per quarter"""
    services = [
        Service(date(2020, 1, 5), "career_guidance", person_id="P1"),
        Service(date(2020, 2, 5), "startup_service", person_id="P1"),
        Service(date(2020, 3, 5), "career_guidance", person_id="P2"),
        Service(date(2020, 4, 5), "career_guidance", person_id="P3"),  # next quarter
    ]
    settled = service_subsidy.settle_quarter(Q1, services, [], PARAMS)
    assert settled.guided == ("P1", "P2") and settled.amount == 10000


def test_k18_enterprise_service_once_per_enterprise_per_agency_per_quarter() -> None:
    """`enterprise_service`: `service_subsidy.per_enterprise`, at most once per enterprise per
    agency per quarter."""
    services = [Service(date(2020, 1, 5), "enterprise_service", enterprise_id="E1"),
                Service(date(2020, 3, 5), "enterprise_service", enterprise_id="E1"),
                Service(date(2020, 3, 6), "enterprise_service", enterprise_id="E2")]
    assert service_subsidy.settle_quarter(Q1, services, [], PARAMS).amount == 20000


def test_k18_a_quarter_settlement_sums_its_services() -> None:
    services = [Service(date(2020, 2, 1), "job_placement", person_id="P1"),
                Service(date(2020, 2, 1), "career_guidance", person_id="P1"),
                Service(date(2020, 2, 1), "enterprise_service", enterprise_id="E1")]
    settled = service_subsidy.settle_quarter(Q1, services, [Employment("P1", date(2020, 3, 1))], PARAMS)
    assert settled.amount == 30000 + 5000 + 10000


@pytest.mark.parametrize(("amount", "paid_before", "paid"), [
    (1_000_000, 0, 1_000_000),
    (1_000_000, 4_500_000, 500_000),   # the payment that reaches it is reduced to what is left
    (1_000_000, 5_000_000, 0),
])
def test_k18_at_most_cap_per_year_per_agency_and_year(amount: int, paid_before: int, paid: int) -> None:
    """At most `service_subsidy.cap_per_year` per agency and year (the payment that reaches it is
    reduced to what is left). Program `employment_service_subsidy`, period `YYYY-Qn`, fund
    `employment_subsidy_fund`."""
    assert service_subsidy.capped(amount, paid_before, 2020, PARAMS) == paid
    assert (service_subsidy.PROGRAM, service_subsidy.FUND, service_subsidy.payee("A1")) == ("employment_service_subsidy", Fund.EMPLOYMENT_SUBSIDY, "agency/A1")


def test_k18_parameters_are_those_in_force_on_the_quarters_first_day() -> None:
    changed = PARAMS.with_change("service_subsidy.per_guidance", 8000, date(2020, 4, 1))
    q1 = service_subsidy.settle_quarter(Q1, [Service(date(2020, 3, 5), "career_guidance", person_id="P1")], [], changed)
    q2 = service_subsidy.settle_quarter("2020-Q2", [Service(date(2020, 4, 5), "career_guidance", person_id="P1")], [], changed)
    assert (q1.amount, q2.amount) == (5000, 8000)
