"""K2 unemployment_insurance and K3 unemployment_assistance (§18): every rule of POLICY.md as a
pure-function test named after it, plus the routing of both kinds."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent, parse_event
from policy import unemployment
from policy.monthly_schedule import month_start
from policy.pack import load_pack
from streams.routes import unemployment as unemployment_routes
from streams.routes.commands import FanOut, Ignore, Reject, SignalCase, StartCase
from streams.routing import SHARED_FACT_KINDS, route
from testkit.events import cloud_event, line

PACK = load_pack()
PARAMS = PACK.parameters("2101")
S = date(2020, 1, 25)  # epidemic declared
L = date(2020, 4, 28)  # epidemic lifted


# -- K2 eligibility and entitlement -----------------------------------------------------------
def test_eligible_needs_twelve_insured_months() -> None:
    assert not unemployment.eligible(11, True, PARAMS, date(2020, 3, 2))
    assert unemployment.eligible(12, True, PARAMS, date(2020, 3, 2))


def test_eligible_needs_involuntary_separation() -> None:
    assert not unemployment.eligible(200, False, PARAMS, date(2020, 3, 2))


@pytest.mark.parametrize(
    ("insured", "months"),
    [(0, 0), (11, 0), (12, 12), (59, 12), (60, 18), (119, 18), (120, 24), (400, 24)],
)
def test_entitlement_months_by_contribution(insured: int, months: int) -> None:
    assert unemployment.months_by_contribution(insured, PARAMS, date(2020, 3, 2)) == months


def test_insured_but_ineligible_claimant_counts_as_insured_for_assistance() -> None:
    # §18: 不符合领取失业保险金条件的参保失业人员 → K3; never insured → nothing.
    assert unemployment.is_insured(5)
    assert not unemployment.is_insured(0)


def test_carry_over_adds_unused_months_of_previous_claim() -> None:
    previous = [{"unused_months": 3}, {"unused_months": 9}]  # oldest first: the latest counts
    carried = unemployment.unused_months_of_previous(previous)
    assert carried == 9
    assert unemployment.entitlement_months(30, carried, PARAMS, date(2020, 10, 5)) == 12 + 9


def test_carry_over_capped_at_carry_over_cap_months() -> None:
    assert unemployment.entitlement_months(70, 14, PARAMS, date(2020, 10, 5)) == 24  # 18 + 14 → cap 24


def test_carry_over_none_without_previous_claim() -> None:
    assert unemployment.unused_months_of_previous([]) == 0
    assert unemployment.unused_months_of_previous([{}]) == 0


# -- K2 payments --------------------------------------------------------------------------------
def test_benefit_month_n_starts_n_minus_one_months_after_claim() -> None:
    assert month_start(date(2020, 3, 2), 1) == date(2020, 3, 2)
    assert month_start(date(2020, 1, 31), 2) == date(2020, 2, 29)  # clamped, not chained
    assert month_start(date(2020, 1, 31), 3) == date(2020, 3, 31)
    assert unemployment.entitlement_end(date(2020, 3, 2), 12) == date(2021, 3, 2)


def test_uplift_applies_from_declaration_date() -> None:
    assert not unemployment.uplift_applies(date(2020, 1, 24), S, None, PARAMS)
    assert unemployment.uplift_applies(date(2020, 1, 25), S, None, PARAMS)


def test_uplift_applies_while_lift_date_unknown() -> None:
    assert unemployment.uplift_applies(date(2023, 1, 1), S, None, PARAMS)


def test_uplift_needs_a_declared_epidemic() -> None:
    # Reading of POLICY.md: no S, no epidemic period, no uplift (not even while L is unknown).
    assert not unemployment.uplift_applies(date(2020, 5, 1), None, None, PARAMS)


def test_uplift_stops_for_months_starting_three_months_after_lift() -> None:
    assert unemployment.uplift_until(L, PARAMS) == date(2020, 7, 28)
    assert unemployment.uplift_applies(date(2020, 7, 27), S, L, PARAMS)
    assert not unemployment.uplift_applies(date(2020, 7, 28), S, L, PARAMS)


def test_monthly_benefit_uses_value_in_force_at_month_start() -> None:
    changed = PARAMS.with_change("ui.monthly_benefit", 160000, date(2020, 7, 1))
    assert unemployment.monthly_benefit(date(2020, 6, 30), changed) == 150000
    assert unemployment.monthly_benefit(date(2020, 7, 1), changed) == 160000
    assert unemployment.epidemic_uplift(date(2020, 7, 1), changed) == 20000


def test_price_linkage_goes_to_the_benefit_month_starting_in_that_month() -> None:
    claim = date(2020, 3, 15)
    assert unemployment.linked_benefit_month(claim, "2020-05", 24) == 3  # month 3 starts 2020-05-15
    assert unemployment.linked_benefit_month(claim, "2020-02", 24) is None  # before the claim
    assert unemployment.linked_benefit_month(claim, "2020-05", 2) is None  # month 3 not (yet) paid
    assert unemployment.linked_benefit_month(date(2020, 1, 31), "2020-02", 24) == 2  # 2020-02-29
    assert unemployment.price_linkage_period("2020-05") == "price-linkage-2020-05"


# -- re-employment ------------------------------------------------------------------------------
CLAIM = date(2020, 3, 15)


def test_reemployment_by_employment_registration() -> None:
    assert unemployment.reemployment_date("employment.registered", {"on": "2020-05-20"}, CLAIM) == date(2020, 5, 20)


def test_reemployment_by_contract_signed_earlier_of_signing_and_start() -> None:
    data = {"signed_on": "2020-05-20", "starts_on": "2020-06-01"}
    assert unemployment.reemployment_date("contract.signed", data, CLAIM) == date(2020, 5, 20)
    backdated = {"signed_on": "2020-05-20", "starts_on": "2020-05-10"}
    assert unemployment.reemployment_date("contract.signed", backdated, CLAIM) == date(2020, 5, 10)


def test_reemployment_by_employer_contribution_for_a_month_after_the_claim() -> None:
    paid = {"month": "2020-04", "employer_id": "E1"}
    assert unemployment.reemployment_date("contribution.paid", paid, CLAIM) == date(2020, 4, 1)


def test_contribution_for_the_claim_month_is_no_reemployment() -> None:
    assert unemployment.reemployment_date("contribution.paid", {"month": "2020-03", "employer_id": "E1"}, CLAIM) is None


def test_flexible_contribution_is_no_reemployment() -> None:
    assert unemployment.reemployment_date("contribution.paid", {"month": "2020-06", "employer_id": None}, CLAIM) is None


def test_reemployment_signal_dated_before_the_claim_is_ignored() -> None:
    assert unemployment.reemployment_date("employment.registered", {"on": "2020-03-14"}, CLAIM) is None


def test_reemployment_stops_payment_from_next_benefit_month() -> None:
    reemployed = date(2020, 5, 20)  # inside month 3 [05-15, 06-15)
    assert unemployment.month_paid_before_stop(month_start(CLAIM, 3), reemployed)
    assert not unemployment.month_paid_before_stop(month_start(CLAIM, 4), reemployed)
    assert unemployment.month_paid_before_stop(month_start(CLAIM, 9), None)


# -- end of entitlement -------------------------------------------------------------------------
def test_continuation_less_than_one_year_before_retirement() -> None:
    """Seed §18 距离法定退休年龄不足1年: strictly less than a year (POLICY.md's <= loses to the seed)."""
    end = date(2021, 3, 2)
    assert unemployment.continues_to_retirement(date(2022, 3, 1), end, PARAMS)  # a day short of a year
    assert not unemployment.continues_to_retirement(date(2022, 3, 2), end, PARAMS)  # exactly one year: not 不足
    assert not unemployment.continues_to_retirement(date(2022, 3, 3), end, PARAMS)


def test_continuation_pays_up_to_the_month_retirement_falls_in() -> None:
    retirement = date(2021, 9, 15)
    assert unemployment.before_retirement(date(2021, 9, 2), retirement)  # the month retirement falls in
    assert not unemployment.before_retirement(date(2021, 10, 2), retirement)
    assert not unemployment.before_retirement(retirement, retirement)  # a month starting on it: a pensioner


# -- K3 -----------------------------------------------------------------------------------------
def test_assistance_not_opened_after_window_until() -> None:
    assert unemployment.assistance_window_open(date(2020, 12, 31), PARAMS)
    assert not unemployment.assistance_window_open(date(2021, 1, 1), PARAMS)


def test_assistance_pays_ratio_of_monthly_benefit_rounded_down() -> None:
    assert unemployment.assistance_amount(date(2020, 6, 1), PARAMS) == 120000
    odd = PARAMS.with_change("ui.monthly_benefit", 150001, date(2020, 7, 1))
    assert unemployment.assistance_amount(date(2020, 7, 1), odd) == 120000  # 120000.8 → down to the fen


def test_assistance_lasts_ua_months() -> None:
    assert unemployment.assistance_months(PARAMS, date(2020, 6, 1)) == 6


# -- routes -------------------------------------------------------------------------------------
def event(type_: str, data: dict[str, Any], subject: str = "person/P1", day: str = "2020-05-01") -> CloudEvent:
    return parse_event(line(cloud_event(id=f"x-{type_}-{day}", source="t/2101", type=type_, subject=subject,
                                        on=date.fromisoformat(day), data=data)))


def claim(person: str = "P1", claim_on: str = "2020-03-15") -> CloudEvent:
    return event("ui.claim.filed", {"person_id": person, "city": "2101", "claim_on": claim_on, "insured_months": 30,
                                    "involuntary": True, "retirement_date": "2040-01-01"}, f"person/{person}", claim_on)


def contribution(month: str, employer: str | None = "E1", person: str = "P1") -> CloudEvent:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 300000, "employer_amount": 1000,
                            "employee_amount": 500, "insurances": ["unemployment"]}
    if employer:
        data["employer_id"] = employer
    return event("contribution.paid", data, f"person/{person}")


K2_CASE = OpenCase("ui/P1/2020-03-15", unemployment_routes.KIND, "person/P1", {"claim_on": "2020-03-15"})
K3_CASE = OpenCase("ua/P1/2020-03-15", kinds.UNEMPLOYMENT_ASSISTANCE, "person/P1", {})


def test_route_claim_opens_k2_case_with_business_key() -> None:
    assert route(claim(), [], PACK) == [
        StartCase(unemployment_routes.KIND, "ui/P1/2020-03-15", "2101", ["person/P1"], {"claim_on": "2020-03-15"})
    ]


def test_route_second_claim_while_one_is_open_is_rejected() -> None:
    commands = route(claim(claim_on="2020-06-01"), [K2_CASE], PACK)
    assert len(commands) == 1 and isinstance(commands[0], Reject)


def test_route_reemployment_signals_open_k2_and_k3_cases() -> None:
    registered = event("employment.registered", {"person_id": "P1", "city": "2101", "on": "2020-05-01", "kind": "employee"})
    assert route(registered, [K2_CASE, K3_CASE], PACK) == [SignalCase(K2_CASE.case_id), SignalCase(K3_CASE.case_id)]
    signed = event("contract.signed", {"person_id": "P1", "employer_id": "E1", "signed_on": "2020-05-01",
                                       "starts_on": "2020-05-01", "term_months": 12})
    assert route(signed, [K2_CASE], PACK) == [SignalCase(K2_CASE.case_id)]


def test_route_contribution_without_open_case_is_ignored() -> None:
    # The common case: no Temporal call at all (an Ignore, nothing to signal).
    assert [type(c) for c in route(contribution("2020-05"), [], PACK)] == [Ignore]


def test_route_contribution_for_claim_month_or_without_employer_is_ignored() -> None:
    assert [type(c) for c in route(contribution("2020-03"), [K2_CASE], PACK)] == [Ignore]
    assert [type(c) for c in route(contribution("2020-05", employer=None), [K2_CASE], PACK)] == [Ignore]


def test_route_employer_contribution_after_claim_signals_k2_case() -> None:
    assert route(contribution("2020-04"), [K2_CASE], PACK) == [SignalCase(K2_CASE.case_id)]


def test_route_price_linkage_fans_out_to_the_city_k2_cases() -> None:
    trigger = event("policy.price_linkage.triggered", {"city": "2102", "month": "2020-05", "amount": 5000}, "city/2102")
    assert route(trigger, [], PACK) == [FanOut((unemployment_routes.KIND,), "2102")]


def test_k2_and_k3_hold_shared_facts() -> None:
    assert unemployment_routes.KIND in SHARED_FACT_KINDS and kinds.UNEMPLOYMENT_ASSISTANCE in SHARED_FACT_KINDS
