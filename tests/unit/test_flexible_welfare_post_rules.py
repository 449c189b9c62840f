"""K4 flexible_employment_subsidy (§13, §16) and K5 public_welfare_post (§17): every rule of
POLICY.md as a pure-function test named after it, plus the routing of both kinds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import ContributionPaid, parse_event
from policy import difficult, flexible, subsidy_period, welfare_post
from policy.calendar import SHANGHAI
from policy.funds import Fund
from policy.pack import load_pack
from policy.subsidy_period import Period
from streams.routes import flexible as flexible_routes
from streams.routes import welfare_post as welfare_post_routes
from streams.routes.commands import Ignore, Reject, SignalCase, StartCase
from streams.routing import FACT_TYPES, route
from testkit.events import cloud_event, line

PACK = load_pack()
PARAMS = PACK.parameters("2101")
FAR = date(2045, 1, 1)  # a retirement date far beyond any 5-year horizon


def registration(person: str, registered_on: date, retirement: date, categories: list[str]) -> Fact:
    return Fact(
        key=f"person/{person}",
        type="unemployment.registered",
        on_date=registered_on,
        payload={
            "person_id": person,
            "city": "2101",
            "registered_on": registered_on.isoformat(),
            "birth_date": "1970-01-01",
            "retirement_date": retirement.isoformat(),
            "categories": categories,
        },
        event_time=datetime.combine(registered_on, datetime.min.time(), SHANGHAI) + timedelta(hours=9),
        event_key=f"ru/2101#{person}",
    )


def profile(person: str, categories: list[str], retirement: date = FAR, registered_on: date = date(2019, 1, 2),
            on: date = date(2020, 6, 1)) -> difficult.PersonProfile:
    return difficult.profile_from_facts(person, [registration(person, registered_on, retirement, categories)], on)


def contribution(employer_id: str | None = None, employer_amount: int = 60000, employee_amount: int = 24001) -> ContributionPaid:
    return ContributionPaid(
        person_id="P1",
        month="2020-05",
        employer_id=employer_id,
        base=300000,
        employer_amount=employer_amount,
        employee_amount=employee_amount,
        insurances=["pension"],
    )


# --- K4 period ---------------------------------------------------------------------------------
def test_k4_period_starts_on_first_day_of_application_month() -> None:
    assert flexible.period_start(date(2020, 5, 20)) == date(2020, 5, 1)
    assert flexible.initial_period(date(2020, 5, 31), FAR, PARAMS).start == date(2020, 5, 1)


def test_k4_period_lasts_flexible_months() -> None:
    period = flexible.initial_period(date(2020, 5, 20), FAR, PARAMS)
    assert period == Period(start=date(2020, 5, 1), end=date(2023, 5, 1), months=36)
    assert period.last_day == date(2023, 4, 30)
    assert len(flexible.period_months(period)) == 36
    assert flexible.period_months(period)[0] == "2020-05" and flexible.period_months(period)[-1] == "2023-04"


def test_k4_period_runs_until_retirement_when_within_5_years_at_start() -> None:
    # Retirement 4 years after the start: the period runs to retirement (48 months, not 36).
    longer = flexible.initial_period(date(2020, 5, 20), date(2024, 5, 1), PARAMS)
    assert longer.until_retirement and longer.end == date(2024, 5, 1) and longer.months is None
    # Retirement 2 years away: shorter than 36 months, still until retirement.
    shorter = flexible.initial_period(date(2020, 5, 20), date(2022, 8, 15), PARAMS)
    assert shorter.until_retirement and shorter.end == date(2022, 8, 15)
    # The month retirement falls in counts (the person was of working age in part of it).
    assert flexible.month_in_period("2022-08", shorter) and not flexible.month_in_period("2022-09", shorter)


def test_k4_within_5_years_is_judged_on_the_period_start_inclusive() -> None:
    # Exactly 5 years after the start: within (retirement_date - date <= 5 years).
    assert flexible.initial_period(date(2020, 5, 20), date(2025, 5, 1), PARAMS).until_retirement
    # One day more: not within; a 36-month period.
    assert not flexible.initial_period(date(2020, 5, 20), date(2025, 5, 2), PARAMS).until_retirement


def test_k4_subsidy_is_ratio_of_both_shares_paid_rounded_down_to_the_fen() -> None:
    c = contribution(employer_amount=60000, employee_amount=24001)
    assert flexible.amount_paid(c) == 84001
    # 2/3 × 84001 = 56000.67 → 56000 fen.
    assert flexible.subsidy(flexible.amount_paid(c), "2020-05", PARAMS) == 56000


def test_k4_subsidy_uses_the_ratio_in_force_on_the_month_start() -> None:
    changed = PARAMS.with_change("flexible.ratio", [1, 2], date(2020, 7, 1))
    assert flexible.subsidy(90000, "2020-06", changed) == 60000
    assert flexible.subsidy(90000, "2020-07", changed) == 45000


def test_k4_only_a_contribution_without_employer_is_the_persons_own() -> None:
    assert flexible.is_own_contribution(contribution(employer_id=None))
    assert not flexible.is_own_contribution(contribution(employer_id="E1"))


def test_k4_month_in_period_boundaries() -> None:
    period = flexible.initial_period(date(2020, 5, 20), FAR, PARAMS)
    assert not flexible.month_in_period("2020-04", period)
    assert flexible.month_in_period("2020-05", period)
    assert flexible.month_in_period("2023-04", period)
    assert not flexible.month_in_period("2023-05", period)


def test_k4_stable_employment_stops_the_subsidy_from_its_start_month() -> None:
    assert flexible.month_before_employment("2020-06", date(2020, 6, 15))
    assert not flexible.month_before_employment("2020-07", date(2020, 6, 15))
    assert flexible.month_before_employment("2030-01", None)


# --- extension (K4 §13, K5 §17) -------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "in_window"),
    [
        (date(2017, 1, 1), False),  # [2017-01-01, 2020-01-01): last day 2019-12-31, out
        (date(2017, 2, 1), True),  # last day 2020-01-31
        (date(2018, 1, 1), True),  # last day 2020-12-31
        (date(2018, 2, 1), False),  # last day 2021-01-31
    ],
)
def test_k4_extension_judged_on_the_last_day_of_the_period(start: date, in_window: bool) -> None:
    period = flexible.initial_period(start, FAR, PARAMS)
    assert subsidy_period.ends_in_window(period, PARAMS, flexible.PARAMETER_PREFIX) is in_window
    assert subsidy_period.may_extend(period, PARAMS, flexible.PARAMETER_PREFIX) is in_window


def test_k4_extension_adds_flexible_extension_months_once() -> None:
    period = flexible.initial_period(date(2017, 6, 1), FAR, PARAMS)
    longer = subsidy_period.extended(period, PARAMS, flexible.PARAMETER_PREFIX)
    assert longer.end == date(2021, 6, 1) and longer.extended and longer.months == 48
    # Its new last day (2021-05-31) is outside the window anyway; even inside it, never twice.
    assert not subsidy_period.may_extend(longer, PARAMS, flexible.PARAMETER_PREFIX)
    wide = PARAMS.with_change("flexible.extension_window_until", "2030-12-31", date(2000, 1, 1))
    assert not subsidy_period.may_extend(longer, wide, flexible.PARAMETER_PREFIX)


def test_k4_no_extension_for_a_period_that_runs_to_retirement() -> None:
    period = flexible.initial_period(date(2016, 1, 20), date(2020, 6, 1), PARAMS)
    assert period.until_retirement and subsidy_period.ends_in_window(period, PARAMS, flexible.PARAMETER_PREFIX)
    assert not subsidy_period.may_extend(period, PARAMS, flexible.PARAMETER_PREFIX)


def test_extension_months_count_from_the_original_start() -> None:
    # A start on 29 Feb: D + 36 clamps to 28 Feb; the extension end is D + 48, not (D + 36) + 12.
    period = subsidy_period.standard_period(date(2016, 2, 29), 36, FAR, PARAMS)
    assert period.end == date(2019, 2, 28)
    assert subsidy_period.extended(period, PARAMS, "welfare_post").end == date(2020, 2, 29)


def test_extension_window_is_a_parameter_of_each_kind() -> None:
    period = flexible.initial_period(date(2017, 6, 1), FAR, PARAMS)
    narrower = PARAMS.with_change("flexible.extension_window_until", "2020-03-31", date(2000, 1, 1))
    assert not subsidy_period.ends_in_window(period, narrower, "flexible")
    assert subsidy_period.ends_in_window(period, narrower, "welfare_post")


def test_stable_employment_is_a_contract_of_12_months_or_open_ended() -> None:
    on = date(2020, 6, 1)
    for prefix in (flexible.PARAMETER_PREFIX, welfare_post.PARAMETER_PREFIX):
        assert subsidy_period.is_stable_contract(None, on, PARAMS, prefix)
        assert subsidy_period.is_stable_contract(12, on, PARAMS, prefix)
        assert not subsidy_period.is_stable_contract(11, on, PARAMS, prefix)


# --- K5 period and pay -----------------------------------------------------------------------
def test_k5_temporary_post_lasts_3_to_6_months() -> None:
    on = date(2020, 6, 1)
    assert [m for m in range(0, 9) if welfare_post.temporary_months_valid(m, PARAMS, on)] == [3, 4, 5, 6]
    assert not welfare_post.temporary_months_valid(None, PARAMS, on)


def test_k5_regular_period_is_36_months() -> None:
    period = welfare_post.placement_period("regular", None, date(2020, 3, 15), FAR, PARAMS)
    assert period.end == date(2023, 3, 15) and period.months == 36


def test_k5_regular_period_runs_until_retirement_when_within_5_years() -> None:
    period = welfare_post.placement_period("regular", None, date(2020, 3, 15), date(2024, 10, 2), PARAMS)
    assert period.until_retirement and period.end == date(2024, 10, 2)


def test_k5_temporary_period_is_its_months_never_past_retirement() -> None:
    assert welfare_post.placement_period("temporary", 4, date(2020, 3, 15), FAR, PARAMS).end == date(2020, 7, 15)
    capped = welfare_post.placement_period("temporary", 6, date(2020, 3, 15), date(2020, 6, 1), PARAMS)
    assert capped.end == date(2020, 6, 1) and capped.until_retirement


def test_k5_pays_per_completed_month_only() -> None:
    period = welfare_post.placement_period("regular", None, date(2020, 3, 15), FAR, PARAMS)
    assert subsidy_period.completed_months(period, date(2020, 4, 14)) == 0
    assert subsidy_period.completed_months(period, date(2020, 4, 15)) == 1
    assert subsidy_period.completed_months(period, date(2030, 1, 1)) == 36
    # A month cut off by retirement is not completed.
    cut = welfare_post.placement_period("regular", None, date(2020, 3, 15), date(2020, 6, 1), PARAMS)
    assert subsidy_period.completed_months(cut, date(2020, 7, 1)) == 2


def test_k5_pays_post_and_si_subsidy_as_two_ledger_programs() -> None:
    assert welfare_post.monthly_payments(date(2020, 3, 15), PARAMS) == [
        (welfare_post.PROGRAM_POST, 165000),
        (welfare_post.PROGRAM_SI, 60000),
    ]
    changed = PARAMS.with_change("welfare_post.post_subsidy", 170000, date(2020, 4, 1))
    assert welfare_post.monthly_payments(date(2020, 3, 15), changed)[0] == (welfare_post.PROGRAM_POST, 165000)
    assert welfare_post.monthly_payments(date(2020, 4, 15), changed)[0] == (welfare_post.PROGRAM_POST, 170000)


def test_k5_placement_number_counts_earlier_placements_not_rejected() -> None:
    assert welfare_post.placement_number([]) == 1
    assert welfare_post.placement_number(["completed"]) == 2
    assert welfare_post.placement_number(["rejected", "completed", "ended"]) == 3


def test_k5_at_most_max_placements_then_a_supervisor_decides() -> None:
    on = date(2020, 6, 1)
    assert not welfare_post.needs_approval(1, PARAMS, on)
    assert not welfare_post.needs_approval(2, PARAMS, on)
    assert welfare_post.needs_approval(3, PARAMS, on)


def test_k5_first_placement_and_extension_from_employment_subsidy_fund() -> None:
    choice = welfare_post.placement_fund(1, frozenset(), near_retirement=False)
    assert choice.fund == Fund.EMPLOYMENT_SUBSIDY and "first placement" in choice.reason


@pytest.mark.parametrize(
    ("categories", "near", "fund"),
    [
        (["zero_employment_household"], False, Fund.EMPLOYMENT_SUBSIDY),
        (["severely_disabled"], False, Fund.EMPLOYMENT_SUBSIDY),
        ([], True, Fund.EMPLOYMENT_SUBSIDY),
        (["dibao_household", "disabled"], False, Fund.LOCAL),
    ],
)
def test_k5_renewed_placement_fund(categories: list[str], near: bool, fund: Fund) -> None:
    choice = welfare_post.placement_fund(2, frozenset(categories), near_retirement=near)
    assert choice.fund == fund
    assert "renewed placement" in choice.reason


def test_k5_renewed_placement_fund_from_the_persons_profile() -> None:
    on = date(2020, 6, 1)
    severe = profile("S1", ["severely_disabled"])
    assert welfare_post.fund_for(2, severe, on, PARAMS).fund == Fund.EMPLOYMENT_SUBSIDY
    near = profile("N1", ["dibao_household"], retirement=date(2024, 1, 1))
    assert welfare_post.fund_for(2, near, on, PARAMS).fund == Fund.EMPLOYMENT_SUBSIDY
    other = profile("O1", ["dibao_household"])
    assert welfare_post.fund_for(2, other, on, PARAMS).fund == Fund.LOCAL
    # Categories stated on the placement count too.
    assert welfare_post.fund_for(2, other, on, PARAMS, ["zero_employment_household"]).fund == Fund.EMPLOYMENT_SUBSIDY


def test_k5_renewed_placement_of_a_zero_employment_household_from_household_facts() -> None:
    on = date(2020, 6, 1)
    members = [
        {"person_id": "Z1", "working_age": True, "able_to_work": True, "employed": False},
        {"person_id": "Z2", "working_age": True, "able_to_work": True, "employed": False},
    ]
    household = Fact(
        key="person/Z1",
        type="household.updated",
        on_date=None,
        payload={"household_id": "H1", "members": members, "business_income": False},
        event_time=datetime(2020, 2, 3, 9, tzinfo=SHANGHAI),
        event_key="ca/2101#h1",
    )
    person = difficult.profile_from_facts("Z1", [registration("Z1", date(2020, 1, 2), FAR, ["disabled"]), household], on)
    choice = welfare_post.fund_for(2, person, on, PARAMS)
    assert choice.fund == Fund.EMPLOYMENT_SUBSIDY and "zero_employment_household" in choice.reason


# --- routing -----------------------------------------------------------------------------------
def event(type_: str, data: dict[str, Any], subject: str, ident: str = "x-1", source: str = "es/2101") -> Any:
    return parse_event(line(cloud_event(id=ident, source=source, type=type_, subject=subject, on=date(2020, 5, 20), data=data)))


def application(program: str = "flexible_employment_si") -> Any:
    return event("application.submitted", {"program": program, "applicant": "P1", "on": "2020-05-20", "details": {}}, "person/P1")


def open_case(kind: str, case_id: str, **match: Any) -> OpenCase:
    return OpenCase(case_id=case_id, kind=kind, key="person/P1", match=match)


def test_k4_route_opens_a_case_on_a_flexible_employment_application() -> None:
    commands = route(application(), [], PACK)
    assert commands == [
        StartCase(kind=flexible_routes.KIND, case_id="flexible/P1/2020-05-20", city="2101", keys=["person/P1"])
    ]


def test_k4_route_other_programs_open_no_flexible_case() -> None:
    assert all(not (isinstance(c, StartCase) and c.kind == flexible_routes.KIND) for c in route(application("hubei_graduate_grant"), [], PACK))


def test_k4_route_second_application_while_one_runs_is_rejected() -> None:
    commands = route(application(), [open_case(flexible_routes.KIND, "flexible/P1/2019-01-03")], PACK)
    assert len(commands) == 1 and isinstance(commands[0], Reject) and "flexible/P1/2019-01-03" in commands[0].reason


def test_k4_route_own_contribution_reaches_the_open_case_employer_contribution_does_not() -> None:
    data = {"person_id": "P1", "month": "2020-05", "base": 1, "employer_amount": 1, "employee_amount": 1, "insurances": []}
    case = open_case(flexible_routes.KIND, "flexible/P1/2020-05-20")
    assert route(event("contribution.paid", data, "person/P1"), [case], PACK) == [SignalCase("flexible/P1/2020-05-20")]
    employer = route(event("contribution.paid", {**data, "employer_id": "E1"}, "person/P1"), [case], PACK)
    assert all(isinstance(c, Ignore) for c in employer)


def test_contract_reaches_open_k4_and_k5_cases() -> None:
    data = {"person_id": "P1", "employer_id": "E1", "signed_on": "2020-06-01", "starts_on": "2020-06-01", "term_months": None}
    cases = [open_case(flexible_routes.KIND, "flexible/P1/2020-05-20"), open_case(welfare_post_routes.KIND, "welfare_post/P1/W/2020-01-01", post_id="W")]
    assert route(event("contract.signed", data, "person/P1"), cases, PACK) == [
        SignalCase("flexible/P1/2020-05-20"),
        SignalCase("welfare_post/P1/W/2020-01-01"),
    ]


def placed(kind: str = "regular", months: int | None = None) -> Any:
    data: dict[str, Any] = {"person_id": "P1", "post_id": "W1", "city": "2101", "kind": kind, "starts_on": "2020-06-01"}
    if months is not None:
        data["months"] = months
    return event("welfare_post.placed", data, "person/P1")


def test_k5_route_opens_a_case_per_placement() -> None:
    assert route(placed(), [], PACK) == [
        StartCase(
            kind=welfare_post_routes.KIND,
            case_id="welfare_post/P1/W1/2020-06-01",
            city="2101",
            keys=["person/P1"],
            match={"post_id": "W1"},
        )
    ]


@pytest.mark.parametrize("months", [None, 2, 7])
def test_k5_route_temporary_months_outside_3_to_6_is_rejected_with_the_reason(months: int | None) -> None:
    commands = route(placed("temporary", months), [], PACK)
    assert len(commands) == 1 and isinstance(commands[0], Reject)
    assert "3..6" in commands[0].reason and f"got {months}" in commands[0].reason


def test_k5_route_temporary_months_in_range_opens_a_case() -> None:
    assert isinstance(route(placed("temporary", 3), [], PACK)[0], StartCase)


def test_k5_route_placement_while_still_placed_is_rejected() -> None:
    commands = route(placed(), [open_case(welfare_post_routes.KIND, "welfare_post/P1/W0/2019-01-01", post_id="W0")], PACK)
    assert isinstance(commands[0], Reject) and "still placed" in commands[0].reason


def test_k5_route_leaving_reaches_the_case_of_that_post_only() -> None:
    left = event("welfare_post.left", {"person_id": "P1", "post_id": "W1", "on": "2020-09-01"}, "person/P1")
    assert route(left, [open_case(welfare_post_routes.KIND, "c1", post_id="W1")], PACK) == [SignalCase("c1")]
    commands = route(left, [open_case(welfare_post_routes.KIND, "c0", post_id="W0")], PACK)
    assert isinstance(commands[0], Reject)


def test_k4_k5_intake_stores_the_person_facts_k12_reads() -> None:
    assert set(difficult.PERSON_FACT_TYPES) <= FACT_TYPES
    assert set(difficult.PERSON_FACT_TYPES) <= set(flexible_routes.FACT_TYPES) and set(difficult.PERSON_FACT_TYPES) <= set(welfare_post_routes.FACT_TYPES)


def test_k5_renewal_fund_near_retirement_means_less_than_five_years() -> None:
    """Seed §17 距离法定退休年龄不足5年: exactly five years to retirement is not 不足5年."""
    from policy.welfare_post import less_than_retirement_years

    params = load_pack().parameters("2101")
    on = date(2020, 6, 1)
    assert less_than_retirement_years(date(2025, 5, 31), on, params)
    assert not less_than_retirement_years(date(2025, 6, 1), on, params)
    assert not less_than_retirement_years(None, on, params)
