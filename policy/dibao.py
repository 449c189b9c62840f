"""K10 dibao_taper (低保渐退, §18) as pure functions.

§18 对实现就业的低保对象，可视其就业或创业的稳定情况，继续给予3至12个月的低保救助: a caseworker decides
the number of months (`dibao.taper_months_min`..`max`) within `dibao.decision_days` days of the
employment; without a decision it is `dibao.taper_default_months`. The 低保 amount is paid at
the start of each of those months, counting from the calendar month after the employment date.

What a taper owes (POLICY.md part 2) follows from the 低保 amount the person received when
employed and the months: a grant that restates that amount later, or a backdated change of the
default months the taper took, corrects the months already paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from contracts.parameters import Parameters
from policy.calendar import add_months, first_of_month, month_of
from policy.corrections import Owed
from policy.funds import Fund

PROGRAM = "dibao_taper"
DECISION_TASK = "taper_decision"
# The rules K10's timeline, tasks and ledger rows cite.
RULE_TAPER = "§18 对实现就业的低保对象…继续给予3至12个月的低保救助"
RULE_DECISION = "§18: a caseworker decides dibao.taper_months_min..max months"
RULE_DEFAULT = "POLICY.md K10: no decision within dibao.decision_days days → dibao.taper_default_months"
RULE_PAYMENT = "§18: the 低保 amount at the start of each taper month, from the month after the employment"
RULE_NOT_OWED = "POLICY.md K10: no taper month beyond the months of the taper"


def months_range(params: Parameters, on: date) -> tuple[int, int]:
    """The months a caseworker may decide (values in force on the employment date)."""
    return params.get("dibao.taper_months_min", on), params.get("dibao.taper_months_max", on)


def decided_months(decision: dict[str, Any], params: Parameters, employed_on: date) -> int:
    """The months of a caseworker's decision `{"months": n}`; ValueError (with the reason, for
    the supervisor's client) unless n is a whole number in `dibao.taper_months_min..max`."""
    low, high = months_range(params, employed_on)
    months = decision.get("months")
    if isinstance(months, bool) or not isinstance(months, int):
        raise ValueError(f"taper decision needs \"months\": a whole number of months {low}..{high}, got {months!r}")
    if not low <= months <= high:
        raise ValueError(f"taper months must be {low}..{high} (§18 继续给予3至12个月), got {months}")
    return months


def decision_deadline(employed_on: date, params: Parameters) -> date:
    """The day the default applies if no caseworker has decided: `dibao.decision_days` after
    the employment date."""
    return employed_on + timedelta(days=params.get("dibao.decision_days", employed_on))


def default_months(params: Parameters, employed_on: date) -> int:
    return params.integer("dibao.taper_default_months", employed_on)


def taper_month(employed_on: date, k: int) -> str:
    """The calendar month ("YYYY-MM") of taper month k (1-based): from the month after the
    employment date."""
    return month_of(add_months(employed_on.replace(day=1), k))


def payment_due(employed_on: date, k: int) -> date:
    """Taper month k is paid at its start."""
    return first_of_month(taper_month(employed_on, k))


def taper_end(employed_on: date, months: int) -> date:
    """The first day after the last taper month (the case completes then)."""
    return add_months(employed_on.replace(day=1), months + 1)


def receiving_on(from_month: str, on: date) -> bool:
    """A grant from `from_month` covers `on` (it has begun; an ending is judged separately)."""
    return first_of_month(from_month) <= on


def restates_amount(from_month: str, paid_from_month: str, employed_on: date) -> bool:
    """A grant from `from_month`, received after the employment, restates the 低保 the person
    received when employed (so the taper's amount) if it covers the employment date and is not
    older than the grant the taper pays (from `paid_from_month`); a grant from a later month is
    civil affairs' business after the taper began and leaves it alone."""
    return receiving_on(from_month, employed_on) and from_month >= paid_from_month


def taper_owed(*, payee: str, employed_on: date, months: int, amount: int, rule: str) -> list[Owed]:
    """What a taper of `months` months owes: `amount` for each taper month, due at its start."""
    return [
        Owed(program=PROGRAM, period=taper_month(employed_on, k), amount=amount, fund=str(Fund.DIBAO), payee=payee,
             due_on=payment_due(employed_on, k), rule=rule)
        for k in range(1, months + 1)
    ]
