"""Business dates: Asia/Shanghai days, calendar months, and the period arithmetic of POLICY.md.

Shanghai has kept UTC+08:00 without daylight saving since 1991, so a fixed offset is exact for
every date this system judges and needs no time-zone database inside the workflow sandbox.
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def business_date(moment: datetime) -> date:
    """The Shanghai calendar date of an aware instant."""
    return moment.astimezone(SHANGHAI).date()


def start_of_day(day: date) -> datetime:
    """The instant a Shanghai business day begins (deadlines fall due then)."""
    return datetime.combine(day, time(0), SHANGHAI)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the last day of a shorter month (Jan 31 + 1 → Feb 29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def first_of_month(month: str) -> date:
    year, mon = month.split("-")
    return date(int(year), int(mon), 1)


def days_between(start: date, end: date) -> int:
    return (end - start).days


def month_window(start: date, n: int) -> tuple[date, date]:
    """Month n (1-based) of a period starting on `start`: [start + (n-1) months, start + n months)."""
    return add_months(start, n - 1), add_months(start, n)


def within_years_of(later: date, day: date, years: int) -> bool:
    """`later - day <= years` in calendar years (POLICY.md: within k years of retirement)."""
    return later <= add_months(day, 12 * years)


def less_than_years_before(later: date, day: date, years: int) -> bool:
    """`later - day < years` in calendar years: the seed's 不足N年 (strictly less than N years)."""
    return later < add_months(day, 12 * years)


def quarter_of(day: date) -> str:
    """The calendar quarter of a day, as `YYYY-Qn` (the period of K13's and K18's payments)."""
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> date:
    """The first day of a `YYYY-Qn` quarter."""
    year, n = quarter.split("-Q")
    return date(int(year), 3 * (int(n) - 1) + 1, 1)


def quarter_end(quarter: str) -> date:
    """The first day after a `YYYY-Qn` quarter (a quarter is [start, end), like a month)."""
    return add_months(quarter_start(quarter), 3)


def month_end(month: str) -> date:
    """The last day of a `YYYY-MM` month."""
    return add_months(first_of_month(month), 1) - timedelta(days=1)
