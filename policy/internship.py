"""K1 internship_subsidy (就业见习补贴, §14) as pure functions of dates and parameters.

The internship clock counts *served* days: days from the start date that are not inside a
pause. Month n is completed on the day the served days reach the length of calendar months
1..n (so a pause moves every later completion back by its length). An epidemic pause also
moves the end of the period back (§14 相应延长); a pause for another reason does not, so the
months it swallowed may never complete.

What the unit is owed on the facts known now (`owed_months`, POLICY.md part 2) is the schedule of
months that are completed, or can still complete, within the period and before the internship
stopped; a month an interruption still holds (no resumption known) is owed nothing until one is,
so a month paid before a late interruption was delivered is overpaid, and owed again once the
resumption is known (due on its new completion day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from contracts.parameters import Parameters
from policy.calendar import add_months, days_between

PROGRAM = "internship_subsidy"

RULE_MONTH = "§14: the unit is paid for each completed internship month"
RULE_NOT_COMPLETED = (
    "§14: only completed internship months are paid: on the facts known now this month is not completed "
    "within the period, or not before the internship ended or the intern was hired"
)


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
    return params.integer("internship.months_min", on) <= months <= params.integer("internship.months_max", on)


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


def provisional_pauses(pauses: list[Pause], today: date) -> list[Pause]:
    """The pauses with an open one taken as resumed on `today`, the earliest it can end: a month
    it holds completes no earlier than this says, so never by `today`."""
    return [p if p.end is not None else Pause(start=p.start, end=max(p.start, today), epidemic=p.epidemic) for p in pauses]


def month_begins(start: date, n: int, pauses: list[Pause]) -> date | None:
    """The first day of internship month n: the start, or the day month n - 1 is completed (the
    day whose parameters price it); None while an open pause hides it."""
    return start if n == 1 else completion_date(start, n - 1, pauses)


@dataclass(frozen=True)
class OwedMonth:
    """One month the unit is owed: its number, the day it falls due, the day it begins."""

    n: int
    due_on: date
    begins: date
    lump: bool = False  # one of the months paid at once on a hire with < 1/3 left


def owed_months(
    start: date, months: int, pauses: list[Pause], today: date, stopped_on: date | None = None, lump_on: date | None = None,
    *, held_owed_until_period_end: bool = False,
) -> list[OwedMonth]:
    """Every month the unit is owed on the facts known on `today`: completed (or still to complete)
    within the period end and on or before `stopped_on` (the day the internship ended early or the
    intern was hired), each due on its completion day.

    An open pause (an interruption whose resumption is not known) owes nothing from its start
    until a resumption is known (§14 pays completed months only; 相应延长 extends the period by
    the interruption, whose length is not known yet): a month it holds is not owed, so one paid
    before the interruption was delivered is overpaid at once, as it would never have been paid
    had the interruption come in order; the resumption owes it again, due on its completion.
    `held_owed_until_period_end` is the rule of cases opened before (patch
    k1-open-pause-owes-nothing): a held month stayed owed, due no earlier than if the pause ended
    today, until the period end. With `lump_on` (hired with < 1/3 left, `full_subsidy_on_hire`)
    the months up to P not completed by then are owed too, due that day (§14). Months after the
    first that cannot complete are left out."""
    assumed = provisional_pauses(pauses, today)
    end = period_end(start, months, assumed)
    assert end is not None  # no pause is open in `assumed`
    owed: list[OwedMonth] = []
    for n in range(1, months + 1):
        done = completion_date(start, n, assumed)
        assert done is not None
        held = completion_date(start, n, pauses) is None
        if held and not held_owed_until_period_end:
            owes = False
        else:
            owes = done <= end or (held and today < end)
        if owes and (stopped_on is None or done <= stopped_on):
            begins = month_begins(start, n, assumed)
            assert begins is not None
            owed.append(OwedMonth(n, done, begins))
        elif lump_on is not None:
            owed.append(OwedMonth(n, lump_on, month_begins(start, n, pauses) or lump_on, lump=True))
        else:
            break
    return owed
