"""K4 flexible_employment_subsidy (灵活就业社会保险补贴, §13, §16) as pure functions.

The period starts on the first day of the application's month and is made of calendar
months; each period month in which the person's own flexible-employment contribution was paid
earns `flexible.ratio` of what was paid, once per month (a later report for a month replaces
the earlier one: `policy.contribution_schedule`). Who may apply (K12) is
`policy.difficult`'s business; the period arithmetic shared with K5 is `policy.subsidy_period`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from contracts.events import ContributionPaid
from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, month_of
from policy.contribution_schedule import Report, contribution_owed
from policy.corrections import Owed
from policy.funds import Fund
from policy.subsidy_period import Period, standard_period

PROGRAM = "flexible_employment_si"
PARAMETER_PREFIX = "flexible"


def period_start(application_on: date) -> date:
    """POLICY.md K4: the period starts on the first day of the application's month."""
    return application_on.replace(day=1)


def initial_period(application_on: date, retirement_date: date | None, params: Parameters) -> Period:
    """`flexible.months` from the first of the application's month, or until retirement when
    the person is within `difficult.retirement_years` of it on that day (national rule)."""
    start = period_start(application_on)
    return standard_period(start, params.get("flexible.months", start), retirement_date, params)


def is_own_contribution(contribution: ContributionPaid) -> bool:
    """EVENTS.md: a contribution without an employer is a flexible-employment contribution."""
    return contribution.employer_id is None


def amount_paid(contribution: ContributionPaid) -> int:
    """What the person actually paid for the month, in fen.

    A flexible worker has no employer: the "employer" (pooled) share and the "employee"
    (personal-account) share are both paid out of the person's own pocket, and the national
    rule the default follows (就业补助资金管理办法: 不超过其实际缴费的2/3) subsidises the
    contribution actually paid, i.e. both shares together.
    """
    return contribution.employer_amount + contribution.employee_amount


def subsidy(amount_fen: int, month: str, params: Parameters) -> int:
    """`flexible.ratio` (in force on the first day of the month paid for) × the amount paid,
    rounded down to the fen."""
    ratio = params.ratio("flexible.ratio", first_of_month(month))
    return amount_fen * ratio.numerator // ratio.denominator


def month_in_period(month: str, period: Period) -> bool:
    """Whether calendar month `month` ("YYYY-MM") is a month of the period. A month cut by the
    retirement date counts (the person was still of working age in it)."""
    first = first_of_month(month)
    return period.start <= first < period.end


def period_months(period: Period) -> list[str]:
    """Every calendar month of the period, in order ("YYYY-MM")."""
    months: list[str] = []
    while (first := add_months(period.start, len(months))) < period.end:
        months.append(month_of(first))
    return months


def month_before_employment(month: str, employed_from: date | None) -> bool:
    """A month that began before stable employment started is still a flexible-employment
    month (the subsidy stops with stable employment, not retroactively)."""
    return employed_from is None or first_of_month(month) < employed_from


RULE_NOT_OWED_AFTER_EMPLOYMENT = "§13: no subsidy for a month that began on or after stable employment started"


def subsidy_rule(amount_fen: int, month: str, params: Parameters) -> str:
    """The rule of one month's subsidy, in words (the ledger row shows it)."""
    ratio = params.ratio("flexible.ratio", first_of_month(month))
    return f"§13/§16: {ratio.numerator}/{ratio.denominator} of the {amount_fen} fen contributed for {month}"


def owed_by_month(
    *, payee: str, period: Period, reports: Mapping[str, Report], employed_from: date | None, applied_on: date,
    params: Parameters,
) -> list[Owed]:
    """What a K4 case owes for each period month with a contribution known: `flexible.ratio` in
    force on the month's first day × what was paid, for the months that began before stable
    employment; due once paid, once the month has begun, and never before the application."""
    return contribution_owed(
        program=PROGRAM, payee=payee, fund=str(Fund.EMPLOYMENT_SUBSIDY), months=period_months(period), reports=reports,
        stops_on=employed_from, not_before=applied_on,
        amount=lambda month, r: subsidy(r.amount, month, params),
        rule=lambda month, r: subsidy_rule(r.amount, month, params),
        stopped_rule=RULE_NOT_OWED_AFTER_EMPLOYMENT,
    )
