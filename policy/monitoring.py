"""Employment monitoring (§21, §23, §24), pure: what is counted under which key, the ISO week of
a business date, and the trailing-8-week surge rule.

Counts are kept per city, metric and day (`city|metric|day|YYYY-MM-DD`) and per ISO week, weeks
starting on Monday (`city|metric|week|YYYY-Www`), always on the date of the fact itself (a
registration reported a month late counts in the week it happened), never on processing time.

The surge rule (POLICY.md Monitoring, §24 加强预警): a city's week exceeds its trailing
`monitoring.trailing_weeks`-week mean × `monitoring.alert_factor` AND by at least
`monitoring.alert_min_persons` persons. A week is judged only with a full trailing history: the
city's first observed week is at least `monitoring.trailing_weeks` weeks earlier (a city that
just started reporting would otherwise "surge" against weeks that were merely unobserved).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction

from contracts.parameters import Parameters

UNEMPLOYMENT_REGISTRATIONS = "unemployment_registrations"
UI_CLAIMS = "ui_claims"
LAYOFFS_EXECUTED = "layoffs_executed"
ENTERPRISE_CLOSURES = "enterprise_closures"
METRICS = (UNEMPLOYMENT_REGISTRATIONS, UI_CLAIMS, LAYOFFS_EXECUTED, ENTERPRISE_CLOSURES)

SURGE_ALERT = "weekly_surge"
MASS_ALERT = "mass_unemployment"


def iso_week(day: date) -> str:
    """The ISO week (Monday start) of a business date, `YYYY-Www` (2021-01-01 is in 2020-W53)."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def week_monday(week: str) -> date:
    """The Monday that begins ISO week `YYYY-Www`."""
    year, _, number = week.partition("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def week_before(week: str, n: int) -> str:
    """The ISO week `n` weeks before `week` (negative: after)."""
    return iso_week(week_monday(week) - timedelta(weeks=n))


def weeks_between(earlier: str, later: str) -> int:
    """Whole weeks from `earlier` to `later` (positive when `later` is later)."""
    return (week_monday(later) - week_monday(earlier)).days // 7


def day_key(city: str, metric: str, day: date) -> str:
    return f"{city}|{metric}|day|{day.isoformat()}"


def week_key(city: str, metric: str, week: str) -> str:
    return f"{city}|{metric}|week|{week}"


def first_week_key(city: str) -> str:
    """The city's first observed week (for the full-history requirement)."""
    return f"{city}|first_week"


def weeks_key(city: str, metric: str) -> str:
    """The weeks observed for a city and metric (so a moved first week can re-judge them)."""
    return f"{city}|{metric}|weeks"


def trailing_weeks(week: str, params: Parameters) -> list[str]:
    """The `monitoring.trailing_weeks` weeks before `week`, oldest first."""
    n = int(params.get("monitoring.trailing_weeks", week_monday(week)))
    return [week_before(week, k) for k in range(n, 0, -1)]


def has_full_history(week: str, first_week: str | None, params: Parameters) -> bool:
    """Judge a week only if the city was observed at least `trailing_weeks` weeks before it."""
    if first_week is None:
        return False
    return weeks_between(first_week, week) >= int(params.get("monitoring.trailing_weeks", week_monday(week)))


def trailing_mean(counts: Sequence[int]) -> Fraction:
    """The mean of the trailing weeks' counts (a week with no observation counts 0), exact."""
    return Fraction(sum(counts), len(counts)) if counts else Fraction(0)


def is_surge(count: int, trailing: Sequence[int], week: str, params: Parameters) -> bool:
    """§24 预警: `count` exceeds the trailing mean × `monitoring.alert_factor` (strictly) AND is at
    least `monitoring.alert_min_persons` persons above the mean."""
    on = week_monday(week)
    mean = trailing_mean(trailing)
    factor = params.ratio("monitoring.alert_factor", on)
    return count > mean * factor and count - mean >= int(params.get("monitoring.alert_min_persons", on))


def surge_alert_id(city: str, metric: str, week: str) -> str:
    """One surge alert per city, metric and week."""
    return f"surge/{city}/{metric}/{week}"


def closure_alert_id(source: str, event_id: str) -> str:
    """§21 关停并转 → 应对规模性失业: one alert per closure report."""
    return f"{MASS_ALERT}/closure/{source}/{event_id}"
