"""POLICY.md K7 job_retention_refund (稳岗返还, §1): each rule has a test named after it.

Figures by hand with the shipped parameters: ui.monthly_benefit 150000 fen, 6 benefit months for
affected industries, SME 100% / large 50% of prior-year UI premiums, layoff rate ≤ 5.5%
(≤ 20% with ≤ 30 insured), applications until 2020-12-31."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import parse_event
from policy import retention
from policy.pack import load_pack
from streams.routes import retention as retention_routes
from streams.routes.commands import Ignore, Reject, StartCase
from streams.routing import route
from testkit.events import cloud_event, line
from tests.unit._enterprise_facts import contribution, enrolled, left, registered, staff

PACK = load_pack()
PARAMS = PACK.parameters("2101")
APPLIED = date(2020, 4, 15)
# Completed months of 2020 before 15 April: Jan, Feb, Mar.


def enterprise(n: int, industry: str = "manufacturing", size: str = "small", layoffs: int = 0) -> list:
    """`n` insured from 2019-10-01, the first `layoffs` of them laid off on 1 April 2020 (so
    every month end of Jan–Mar still counts all `n`, and the application date counts n − layoffs)."""
    facts = [registered("E", industry, size), *staff("E", n, date(2019, 10, 1))]
    facts += [left("E", f"P{i}", date(2020, 4, 1)) for i in range(1, layoffs + 1)]
    return facts


def test_layoff_rate_at_the_limit_is_allowed() -> None:
    # 200 insured on each month end, 11 laid off: 11/200 = 5.5% exactly → allowed.
    facts = enterprise(200, layoffs=11) + [contribution("E", "P1", "2019-05", 1000, 500, ["unemployment"])]
    decision = retention.assess("E", 2020, APPLIED, facts, PARAMS)
    assert decision.eligible and decision.figures["layoff_rate"] == "11/200"


def test_layoff_rate_over_the_limit_is_rejected() -> None:
    # 12/200 = 6% > 5.5%.
    decision = retention.assess("E", 2020, APPLIED, enterprise(200, layoffs=12), PARAMS)
    assert not decision.eligible and "over the limit" in decision.reason


def test_small_enterprise_layoff_rate_limit_applies_up_to_30_insured() -> None:
    # 30 insured on month ends; 6 laid off on 1 April → 24 insured on the application date
    # (≤ 30: limit 20%); rate 6/30 = 20% exactly → allowed; a 7th → 23.3% → rejected.
    assert retention.layoff_rate_max(30, PARAMS, APPLIED) == Fraction(20, 100)
    assert retention.layoff_rate_max(31, PARAMS, APPLIED) == Fraction(55, 1000)
    ok = enterprise(30, layoffs=6) + [contribution("E", "P9", "2019-05", 1000, 500, ["unemployment"])]
    assert retention.assess("E", 2020, APPLIED, ok, PARAMS).eligible
    assert not retention.assess("E", 2020, APPLIED, enterprise(30, layoffs=7), PARAMS).eligible


def test_small_enterprise_rule_is_judged_on_the_headcount_of_the_application_date() -> None:
    # 40 insured on month ends, 9 laid off on 1 April → 31 insured on the application date:
    # not small, 9/40 = 22.5% > 5.5% → rejected.
    decision = retention.assess("E", 2020, APPLIED, enterprise(40, layoffs=9), PARAMS)
    assert not decision.eligible and decision.figures["layoff_rate_max"] == "11/200"


def test_affected_industry_refund_is_6_months_benefit_times_insured_headcount() -> None:
    decision = retention.assess("E", 2020, APPLIED, enterprise(5, industry="catering"), PARAMS)
    assert decision.eligible and decision.formula == "affected_industry"
    assert decision.amount == 6 * 150000 * 5 == 4500000


def test_owed_is_the_assessed_refund_once_on_the_application_date_or_nothing() -> None:
    decision = retention.assess("E", 2020, APPLIED, enterprise(5, industry="catering"), PARAMS)
    (owed,) = retention.owed(decision, APPLIED, "enterprise/E", "ui_fund")
    assert (owed.program, owed.period, owed.amount, owed.fund, owed.due_on, owed.rule) == (
        "job_retention", "once", 4500000, "ui_fund", APPLIED, decision.reason)
    over_the_limit = retention.assess("E", 2020, APPLIED, enterprise(40, layoffs=9), PARAMS)
    assert retention.owed(over_the_limit, APPLIED, "enterprise/E", "ui_fund") == []


def test_a_late_fact_bears_on_the_application_only_if_dated_before_it_or_a_prior_year_ui_premium() -> None:
    assert retention.bears_on(left("E", "P1", APPLIED), 2020, APPLIED)
    assert retention.bears_on(enrolled("E", "P9", date(2019, 10, 1)), 2020, APPLIED)
    assert not retention.bears_on(left("E", "P1", date(2020, 4, 16)), 2020, APPLIED)
    assert retention.bears_on(contribution("E", "P1", "2019-12", 1000, 500, ["unemployment"]), 2020, APPLIED)
    assert not retention.bears_on(contribution("E", "P1", "2020-03", 1000, 500, ["unemployment"]), 2020, APPLIED)
    assert not retention.bears_on(contribution("E", "P1", "2019-12", 1000, 500, ["pension"]), 2020, APPLIED)
    assert not retention.bears_on(registered("E", "catering", reported=date(2020, 5, 1)), 2020, APPLIED)


def test_every_section_1_industry_is_an_affected_industry() -> None:
    for industry in ["tourism", "accommodation", "catering", "exhibition", "retail", "trade_distribution", "transport",
                     "education_training", "performing_arts", "film_cinema", "ice_snow_sports"]:
        assert retention.is_affected_industry(industry, PARAMS, APPLIED)
    assert not retention.is_affected_industry("manufacturing", PARAMS, APPLIED)


@pytest.mark.parametrize("size,expected", [("micro", 37034), ("small", 37034), ("medium", 37034), ("large", 18517)])
def test_sme_refund_is_100_percent_and_large_50_percent_of_prior_year_ui(size: str, expected: int) -> None:
    facts = enterprise(40, size=size) + [
        contribution("E", "P1", "2019-03", 12345, 6172, ["unemployment"]),
        contribution("E", "P2", "2019-07", 12345, 6172, ["unemployment"]),
    ]
    decision = retention.assess("E", 2020, APPLIED, facts, PARAMS)
    assert decision.formula == "contributions" and decision.amount == expected


def test_large_ratio_rounds_down_to_the_fen() -> None:
    assert retention.contribution_amount("large", 37035, PARAMS, APPLIED) == 18517


def test_the_larger_of_two_applicable_formulas_is_refunded() -> None:
    # Retail (affected), medium, 2 insured: 6 × 150000 × 2 = 1800000 vs 100% × 2000000 prior UI.
    facts = enterprise(2, industry="retail", size="medium") + [contribution("E", "P1", "2019-05", 1500000, 500000, ["unemployment"])]
    decision = retention.assess("E", 2020, APPLIED, facts, PARAMS)
    assert (decision.formula, decision.amount) == ("contributions", 2000000)
    assert decision.figures["candidates"] == {"contributions": 2000000, "affected_industry": 1800000}
    smaller = enterprise(2, industry="retail", size="medium") + [contribution("E", "P1", "2019-05", 1000, 500, ["unemployment"])]
    assert retention.assess("E", 2020, APPLIED, smaller, PARAMS).amount == 1800000
    assert "the larger applies" in decision.reason


def test_application_on_retention_until_is_in_the_window_and_the_day_after_is_not() -> None:
    facts = enterprise(5, industry="catering")
    assert retention.assess("E", 2020, date(2020, 12, 31), facts, PARAMS).eligible
    late = retention.assess("E", 2020, date(2021, 1, 1), facts, PARAMS)
    assert not late.eligible and "retention.until 2020-12-31" in late.reason


def test_unregistered_or_uninsured_enterprise_is_rejected() -> None:
    assert "not registered" in retention.assess("E", 2020, APPLIED, staff("E", 5, date(2019, 10, 1)), PARAMS).reason
    assert "insures nobody" in retention.assess("E", 2020, APPLIED, [registered("E", "catering")], PARAMS).reason


def test_nothing_to_refund_is_rejected_with_the_reason() -> None:
    decision = retention.assess("E", 2020, APPLIED, enterprise(40, size="large"), PARAMS)
    assert not decision.eligible and "nothing to refund" in decision.reason


def test_rule_text_names_rate_headcount_and_the_winning_formula() -> None:
    decision = retention.assess("E", 2020, APPLIED, enterprise(5, industry="catering"), PARAMS)
    assert "layoff rate 0/5" in decision.reason and "5 insured" in decision.reason and "affected_industry" in decision.reason


# -- once per enterprise per year (routing) ---------------------------------------------------
def _application(year: object, program: str = "job_retention") -> bytes:
    details = {} if year is None else {"year": year}
    return line(cloud_event(id="a1", source="es/2101", type="application.submitted", subject="enterprise/E", on=date(2020, 4, 15),
                            data={"program": program, "applicant": "E", "on": "2020-04-15", "details": details}))


def test_one_refund_per_enterprise_per_year_is_the_case_id_and_the_ledger_period() -> None:
    [start] = route(parse_event(_application(2020)), [], PACK)
    assert isinstance(start, StartCase) and start.case_id == kinds.job_retention_case_id("E", 2020) == "retention/E/2020"
    assert start.keys == ["enterprise/E"]
    # A second application while the case is open is rejected (the gateway reports it late once closed).
    open_case = OpenCase(case_id="retention/E/2020", kind=retention_routes.KIND, key="enterprise/E")
    [again] = route(parse_event(_application(2020)), [open_case], PACK)
    assert isinstance(again, Reject) and "already applied for 2020" in again.reason
    # Another year is another refund.
    [other] = route(parse_event(_application(2021)), [open_case], PACK)
    assert isinstance(other, StartCase) and other.case_id == "retention/E/2021"


def test_application_without_a_year_is_bad_input_and_other_programs_are_not_k7() -> None:
    [bad] = route(parse_event(_application(None)), [], PACK)
    assert isinstance(bad, Reject)
    assert retention_routes.application(parse_event(_application(2020, "hubei_graduate_grant")), [], PACK) == [
        Ignore("program hubei_graduate_grant is not job_retention")
    ]
