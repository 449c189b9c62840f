"""K17 temporary_living_allowance (临时生活补助, §18) as pure rules.

§18 对符合条件的生活困难下岗失业人员，发放临时生活补助: a registered unemployed person in living
difficulty (a 低保 household member or a zero-employment household member, as K12 judges them)
who is not receiving unemployment-insurance benefit gets `tla.monthly` at the start of each of
`tla.months` months from the application date, at most once per calendar year; re-employment
stops it from the next month.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from contracts.parameters import Parameters
from policy import difficult
from policy.corrections import Owed
from policy.funds import Fund
from policy.monthly_schedule import month_period, month_start, monthly_owed

PROGRAM = "temporary_living_allowance"
FUND = Fund.EMPLOYMENT_SUBSIDY
REJECTED = "rejected"

RULE_ALLOWANCE = "§18 临时生活补助: tla.monthly at the start of each of tla.months months from the application date"
RULE_STOPPED = "§18: re-employment stops the allowance from the month after it"
RULE_ELIGIBLE = "§18 对符合条件的生活困难下岗失业人员，发放临时生活补助"

# The K12 categories that are 生活困难 for this measure.
HARDSHIP_CATEGORIES: tuple[str, ...] = (difficult.DIBAO_HOUSEHOLD, difficult.ZERO_EMPLOYMENT_HOUSEHOLD)


def hardship(profile: difficult.PersonProfile, on: date, params: Parameters) -> list[str]:
    """The living-difficulty categories that hold for the person on `on` (K12's facts)."""
    held = difficult.difficult_categories(profile, on, params)
    return [c for c in HARDSHIP_CATEGORIES if c in held]


def ineligibility(profile: difficult.PersonProfile, on: date, receiving_ui: bool, params: Parameters) -> str | None:
    """Why the applicant is not eligible on the application date (None: eligible): registered
    unemployed, in living difficulty, and no open K2 case of theirs that pays (`receiving_ui`)."""
    reasons = []
    if profile.registered_on is None:
        reasons.append("not registered unemployed")
    if not hardship(profile, on, params):
        reasons.append("in no living difficulty (neither a 低保 nor a zero-employment household member)")
    if receiving_ui:
        reasons.append("receiving unemployment-insurance benefit")
    return "§18: " + "; ".join(reasons) if reasons else None


def once_a_year_refusal(applied_on: date, earlier: Iterable[tuple[date, str]]) -> str | None:
    """At most once per person per calendar year: the reason an application is refused when an
    earlier application of the same year (its date and its case's status) was not rejected; a
    rejected application granted nothing, so it does not use the year's allowance."""
    for day, status in earlier:
        if day.year == applied_on.year and status != REJECTED:
            return f"§18: an allowance was already granted on an application of {day} (at most once a year)"
    return None


@dataclass(frozen=True)
class AllowanceMonth:
    n: int
    starts_on: date  # paid on this day (at the start of the month)

    @property
    def period(self) -> str:
        return month_period(self.n)


def months(applied_on: date, params: Parameters) -> int:
    """`tla.months` in force on the application date (the length is fixed when the case opens)."""
    return int(params.get("tla.months", applied_on))


def schedule(applied_on: date, params: Parameters) -> list[AllowanceMonth]:
    """The `tla.months` months from the application date, each paid at its start."""
    return [AllowanceMonth(n, month_start(applied_on, n)) for n in range(1, months(applied_on, params) + 1)]


def months_due(applied_on: date, reemployed_on: date | None, params: Parameters) -> list[AllowanceMonth]:
    """The months that are paid: re-employment stops the allowance from the month after the one
    it falls in (a month that starts after the re-employment date is not paid)."""
    months = schedule(applied_on, params)
    if reemployed_on is None:
        return months
    return [m for m in months if m.starts_on <= reemployed_on]


def monthly_amount(month: AllowanceMonth, params: Parameters) -> int:
    """`tla.monthly` in force on the month's first day."""
    return int(params.get("tla.monthly", month.starts_on))


def owed(applied_on: date, reemployed_on: date | None, payee: str, params: Parameters) -> list[Owed]:
    """What the allowance owes on the facts known now, per allowance month (the monthly benefit
    schedule shared by the kinds that pay by month): a month that re-employment stops is not owed
    at all, so one already paid becomes an overpayment when the re-employment is learnt late."""
    return monthly_owed(
        program=PROGRAM,
        payee=payee,
        fund=str(FUND),
        first_day=applied_on,
        months=[m.n for m in months_due(applied_on, reemployed_on, params)],
        amount=lambda n, start: monthly_amount(AllowanceMonth(n, start), params),
        rule=lambda n, start: RULE_ALLOWANCE,
    )
