"""K7 job_retention_refund (稳岗返还, §1) as pure functions.

An insured enterprise that kept its layoff rate within the limit gets back, once per year, the
larger of what applies to it: for an affected industry `retention.affected_benefit_months` ×
`ui.monthly_benefit` × its insured headcount (§1 返还标准可按不超过6个月的当地月人均失业保险金和
参保职工人数确定), and a share of the unemployment-insurance premiums it and its staff paid the
year before (§1 中小微企业…最高可提至…上年度缴纳失业保险费的100%; others the national 50%).
Parameters are those in force on the application date. The enterprise's figures come from
`policy.enterprise_profile`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from contracts.cases import Fact
from contracts.parameters import Parameters
from policy import enterprise_profile
from policy.calendar import business_date, start_of_day
from policy.corrections import Owed

PROGRAM = "job_retention"
PERIOD = "once"  # EVENTS.md period forms; the case id carries the year (one refund per year)


def parse_year(details: dict[str, object]) -> int:
    """The year applied for (`details.year`, an integer); ValueError if missing or wrong."""
    year = details.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        raise ValueError(f"details.year must be a year as an integer, got {year!r}")
    return year


def within_window(applied_on: date, params: Parameters) -> bool:
    """§1 实施期限…延长至2020年12月31日: the application is made on or before `retention.until`."""
    return applied_on <= params.day("retention.until", applied_on)


def is_affected_industry(industry: str, params: Parameters, on: date) -> bool:
    """§1 受疫情影响较大的…行业 (`retention.affected_industries`)."""
    return industry in params.get("retention.affected_industries", on)


def layoff_rate(layoffs: int, average_headcount: Fraction) -> Fraction | None:
    """Layoffs ÷ average insured headcount, exact; None when there were layoffs but no average
    headcount to divide by (the rate is unbounded), 0 when there were no layoffs."""
    if layoffs == 0:
        return Fraction(0)
    if average_headcount <= 0:
        return None
    return Fraction(layoffs) / average_headcount


def layoff_rate_max(headcount: int, params: Parameters, on: date) -> Fraction:
    """`retention.layoff_rate_max`, or `retention.small_enterprise_layoff_rate_max` for an
    enterprise insuring at most `retention.small_enterprise_headcount` persons (national 2020:
    参保职工30人及以下的企业, 裁员率不超过20%)."""
    if headcount <= params.get("retention.small_enterprise_headcount", on):
        return params.ratio("retention.small_enterprise_layoff_rate_max", on)
    return params.ratio("retention.layoff_rate_max", on)


def affected_amount(headcount: int, params: Parameters, on: date) -> int:
    """§1: `retention.affected_benefit_months` × `ui.monthly_benefit` × insured headcount."""
    return params.integer("retention.affected_benefit_months", on) * params.integer("ui.monthly_benefit", on) * headcount


def contribution_ratio(size: str, params: Parameters, on: date) -> Fraction:
    """`retention.sme_ratio` for micro, small and medium enterprises, else `retention.large_ratio`."""
    return params.ratio("retention.sme_ratio" if size in enterprise_profile.SME_SIZES else "retention.large_ratio", on)


def contribution_amount(size: str, prior_year_ui: int, params: Parameters, on: date) -> int:
    """The ratio of prior-year UI premiums, rounded down to the fen."""
    ratio = contribution_ratio(size, params, on)
    return prior_year_ui * ratio.numerator // ratio.denominator


def _pct(rate: Fraction) -> str:
    value = float(rate * 100)
    return f"{value:.4g}%"


@dataclass(frozen=True)
class Assessment:
    """The decision on one application, with every figure it rests on (for the rule text)."""

    eligible: bool
    amount: int
    reason: str
    formula: str | None = None  # "affected_industry" or "contributions"
    figures: dict[str, object] = field(default_factory=dict)
    # Rejected for want of a fact that may still come (POLICY.md part 2 "late facts across
    # topics"): no registration, nobody insured, no prior-year premiums on file. A rejection on the
    # facts present (out of the window, a year not begun, a layoff rate over the limit) is final.
    without_fact: bool = False


def assess(enterprise_id: str, year: int, applied_on: date, facts: Iterable[Fact], params: Parameters) -> Assessment:
    """Judge an application for `year` made on `applied_on` on the enterprise's stored facts."""
    facts = list(facts)
    on = applied_on
    until = params.day("retention.until", on)
    if not within_window(on, params):
        return Assessment(False, 0, f"§1: applied on {on}, after retention.until {until}")
    if year > on.year:
        return Assessment(False, 0, f"§1: applied on {on} for {year}, a year that has not begun")
    reg = enterprise_profile.registration(enterprise_id, facts, on)
    if reg is None:
        return Assessment(False, 0, f"§1: enterprise {enterprise_id} is not registered (no enterprise.registered by {on})",
                          without_fact=True)
    headcount = enterprise_profile.insured_headcount(enterprise_id, facts, on)
    figures: dict[str, object] = {
        "city": reg.city,
        "industry": reg.industry,
        "size": reg.size,
        "insured_headcount": headcount,
    }
    if headcount <= 0:
        return Assessment(False, 0, f"§1 参保企业: {enterprise_id} insures nobody on {on}", figures=figures, without_fact=True)
    layoffs = enterprise_profile.layoffs_in_year(enterprise_id, facts, year, on)
    average = enterprise_profile.average_headcount(enterprise_id, facts, year, on)
    rate = layoff_rate(layoffs, average)
    limit = layoff_rate_max(headcount, params, on)
    small = headcount <= params.get("retention.small_enterprise_headcount", on)
    figures.update(
        layoffs=layoffs,
        average_headcount=str(average),
        layoff_rate=None if rate is None else str(rate),
        layoff_rate_max=str(limit),
    )
    rate_text = (
        f"layoff rate {layoffs}/{average} = {'unbounded' if rate is None else _pct(rate)} "
        f"(limit {_pct(limit)}{' for ≤ ' + str(params.get('retention.small_enterprise_headcount', on)) + ' insured' if small else ''})"
    )
    if rate is None or rate > limit:
        return Assessment(False, 0, f"§1 不裁员或少裁员: {rate_text} is over the limit", figures=figures)

    prior_ui = enterprise_profile.prior_year_ui_contributions(enterprise_id, facts, year, params)
    ratio = contribution_ratio(reg.size, params, on)
    by_contributions = contribution_amount(reg.size, prior_ui, params, on)
    candidates = [("contributions", by_contributions)]
    parts = [f"{reg.size}: {ratio.numerator}/{ratio.denominator} × {prior_ui} fen prior-year UI premiums = {by_contributions}"]
    if is_affected_industry(reg.industry, params, on):
        by_industry = affected_amount(headcount, params, on)
        candidates.append(("affected_industry", by_industry))
        parts.append(
            f"{reg.industry} (affected industry): {params.get('retention.affected_benefit_months', on)} × "
            f"{params.get('ui.monthly_benefit', on)} × {headcount} insured = {by_industry}"
        )
    # Where two apply, the larger (a tie goes to the industry formula, §1's first measure).
    formula, amount = max(reversed(candidates), key=lambda c: c[1])
    figures.update(prior_year_ui=prior_ui, candidates=dict(candidates))
    text = f"§1: {rate_text}; " + "; ".join(parts)
    if amount <= 0:
        return Assessment(False, 0, f"{text}: nothing to refund", formula=formula, figures=figures, without_fact=True)
    if len(candidates) > 1:
        text += f"; the larger applies ({formula})"
    return Assessment(True, amount, text, formula=formula, figures=figures)


def bears_on(fact: Fact, year: int, applied_on: date) -> bool:
    """Whether a fact that arrived after the application can change its assessment: an
    enrolment or separation dated on or before the application date, or a UI contribution for a
    month of the prior year. A registration reported later never counts (`enterprise_profile.registration`), nor
    does anything dated after the application."""
    if fact.type == enterprise_profile.CONTRIBUTION:
        return str(fact.payload.get("month", "")).startswith(f"{year - 1}-") and "unemployment" in (fact.payload.get("insurances") or ())
    if fact.type in (enterprise_profile.ENROLLED, enterprise_profile.LEFT):
        return fact.on_date is not None and fact.on_date <= applied_on
    return False


def taken_as_first(fact: Fact, applied_on: date) -> Fact:
    """A fact that reaches an application rejected for want of it, judged as if it had come
    first (POLICY.md part 2): a registration, dated by the day it was reported, counts as reported
    on the application date; the other facts carry their own dates and keep them."""
    if fact.type == enterprise_profile.REGISTERED and business_date(fact.event_time) > applied_on:
        return fact.model_copy(update={"event_time": start_of_day(applied_on)})
    return fact


def judged_again_on(fact: Fact, enterprise_id: str, year: int, applied_on: date) -> bool:
    """Whether a late fact can change the decision on a rejected application: the enterprise's
    registration, or a fact that bears on the assessment (`bears_on`)."""
    if fact.type == enterprise_profile.REGISTERED:
        return fact.payload.get("enterprise_id") == enterprise_id
    return bears_on(fact, year, applied_on)


def owed(assessment: Assessment, applied_on: date, payee: str, fund: str) -> list[Owed]:
    """The refund an assessment on the facts known now gives, due on the application date; nothing
    when they make the enterprise ineligible (a late layoff or headcount report, or a backdated
    ratio, thus becomes a correction of the one period)."""
    if not assessment.eligible:
        return []
    return [Owed(PROGRAM, PERIOD, assessment.amount, fund, payee, applied_on, assessment.reason)]
