"""K12 difficult-to-employ determination (§16): one test per clause of POLICY.md K12, each
named after the rule it guards, on profiles built from stored facts as cases load them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from contracts.cases import Fact
from contracts.parameters import Parameters
from policy import difficult
from policy.calendar import SHANGHAI
from policy.pack import load_pack

P = "P000001"
REGISTERED = date(2020, 1, 15)
FAR_RETIREMENT = "2045-06-30"


@pytest.fixture(scope="module")
def params() -> Parameters:
    return load_pack().parameters("2101")


_seq = iter(range(1, 1_000_000))


def fact(type_: str, payload: dict[str, Any], on: date | None = None, key: str = f"person/{P}") -> Fact:
    """A stored fact the way the intake keeps it (`activities.store.fact_of`)."""
    n = next(_seq)
    reported = on or date(2020, 1, 1)
    return Fact(
        key=key,
        type=type_,
        on_date=on,
        payload=payload,
        event_time=datetime(reported.year, reported.month, reported.day, 9, tzinfo=SHANGHAI) + timedelta(seconds=n),
        event_key=f"test#{n}",
    )


def registered(on: date = REGISTERED, categories: list[str] | None = None, retirement: str = FAR_RETIREMENT, person: str = P) -> Fact:
    return fact(
        "unemployment.registered",
        {
            "person_id": person,
            "city": "2101",
            "registered_on": on.isoformat(),
            "birth_date": "1980-01-01",
            "retirement_date": retirement,
            "categories": categories or [],
        },
        on,
    )


def referral(on: date, outcome: str = "not_hired") -> Fact:
    return fact("referral.recorded", {"person_id": P, "on": on.isoformat(), "employer_id": "E1", "outcome": outcome}, on)


def employment(on: date, kind: str) -> Fact:
    return fact("employment.registered", {"person_id": P, "city": "2101", "on": on.isoformat(), "kind": kind}, on)


def deregistered(on: date) -> Fact:
    return fact("unemployment.deregistered", {"person_id": P, "on": on.isoformat(), "reason": "other"}, on)


def member(pid: str, working_age: bool = True, able: bool = True, employed: bool = False) -> dict[str, Any]:
    return {"person_id": pid, "working_age": working_age, "able_to_work": able, "employed": employed}


def household(members: list[dict[str, Any]], business_income: bool = False, reported: date = date(2020, 1, 10)) -> Fact:
    fact_ = fact("household.updated", {"household_id": "H1", "members": members, "business_income": business_income}, None)
    return fact_.model_copy(update={"event_time": datetime(reported.year, reported.month, reported.day, 9, tzinfo=SHANGHAI)})


def dibao_granted(person: str = P, from_month: str = "2020-01") -> Fact:
    return fact(
        "dibao.granted",
        {"person_id": person, "household_id": "H1", "city": "2101", "monthly_amount": 60000, "from_month": from_month},
        None,
        key=f"person/{person}",
    )


def dibao_ended(on: date, person: str = P) -> Fact:
    return fact("dibao.ended", {"person_id": person, "on": on.isoformat()}, on, key=f"person/{person}")


def categories_on(facts: list[Fact], on: date, params: Parameters) -> list[str]:
    return difficult.difficult_categories(difficult.profile_from_facts(P, facts, on), on, params)


ASKED = date(2020, 6, 1)


# -- the plain categories ---------------------------------------------------------------------
def test_no_category_is_not_difficult(params: Parameters) -> None:
    profile = difficult.profile_from_facts(P, [registered()], ASKED)
    assert difficult.difficult_categories(profile, ASKED, params) == []
    assert not difficult.is_difficult(profile, ASKED, params)


def test_zero_employment_household_member_is_difficult(params: Parameters) -> None:
    facts = [registered(), household([member(P), member("P2")])]
    assert categories_on(facts, ASKED, params) == ["zero_employment_household"]


def test_zero_employment_household_needs_at_least_two_members_living_together(params: Parameters) -> None:
    assert categories_on([registered(), household([member(P)])], ASKED, params) == []


def test_zero_employment_household_not_when_an_able_working_age_member_is_employed(params: Parameters) -> None:
    facts = [registered(), household([member(P), member("P2", employed=True)])]
    assert categories_on(facts, ASKED, params) == []


def test_zero_employment_household_not_with_business_or_investment_income(params: Parameters) -> None:
    facts = [registered(), household([member(P), member("P2")], business_income=True)]
    assert categories_on(facts, ASKED, params) == []


def test_zero_employment_household_counts_only_working_age_members_able_to_work(params: Parameters) -> None:
    # A working pensioner and an employed member unable to work are not "working-age, able".
    facts = [
        registered(),
        household([member(P), member("P2", working_age=False, employed=True), member("P3", able=False, employed=True)]),
    ]
    assert categories_on(facts, ASKED, params) == ["zero_employment_household"]


def test_zero_employment_household_follows_the_latest_household_record(params: Parameters) -> None:
    facts = [
        registered(),
        household([member(P), member("P2")], reported=date(2020, 2, 1)),
        household([member(P), member("P2", employed=True)], reported=date(2020, 5, 1)),
    ]
    assert categories_on(facts, date(2020, 4, 1), params) == ["zero_employment_household"]
    assert categories_on(facts, date(2020, 5, 2), params) == []


def test_zero_employment_household_stated_category_holds_without_a_household_record(params: Parameters) -> None:
    assert categories_on([registered(categories=["zero_employment_household"])], ASKED, params) == ["zero_employment_household"]


def test_dibao_household_member_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(), dibao_granted()], ASKED, params) == ["dibao_household"]


def test_dibao_household_member_no_longer_once_dibao_ended(params: Parameters) -> None:
    facts = [registered(), dibao_granted(), dibao_ended(date(2020, 4, 30))]
    assert categories_on(facts, date(2020, 4, 29), params) == ["dibao_household"]
    assert categories_on(facts, date(2020, 4, 30), params) == []


def test_dibao_household_member_through_a_grant_to_another_member(params: Parameters) -> None:
    facts = [registered(), household([member(P), member("P2", employed=True)]), dibao_granted(person="P2")]
    assert difficult.household_keys(P, facts) == ["household/H1", "person/P2"]
    assert categories_on(facts, ASKED, params) == ["dibao_household"]
    assert categories_on(facts + [dibao_ended(date(2020, 5, 1), person="P2")], ASKED, params) == []


def test_dibao_household_stated_category_counts(params: Parameters) -> None:
    assert categories_on([registered(categories=["dibao_household"])], ASKED, params) == ["dibao_household"]


def test_dibao_grant_not_yet_in_force_does_not_count(params: Parameters) -> None:
    assert categories_on([registered(), dibao_granted(from_month="2020-07")], ASKED, params) == []


def test_within_retirement_years_is_difficult(params: Parameters) -> None:
    # POLICY.md: retirement_date - date <= 5 years; exactly 5 years counts, a day more does not.
    facts = [registered(retirement="2025-06-01")]
    assert categories_on(facts, date(2020, 6, 1), params) == ["within_retirement_years"]
    assert categories_on(facts, date(2020, 5, 31), params) == []


def test_disabled_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["disabled"])], ASKED, params) == ["disabled"]


def test_severely_disabled_is_disabled_and_named_for_funding(params: Parameters) -> None:
    assert categories_on([registered(categories=["severely_disabled"])], ASKED, params) == ["disabled", "severely_disabled"]


def test_single_parent_raising_a_minor_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["single_parent"])], ASKED, params) == ["single_parent"]


def test_unemployed_military_spouse_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["military_spouse"])], ASKED, params) == ["military_spouse"]


def test_entitled_group_on_regular_allowance_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["entitled_group"])], ASKED, params) == ["entitled_group"]


def test_martyr_family_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["martyr_family"])], ASKED, params) == ["martyr_family"]


def test_poverty_registered_labourer_is_difficult(params: Parameters) -> None:
    assert categories_on([registered(categories=["poverty_registered"])], ASKED, params) == ["poverty_registered"]


def test_every_category_that_holds_is_listed_sorted(params: Parameters) -> None:
    facts = [
        registered(categories=["martyr_family", "disabled", "single_parent"], retirement="2024-01-01"),
        dibao_granted(),
        household([member(P), member("P2")]),
    ]
    assert categories_on(facts, ASKED, params) == [
        "dibao_household",
        "disabled",
        "martyr_family",
        "single_parent",
        "within_retirement_years",
        "zero_employment_household",
    ]


def test_categories_stated_on_a_welfare_post_placement_count(params: Parameters) -> None:
    placed = fact(
        "welfare_post.placed",
        {"person_id": P, "post_id": "W1", "city": "2101", "kind": "regular", "starts_on": "2020-03-01", "categories": ["martyr_family"]},
        date(2020, 3, 1),
    )
    assert categories_on([placed], ASKED, params) == ["martyr_family"]


def test_facts_dated_after_the_day_asked_are_not_looked_at(params: Parameters) -> None:
    facts = [registered(on=date(2020, 7, 1), categories=["disabled"])]
    assert categories_on(facts, ASKED, params) == []
    assert categories_on(facts, date(2020, 7, 1), params) == ["disabled"]


def test_facts_about_other_persons_are_ignored(params: Parameters) -> None:
    assert categories_on([registered(categories=["disabled"], person="P9")], ASKED, params) == []


# -- §16 参照 ----------------------------------------------------------------------------------
TWELVE_MONTHS = date(2021, 1, 15)  # REGISTERED + 12 months


def veteran_facts(*extra: Fact, group: str = "veteran") -> list[Fact]:
    return [registered(categories=[group]), referral(date(2020, 3, 1)), referral(date(2020, 5, 1)), *extra]


@pytest.mark.parametrize("group", ["veteran", "model_worker", "land_expropriated"])
def test_treated_as_difficult_after_12_months_registered_and_two_referrals_without_a_job(group: str, params: Parameters) -> None:
    assert categories_on(veteran_facts(group=group), TWELVE_MONTHS, params) == [f"treated_as:{group}"]


def test_treated_as_needs_12_continuous_months_of_registration(params: Parameters) -> None:
    assert categories_on(veteran_facts(), TWELVE_MONTHS - timedelta(days=1), params) == []


def test_treated_as_two_referrals_are_enough_since_yishang_includes_the_number(params: Parameters) -> None:
    # Seed §16 累计2次以上: 以上 includes 2 (POLICY.md ≥ 2, difficult.referral_min = 2).
    one = [registered(categories=["veteran"]), referral(date(2020, 3, 1))]
    assert categories_on(one, TWELVE_MONTHS, params) == []
    assert categories_on(veteran_facts(), TWELVE_MONTHS, params) == ["treated_as:veteran"]


def test_treated_as_counts_only_referrals_that_did_not_lead_to_a_job(params: Parameters) -> None:
    facts = [registered(categories=["veteran"]), referral(date(2020, 3, 1)), referral(date(2020, 5, 1), outcome="hired")]
    assert categories_on(facts, TWELVE_MONTHS, params) == []
    declined = [registered(categories=["veteran"]), referral(date(2020, 3, 1)), referral(date(2020, 5, 1), outcome="declined")]
    assert categories_on(declined, TWELVE_MONTHS, params) == ["treated_as:veteran"]


def test_treated_as_not_after_flexible_or_self_employment_during_the_registration(params: Parameters) -> None:
    for kind in ("flexible", "self_employed"):
        assert categories_on(veteran_facts(employment(date(2020, 8, 1), kind)), TWELVE_MONTHS, params) == []


def test_treated_as_counts_only_referrals_of_the_current_registration(params: Parameters) -> None:
    facts = [
        registered(on=date(2019, 1, 1), categories=["veteran"]),
        referral(date(2019, 3, 1)),
        deregistered(date(2019, 6, 1)),
        registered(on=REGISTERED, categories=["veteran"]),
        referral(date(2020, 3, 1)),
    ]
    assert categories_on(facts, TWELVE_MONTHS, params) == []


def test_treated_as_continuity_broken_by_employment_as_an_employee(params: Parameters) -> None:
    facts = veteran_facts(employment(date(2020, 8, 1), "employee"))
    profile = difficult.profile_from_facts(P, facts, TWELVE_MONTHS)
    assert profile.registered_on is None
    assert difficult.difficult_categories(profile, TWELVE_MONTHS, params) == []


def test_treated_as_only_for_veterans_model_workers_and_land_expropriated_farmers(params: Parameters) -> None:
    facts = [registered(), referral(date(2020, 3, 1)), referral(date(2020, 5, 1))]
    assert categories_on(facts, TWELVE_MONTHS, params) == []


def test_treated_as_follows_a_changed_referral_minimum(params: Parameters) -> None:
    changed = params.with_change("difficult.referral_min", 3, date(2020, 12, 1))
    assert categories_on(veteran_facts(), TWELVE_MONTHS, changed) == []
    assert categories_on(veteran_facts(), TWELVE_MONTHS, params) == ["treated_as:veteran"]


def test_treated_as_categories_strips_the_prefix() -> None:
    assert difficult.treated_as_categories(["disabled", "treated_as:veteran", "treated_as:model_worker"]) == ["model_worker", "veteran"]


def test_person_fact_types_are_event_types() -> None:
    from contracts.events import DATA_MODELS

    assert set(difficult.PERSON_FACT_TYPES) <= set(DATA_MODELS)
