"""K14 vocational_training_subsidy (§1, §11, §13, §14, §15) and 劳动预备制 (§11): the pure rules
of policy/training_subsidy.py, each test named after the POLICY.md rule it guards."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from fractions import Fraction
from typing import Any

import pytest

from contracts.cases import Fact
from policy import training_subsidy
from policy.funds import Fund
from policy.pack import load_pack

PARAMS = load_pack().parameters("2101")
START = date(2020, 3, 1)


def enrolment(**changes: Any) -> training_subsidy.Enrolment:
    base = training_subsidy.Enrolment(
        enrolment_id="T1", person_id="P1", provider_id="V1", city="2101", occupation="4-10-01-01", level="junior",
        mode="onsite", starts_on=START, ends_on=date(2020, 5, 31), groups=(),
    )
    return replace(base, **changes)


def fact(type_: str, payload: dict[str, Any], on: date, n: int = 1) -> Fact:
    return Fact(key="person/P1", type=type_, on_date=on, payload=payload,
                event_time=datetime(2020, 1, 1, n, tzinfo=timezone.utc), event_key=f"t#{n}")


def test_k14_pack_ships_the_training_parameters_of_policy_md() -> None:
    """POLICY.md table: subsidy_by_level junior 100000, intermediate 150000, senior 200000,
    special_skill 60000; online 50%; on-the-job 50000; 3 a year; cohorts 2020, 2021; on_job_until
    2020-12-31; trainee.living_allowance 50000."""
    assert PARAMS.get("training.subsidy_by_level") == {"junior": 100000, "intermediate": 150000, "senior": 200000, "special_skill": 60000}
    assert PARAMS.ratio("training.online_ratio") == Fraction(1, 2) and PARAMS.get("training.on_job_per_trainee") == 50000
    assert PARAMS.get("training.max_per_year") == 3 and PARAMS.get("training.graduate_cohorts") == [2020, 2021]
    assert PARAMS.day("training.on_job_until") == date(2020, 12, 31) and PARAMS.get("trainee.living_allowance") == 50000


# -- eligibility on the start date ----------------------------------------------------------------
def test_k14_a_registered_unemployed_trainee_is_eligible() -> None:
    """Eligible on the start date, else `rejected`: registered unemployed"""
    assert training_subsidy.eligible_groups(enrolment(), True, False, PARAMS) == ["registered_unemployed"]
    assert training_subsidy.ineligibility(enrolment(), True, False, PARAMS) is None


@pytest.mark.parametrize(("year", "eligible"), [(2020, True), (2021, True), (2019, False), (None, False)])
def test_k14_a_graduate_of_a_cohort_in_graduate_cohorts_is_eligible(year: int | None, eligible: bool) -> None:
    """a graduate of a cohort in `training.graduate_cohorts` (§14 专业转换及技能提升培训)"""
    trainee = enrolment(groups=("graduate",), graduation_year=year)
    reason = training_subsidy.ineligibility(trainee, False, False, PARAMS)
    assert (reason is None) is eligible
    if not eligible:
        assert "training.graduate_cohorts" in str(reason)


@pytest.mark.parametrize("group", ["migrant_worker", "poverty_registered", "veteran", "disabled"])
def test_k14_migrant_poverty_registered_veteran_disabled_are_eligible(group: str) -> None:
    """a migrant worker — including one from another province stranded in Liaoning (§15
    可按规定享受我省有关政策); poverty-registered, veteran, disabled"""
    assert training_subsidy.eligible_groups(enrolment(groups=(group,)), False, False, PARAMS) == [group]


def test_k14_a_flexible_worker_by_registration_or_own_contributions_is_eligible() -> None:
    """a flexible worker (§13: employment registered as `flexible`, or own contributions paid)"""
    registered = [fact("employment.registered", {"person_id": "P1", "kind": "flexible", "on": "2020-02-01"}, date(2020, 2, 1))]
    own = [fact("contribution.paid", {"person_id": "P1", "month": "2020-02", "employer_id": None}, date(2020, 2, 1))]
    employee = [fact("contribution.paid", {"person_id": "P1", "month": "2020-02", "employer_id": "E1"}, date(2020, 2, 1))]
    assert training_subsidy.is_flexible_worker("P1", registered, START)
    assert training_subsidy.is_flexible_worker("P1", own, START)
    assert not training_subsidy.is_flexible_worker("P1", employee, START)
    assert not training_subsidy.is_flexible_worker("P1", registered, date(2020, 1, 31))  # judged on the start date
    ended = registered + [fact("employment.terminated", {"person_id": "P1", "on": "2020-02-20"}, date(2020, 2, 20), 2)]
    assert not training_subsidy.is_flexible_worker("P1", ended, START)
    assert training_subsidy.eligible_groups(enrolment(), False, True, PARAMS) == ["flexible_worker"]


@pytest.mark.parametrize(("starts_on", "eligible"), [(date(2020, 12, 31), True), (date(2021, 1, 1), False)])
def test_k14_on_the_job_training_sponsored_by_an_enterprise_until_on_job_until(starts_on: date, eligible: bool) -> None:
    """or an employee in on-the-job training sponsored by an enterprise, course starting on or
    before `training.on_job_until` (§1)."""
    trainee = enrolment(groups=("employee",), sponsor_enterprise_id="E1", starts_on=starts_on, ends_on=date(2021, 3, 1))
    assert (training_subsidy.ineligibility(trainee, False, False, PARAMS) is None) is eligible


def test_k14_an_employee_without_a_sponsoring_enterprise_is_rejected() -> None:
    reason = training_subsidy.ineligibility(enrolment(groups=("employee",)), False, False, PARAMS)
    assert reason is not None and "no eligible group" in reason


# -- the completion ---------------------------------------------------------------------------
@pytest.mark.parametrize(("level", "amount"), [("junior", 100000), ("intermediate", 150000), ("senior", 200000), ("special_skill", 60000)])
def test_k14_a_certificate_at_the_enrolled_level_pays_subsidy_by_level_to_the_trainee(level: str, amount: int) -> None:
    """`training.completed` (enrolment, date, certificate level or none): a certificate at the
    enrolled level pays `training.subsidy_by_level` of that level … to the trainee, fund
    `employment_subsidy_fund`"""
    paid = training_subsidy.completion_payment(enrolment(level=level), level, PARAMS)
    assert paid == training_subsidy.CompletionPayment("person/P1", training_subsidy.PROGRAM, amount, Fund.EMPLOYMENT_SUBSIDY)


def test_k14_an_online_course_pays_online_ratio_of_the_level() -> None:
    """(× `training.online_ratio` for online courses)"""
    paid = training_subsidy.completion_payment(enrolment(mode="online", level="intermediate"), "intermediate", PARAMS)
    assert paid is not None and paid.amount == 75000


def test_k14_on_the_job_training_pays_the_sponsoring_enterprise_from_skills_upgrading_fund() -> None:
    """for on-the-job training it pays `training.on_job_per_trainee` to the sponsoring enterprise
    instead, fund `skills_upgrading_fund`."""
    trainee = enrolment(groups=("employee",), sponsor_enterprise_id="E7")
    paid = training_subsidy.completion_payment(trainee, "junior", PARAMS)
    assert paid == training_subsidy.CompletionPayment("enterprise/E7", training_subsidy.ON_JOB_PROGRAM, 50000, Fund.SKILLS_UPGRADING)


@pytest.mark.parametrize("certificate", [None, "intermediate", "special_skill"])
def test_k14_no_certificate_at_the_enrolled_level_fails_and_pays_nothing(certificate: str | None) -> None:
    """No certificate → `failed`, nothing paid."""
    assert training_subsidy.completion_payment(enrolment(), certificate, PARAMS) is None
    reason = training_subsidy.failure_reason(enrolment(), certificate)
    assert ("without a certificate" in reason) is (certificate is None)


# -- limits across a person's cases -----------------------------------------------------------
def test_k14_never_twice_for_the_same_occupation_and_level() -> None:
    """never twice for the same occupation and level (同一职业同一等级不得重复享受)"""
    past = [training_subsidy.PastSubsidy(date(2019, 6, 1), "4-10-01-01", "junior")]
    reason = training_subsidy.limit_refusal(date(2020, 6, 1), "4-10-01-01", "junior", past, PARAMS)
    assert reason is not None and "同一职业同一等级不得重复享受" in reason
    assert training_subsidy.limit_refusal(date(2020, 6, 1), "4-10-01-01", "intermediate", past, PARAMS) is None
    assert training_subsidy.limit_refusal(date(2020, 6, 1), "6-01-02-03", "junior", past, PARAMS) is None


def test_k14_at_most_max_per_year_subsidies_per_calendar_year_of_completion() -> None:
    """at most `training.max_per_year` subsidies per calendar year of completion"""
    past = [training_subsidy.PastSubsidy(date(2020, m, 1), f"occ-{m}", "junior") for m in (2, 3, 4)]
    reason = training_subsidy.limit_refusal(date(2020, 12, 31), "occ-9", "junior", past, PARAMS)
    assert reason is not None and "training.max_per_year 3" in reason
    assert training_subsidy.limit_refusal(date(2021, 1, 1), "occ-9", "junior", past, PARAMS) is None
    assert training_subsidy.limit_refusal(date(2020, 12, 31), "occ-9", "junior", past[:2], PARAMS) is None


# -- 劳动预备制 (§11) ----------------------------------------------------------------------------
@pytest.mark.parametrize(("birth", "trainee"), [(date(2000, 3, 2), True), (date(2000, 3, 1), False)])
def test_k14_labour_preparation_trainee_is_under_max_age_on_the_start_date(birth: date, trainee: bool) -> None:
    """a trainee registered unemployed, under `trainee.max_age` on the start date, willing to
    train (the K9 mark), whose course starts inside the trainee window"""
    assert training_subsidy.labour_preparation_trainee(enrolment(), True, birth, True, PARAMS) is trainee


def test_k14_labour_preparation_needs_registration_willingness_and_the_window() -> None:
    young = date(2003, 1, 1)
    assert not training_subsidy.labour_preparation_trainee(enrolment(), False, young, True, PARAMS)
    assert not training_subsidy.labour_preparation_trainee(enrolment(), True, young, False, PARAMS)
    assert not training_subsidy.labour_preparation_trainee(enrolment(), True, None, True, PARAMS)
    late = enrolment(starts_on=date(2021, 1, 1), ends_on=date(2021, 3, 31))
    assert not training_subsidy.labour_preparation_trainee(late, True, young, True, PARAMS)
    assert training_subsidy.labour_preparation_trainee(enrolment(starts_on=date(2020, 12, 31), ends_on=date(2021, 3, 31)), True, young, True, PARAMS)


def test_k14_living_allowance_for_each_completed_training_month_before_the_end_date() -> None:
    """is also paid `trainee.living_allowance` for each completed training month (month n =
    [start + (n−1) months, start + n months), completed on or before the end date …), fund
    `employment_subsidy_fund`."""
    months = training_subsidy.completed_training_months(enrolment())  # 2020-03-01 .. 2020-05-31
    assert [(m.period, m.due_on) for m in months] == [
        ("month-1", date(2020, 4, 1)), ("month-2", date(2020, 5, 1)), ("month-3", date(2020, 6, 1)),
    ]
    assert training_subsidy.completed_training_months(enrolment(ends_on=date(2020, 5, 30)))[-1].n == 2
    assert training_subsidy.living_allowance(months[0], enrolment(), PARAMS) == 50000


def test_k14_a_drop_ends_the_living_allowance_and_completed_months_stay_paid() -> None:
    """and before any drop … `training.dropped` → `dropped`: no training subsidy; living-allowance
    months already completed stay paid."""
    months = training_subsidy.completed_training_months(enrolment(), dropped_on=date(2020, 4, 30))
    assert [m.n for m in months] == [1]
    assert [m.n for m in training_subsidy.completed_training_months(enrolment(), dropped_on=date(2020, 5, 1))] == [1, 2]
    assert training_subsidy.completed_training_months(enrolment(), dropped_on=date(2020, 3, 31)) == []


def test_k14_enrolment_from_the_event_data() -> None:
    data = {"enrolment_id": "T1", "person_id": "P1", "provider_id": "V1", "city": "2101", "occupation": "x",
            "level": "senior", "mode": "online", "starts_on": "2020-03-01", "ends_on": "2020-04-30",
            "groups": ["employee"], "sponsor_enterprise_id": "E1"}
    parsed = training_subsidy.Enrolment.from_data(data)
    assert parsed.on_the_job and parsed.ends_on == date(2020, 4, 30) and parsed.graduation_year is None
