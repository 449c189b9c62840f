"""K1 internship_subsidy (就业见习补贴, §14) as pure functions of dates and parameters.

The internship clock counts *served* days: days from the start date that are not inside a
pause. Month n is completed on the day the served days reach the length of calendar months
1..n (so a pause moves every later completion back by its length). An epidemic pause also
moves the end of the period back (§14 相应延长); a pause for another reason does not, so the
months it swallowed may never complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from policy.calendar import add_months, days_between
from policy.pack import Parameters

PROGRAM = "internship_subsidy"


@dataclass(frozen=True)
class Pause:
    """Days [start, end) in which the intern did not serve; `end` is None while it lasts."""

    start: date
    end: date | None
    epidemic: bool

    def days_before(self, day: date) -> int:
        """Paused days that lie before `day`."""
        stop = day if self.end is None else min(self.end, day)
        return max(0, days_between(self.start, stop))


def cohort_eligible(cohort: int, params: Parameters, on: date) -> bool:
    """§14: the 2020 and 2021 graduating cohorts are covered (internship.cohorts)."""
    return cohort in params.get("internship.cohorts", on)


def agreed_months_valid(months: int, params: Parameters, on: date) -> bool:
    """POLICY.md K1: agreed months outside internship.months_min..max is bad input."""
    return params.get("internship.months_min", on) <= months <= params.get("internship.months_max", on)


def period_days(start: date, months: int) -> int:
    """D: days from the start date to the same day `months` later."""
    return days_between(start, add_months(start, months))


def paused_days(pauses: list[Pause], before: date, epidemic_only: bool = False) -> int:
    return sum(p.days_before(before) for p in pauses if p.epidemic or not epidemic_only)


def served_days(start: date, until: date, pauses: list[Pause]) -> int:
    """S: days served in [start, until), paused days excluded."""
    if until <= start:
        return 0
    return days_between(start, until) - paused_days(pauses, until)


def period_end(start: date, months: int, pauses: list[Pause]) -> date | None:
    """The day the period ends: start + months, moved back by epidemic pauses.

    None while an epidemic pause is still open (its length, and so the end, is not known yet).
    """
    if any(p.epidemic and p.end is None for p in pauses):
        return None
    epidemic = sum(days_between(p.start, p.end) for p in pauses if p.epidemic and p.end is not None)
    return add_months(start, months) + timedelta(days=epidemic)


def completion_date(start: date, n: int, pauses: list[Pause]) -> date | None:
    """The day month n is completed, or None if an open pause stops the clock before then.

    Walks the pauses in order: every paused day before the completion pushes it one day later.
    """
    needed = period_days(start, n)
    day = start + timedelta(days=needed)
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.start >= day:
            break
        if pause.end is None:
            return None
        day += timedelta(days=days_between(max(pause.start, start), pause.end))
    return day


def completed_months(start: date, months: int, pauses: list[Pause], on: date) -> int:
    """Months completed on or before `on`, never past the agreed months or the period end."""
    end = period_end(start, months, pauses)
    done = 0
    for n in range(1, months + 1):
        finished = completion_date(start, n, pauses)
        if finished is None or finished > on or (end is not None and finished > end):
            break
        done = n
    return done


def full_subsidy_on_hire(start: date, months: int, pauses: list[Pause], contract_on: date, params: Parameters) -> bool:
    """§14: hired with less than a third of the agreed period left → the unit gets every month.

    D − S < D/3, judged in integers as 3·(D − S) < D, and only for a contract signed on or
    before internship.full_subsidy_until.
    """
    if contract_on > params.day("internship.full_subsidy_until", contract_on):
        return False
    total = period_days(start, months)
    remaining = total - served_days(start, contract_on, pauses)
    return 3 * remaining < total
