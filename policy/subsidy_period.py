"""Subsidy periods that run for months or years (K4 flexible employment §13/§16, K5 welfare
posts §17): their length, the retirement rule, and the once-only 2020 extension.

POLICY.md conventions: month n of a period that starts on D is [D + (n-1) months, D + n months),
so a period of N months is the half-open range [D, D + N months). Two dates describe its end:

- `end`: the first day after the period (D + N months), the day the case acts on it;
- `last_day`: the last day inside the period (end - 1 day). "The period ends in the window"
  is judged on this day: a period [2017-01-01, 2020-01-01) is over by 31 Dec 2019 and so did
  not run out (期满) in 2020, whereas [2018-01-01, 2021-01-01) runs out on 31 Dec 2020. With
  month-aligned periods this makes the 2020 window catch exactly the periods whose last month
  is a month of 2020.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from contracts.parameters import Parameters
from policy import difficult
from policy.calendar import add_months
from policy.difficult import within_retirement_years


@dataclass(frozen=True)
class Period:
    """[start, end) of a subsidy, and how it came to end there."""

    start: date
    end: date
    # Whole months of a fixed period (None when it runs to retirement).
    months: int | None = None
    until_retirement: bool = False
    extended: bool = False

    @property
    def last_day(self) -> date:
        """The last day inside the period (the day "the period ends" is judged on)."""
        return self.end - timedelta(days=1)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "last_day": self.last_day.isoformat(),
            "months": self.months,
            "until_retirement": self.until_retirement,
            "extended": self.extended,
        }

    @staticmethod
    def from_dict(data: dict[str, object]) -> "Period":
        return Period(
            start=date.fromisoformat(str(data["start"])),
            end=date.fromisoformat(str(data["end"])),
            months=None if data.get("months") is None else int(str(data["months"])),
            until_retirement=bool(data["until_retirement"]),
            extended=bool(data["extended"]),
        )


def standard_period(start: date, months: int, retirement_date: date | None, params: Parameters) -> Period:
    """A period of `months` months, or until retirement for a person within
    `difficult.retirement_years` of it on the start date (the national rule POLICY.md cites:
    距法定退休年龄不足5年的，可延长至退休, which POLICY.md reads as "within 5 years", the §16
    rule `policy.difficult.within_retirement_years`). The until-retirement period may be shorter or longer
    than `months`; its end is the retirement date itself."""
    if retirement_date is not None and within_retirement_years(retirement_date, start, params):
        return Period(start=start, end=retirement_date, until_retirement=True)
    return Period(start=start, end=add_months(start, months), months=months)


def capped_period(start: date, months: int, retirement_date: date | None) -> Period:
    """A fixed period (a temporary post) that cannot outlast retirement."""
    end = add_months(start, months)
    if retirement_date is not None and retirement_date < end:
        return Period(start=start, end=retirement_date, until_retirement=True)
    return Period(start=start, end=end, months=months)


def ends_in_window(period: Period, params: Parameters, prefix: str) -> bool:
    """§13/§17 实施期限: the period's last day lies in [`<prefix>.extension_window_from`,
    `<prefix>.extension_window_until`] (both inclusive), values in force on that day."""
    last = period.last_day
    return params.day(f"{prefix}.extension_window_from", last) <= last <= params.day(f"{prefix}.extension_window_until", last)


def may_extend(period: Period, params: Parameters, prefix: str) -> bool:
    """§13/§17: once only, and not a period that ran to retirement (the person leaves the
    labour market then; there is nothing left to bridge to stable employment)."""
    return (
        not period.extended
        and not period.until_retirement
        and period.months is not None
        and ends_in_window(period, params, prefix)
    )


def extended(period: Period, params: Parameters, prefix: str) -> Period:
    """The period lengthened by `<prefix>.extension_months` (value in force on its last day).

    Months keep counting from the original start (month 37 of a 36-month period is
    [D + 36, D + 37)), so the new end is D + (N + extension) months, computed from D so that a
    start on the 29th-31st is not clamped twice.
    """
    if period.months is None:
        raise ValueError("a period that runs to retirement is not extended")
    months = period.months + params.get(f"{prefix}.extension_months", period.last_day)
    return replace(period, end=add_months(period.start, months), months=months, extended=True)


def completed_months(period: Period, on: date) -> int:
    """Months of the period completed on or before `on` (a month is completed at its end and
    must end inside the period: a part month cut off by retirement or an early end is not)."""
    limit = min(on, period.end)
    n = 0
    while add_months(period.start, n + 1) <= limit:
        n += 1
    return n


def is_stable_contract(term_months: int | None, signed_on: date, params: Parameters, prefix: str) -> bool:
    """A stable contract: open-ended (term null) or of at least `<prefix>.stable_contract_months`
    (12) months, 以上 including the number itself. Stable employment (稳定就业) ends a K4/K5
    period; §10 (K6, prefix `hiring`) and §2 (K15) subsidise only such a hire."""
    return term_months is None or term_months >= params.get(f"{prefix}.stable_contract_months", signed_on)


# -- who may have these subsidies (K12 is policy.difficult's; this only words the answer) ------
def k12_checked() -> str:
    """The §16 categories K12 checks, for the rule text of a rejection."""
    plain = [
        difficult.ZERO_EMPLOYMENT_HOUSEHOLD,
        difficult.DIBAO_HOUSEHOLD,
        difficult.WITHIN_RETIREMENT_YEARS,
        difficult.DISABLED,
        *difficult.STATED_CATEGORIES,
    ]
    treated = [difficult.TREATED_AS_PREFIX + g for g in difficult.TREATED_AS_GROUPS]
    return ", ".join(plain) + "; 参照: " + ", ".join(treated)
