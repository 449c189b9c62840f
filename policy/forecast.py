"""Funds, budgets and forecasts (POLICY.md part 2, §22): what an open case will pay if no new fact
arrives (its schedule), and when a fund's budget for a year runs out.

One home for both rules, pure and deterministic: `schedule` runs inside the workflows, derived
from the same `owed` a case pays by (`policy.corrections.reconcile` pays what it owes; the schedule
is what it owes and has not paid yet), so the forecast cannot drift from what the case then pays.
`run_out` is evaluated by the store's callers (activities/forecast_desk.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from policy.calendar import month_of
from policy.corrections import WORTH_SIGN, LedgerEntry, Owed

RULE_SHORTFALL = ("POLICY.md part 2 §22: spend so far plus the forecast for the rest of the year exceeds the budget "
                  "(对失业保险金发放出现缺口的地区…调剂)")
HORIZON = "forecast.horizon_months"
FUND_SHORTFALL = "fund_shortfall"


@dataclass(frozen=True)
class ScheduledPayment:
    """One (program, period) an open case will still pay, on the facts known now."""

    program: str
    period: str
    amount: int  # fen, > 0
    fund: str
    due_on: date

    @property
    def month(self) -> str:
        return month_of(self.due_on)


def schedule(owed: Iterable[Owed], ledger: Sequence[LedgerEntry], today: date) -> list[ScheduledPayment]:
    """What is owed and not yet in the ledger, per (program, period): the arrears and payments the
    case's reconciliation will write. A line already due (a held case waits for its release)
    falls due today at the earliest; what the ledger already holds in excess (an overpayment to
    recover) is not money the fund pays out, so it forecasts nothing."""
    worth: dict[tuple[str, str], int] = {}
    for row in ledger:
        worth[row.key] = worth.get(row.key, 0) + WORTH_SIGN[row.entry] * row.amount
    lines = []
    for o in owed:
        left = o.amount - worth.get(o.key, 0)
        if left > 0:
            lines.append(ScheduledPayment(o.program, o.period, left, o.fund, max(o.due_on, today)))
    return sorted(lines, key=lambda s: (s.due_on, s.program, s.period))


def months_of_year(year: int) -> list[str]:
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def run_out(budget: int, spend: Mapping[str, int], forecast: Mapping[str, int], year: int, today: date) -> str | None:
    """The month a budget runs out: the first month of `year` whose cumulative spend (months up to
    and including today's) plus forecast (from today's month on; what is instructed already is
    spend, not forecast) exceeds `budget`; None if the year ends within it. Months are `YYYY-MM`."""
    current = month_of(today)
    total = 0
    for month in months_of_year(year):
        total += spend.get(month, 0) if month <= current else 0
        total += forecast.get(month, 0) if month >= current else 0
        if total > budget:
            return month
    return None


def shortfall_alert_id(city: str, fund: str, year: int, month: str) -> str:
    """Once per city, fund, year and run-out month: a month that moves raises it again."""
    return f"{FUND_SHORTFALL}:{city}:{fund}:{year}:{month}"
