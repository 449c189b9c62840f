"""K17 temporary_living_allowance (§18): the pure rules of policy/living_allowance.py, each test
named after the POLICY.md rule it guards."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from contracts.cases import Fact
from policy import difficult, living_allowance
from policy.funds import Fund
from policy.pack import load_pack

PARAMS = load_pack().parameters("2101")
APPLIED = date(2020, 4, 15)


def fact(type_: str, payload: dict[str, Any], on: date | None, n: int = 1) -> Fact:
    return Fact(key="person/P1", type=type_, on_date=on, payload=payload,
                event_time=datetime(2020, 1, 1, n, tzinfo=timezone.utc), event_key=f"t#{n}")


def registered(categories: list[str] | None = None) -> Fact:
    payload: dict[str, Any] = {"person_id": "P1", "city": "2101", "registered_on": "2020-02-01",
                               "birth_date": "1980-01-01", "retirement_date": "2040-01-01"}
    if categories:
        payload["categories"] = categories
    return fact("unemployment.registered", payload, date(2020, 2, 1))


def profile(*facts: Fact) -> difficult.PersonProfile:
    return difficult.profile_from_facts("P1", list(facts), APPLIED)


DIBAO = fact("dibao.granted", {"person_id": "P1", "household_id": "H1", "city": "2101", "monthly_amount": 60000,
                               "from_month": "2020-01"}, None, 2)
ZERO_EMPLOYMENT = fact("household.updated", {"household_id": "H1", "business_income": False, "members": [
    {"person_id": "P1", "working_age": True, "able_to_work": True, "employed": False},
    {"person_id": "P2", "working_age": True, "able_to_work": True, "employed": False},
]}, None, 3)


def test_k17_pack_ships_tla_monthly_and_tla_months() -> None:
    """POLICY.md table: `tla.monthly` / `tla.months` 60000 fen / 3."""
    assert (PARAMS.get("tla.monthly"), PARAMS.get("tla.months")) == (60000, 3)


@pytest.mark.parametrize("hardship", [DIBAO, ZERO_EMPLOYMENT, registered(["dibao_household"])])
def test_k17_registered_unemployed_in_living_difficulty_not_on_ui_is_eligible(hardship: Fact) -> None:
    """Eligible on the application date, else `rejected`: registered unemployed; in living
    difficulty — a 低保 household member or a zero-employment household member (K12's facts); and
    not receiving unemployment-insurance benefit"""
    facts = [hardship] if hardship.type == "unemployment.registered" else [registered(), hardship]
    assert living_allowance.ineligibility(profile(*facts), APPLIED, False, PARAMS) is None


def test_k17_not_registered_unemployed_is_rejected() -> None:
    reason = living_allowance.ineligibility(profile(DIBAO), APPLIED, False, PARAMS)
    assert reason is not None and "not registered unemployed" in reason


def test_k17_difficult_to_employ_without_living_difficulty_is_rejected() -> None:
    """Living difficulty is 低保 or zero employment only: another K12 category does not count."""
    reason = living_allowance.ineligibility(profile(registered(["disabled", "single_parent"])), APPLIED, False, PARAMS)
    assert reason is not None and "no living difficulty" in reason


def test_k17_receiving_unemployment_insurance_benefit_is_rejected() -> None:
    """(no open K2 case of the person that pays)"""
    reason = living_allowance.ineligibility(profile(registered(), DIBAO), APPLIED, True, PARAMS)
    assert reason is not None and "receiving unemployment-insurance benefit" in reason


def test_k17_at_most_once_per_person_per_calendar_year() -> None:
    """At most once per person per calendar year: a second application in the year is `rejected`."""
    assert living_allowance.once_a_year_refusal(APPLIED, []) is None
    reason = living_allowance.once_a_year_refusal(date(2020, 12, 1), [(APPLIED, "completed")])
    assert reason is not None and "at most once a year" in reason
    assert living_allowance.once_a_year_refusal(date(2020, 12, 1), [(APPLIED, "active")]) is not None
    assert living_allowance.once_a_year_refusal(date(2021, 1, 1), [(APPLIED, "completed")]) is None
    # a rejected application granted nothing
    assert living_allowance.once_a_year_refusal(date(2020, 12, 1), [(APPLIED, "rejected")]) is None


def test_k17_pays_tla_monthly_at_the_start_of_each_of_tla_months_months() -> None:
    """Pays `tla.monthly` at the start of each of `tla.months` months from the application date"""
    months = living_allowance.schedule(APPLIED, PARAMS)
    assert [(m.period, m.starts_on) for m in months] == [
        ("month-1", date(2020, 4, 15)), ("month-2", date(2020, 5, 15)), ("month-3", date(2020, 6, 15)),
    ]
    assert [living_allowance.monthly_amount(m, PARAMS) for m in months] == [60000] * 3
    assert (living_allowance.PROGRAM, living_allowance.FUND) == ("temporary_living_allowance", Fund.EMPLOYMENT_SUBSIDY)


@pytest.mark.parametrize(("reemployed", "paid"), [
    (None, [1, 2, 3]),
    (date(2020, 4, 20), [1]),
    (date(2020, 5, 14), [1]),
    (date(2020, 5, 15), [1, 2]),
    (date(2020, 6, 30), [1, 2, 3]),
])
def test_k17_reemployment_stops_it_from_the_next_month(reemployed: date | None, paid: list[int]) -> None:
    """re-employment stops it from the next month (`reemployed`), else `completed`."""
    assert [m.n for m in living_allowance.months_due(APPLIED, reemployed, PARAMS)] == paid


def test_k17_the_amount_is_the_one_in_force_on_each_month_start() -> None:
    changed = PARAMS.with_change("tla.monthly", 70000, date(2020, 5, 15))
    assert [living_allowance.monthly_amount(m, changed) for m in living_allowance.schedule(APPLIED, changed)] == [60000, 70000, 70000]
