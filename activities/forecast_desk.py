"""Forecasts and budgets (POLICY.md part 2 §22) as the store holds them: the forecast of a city,
fund and month (the sum of the open cases' schedules), spend so far, the budget, and the
`fund_shortfall` alert naming the month the budget runs out (`policy.forecast.run_out`).

Where the alert is evaluated, and why there: a shortfall appears when the budget is set (or
replaced) or when what the cases will pay changes, and a case's schedule changes exactly when it
writes it. So it is judged after `fund.budget_set` is stored (streams/intake.py) and after each
schedule write of a city and fund that has a budget (activities/case_activities.py
`record_schedule`). Money moving from forecast to spend as it is instructed changes neither sum,
so no periodic sweep is needed; a returned payment lowers spend and can only end a shortfall.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from activities.store import BudgetRow, Store, alert_event
from contracts.cases import AlertRecord
from policy import forecast
from policy.calendar import month_of


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM
    spend: int  # fen instructed and not returned in the month (months up to today's)
    forecast: int  # fen the open cases' schedules will pay in the month (today's month on)


@dataclass(frozen=True)
class FundForecast:
    """One city and fund for a year, as of `today`."""

    city: str
    fund: str
    year: int
    today: date
    budget: int | None  # fen; None: no `fund.budget_set` for it
    months: list[MonthFigures] = field(default_factory=list)

    @property
    def spend(self) -> int:
        return sum(m.spend for m in self.months)

    @property
    def forecast(self) -> int:
        return sum(m.forecast for m in self.months)

    @property
    def runs_out(self) -> str | None:
        """The month the budget runs out (None: it lasts the year, or there is no budget)."""
        if self.budget is None:
            return None
        return forecast.run_out(self.budget, {m.month: m.spend for m in self.months},
                                {m.month: m.forecast for m in self.months}, self.year, self.today)

    def as_json(self) -> dict[str, object]:
        return {
            "city": self.city, "fund": self.fund, "year": self.year, "on": self.today.isoformat(),
            "budget": self.budget, "spend": self.spend, "forecast": self.forecast,
            "spend_and_forecast": self.spend + self.forecast, "runs_out": self.runs_out,
            "months": [{"month": m.month, "spend": m.spend, "forecast": m.forecast} for m in self.months],
        }


async def fund_forecasts(store: Store, year: int, today: date, city: str | None = None, fund: str | None = None) -> list[FundForecast]:
    """Every (city, fund) with a budget, spend or a forecast in `year`, month by month. The
    forecast counts schedule lines from `today` on: what fell due before is paid (spend) or not."""
    since = max(today, date(year, 1, 1))
    spend = await store.spend_by_month(city, fund, year)
    scheduled = await store.scheduled_by_month(city, fund, year, since) if today.year <= year else []
    budgets = {(b.city, b.fund): b for b in await store.budgets(city, fund, year)}
    current = month_of(today)
    keys = sorted({(r.city, r.fund) for r in spend} | {(r.city, r.fund) for r in scheduled} | set(budgets))
    result = []
    for c, f in keys:
        s = {r.month: r.amount for r in spend if (r.city, r.fund) == (c, f)}
        p = {r.month: r.amount for r in scheduled if (r.city, r.fund) == (c, f)}
        months = [MonthFigures(m, s.get(m, 0) if m <= current else 0, p.get(m, 0) if m >= current else 0)
                  for m in forecast.months_of_year(year)]
        budget = budgets.get((c, f))
        result.append(FundForecast(c, f, year, today, budget.amount if budget else None, months))
    return result


async def check_shortfall(store: Store, city: str, fund: str, year: int, today: date) -> AlertRecord | None:
    """Raise `fund_shortfall` if the budget of (city, fund, year) runs out within the year: once
    per run-out month (the store keeps one alert per id), again if the month moves. Returns the
    alert when one was raised now."""
    found = await fund_forecasts(store, year, today, city, fund)
    if not found or found[0].budget is None:
        return None
    figures = found[0]
    month = figures.runs_out
    if month is None:
        return None
    alert = AlertRecord(
        alert_id=forecast.shortfall_alert_id(city, fund, year, month), kind=forecast.FUND_SHORTFALL, city=city,
        on_date=today,
        details={"fund": fund, "year": year, "runs_out": month, "budget": figures.budget, "spend": figures.spend,
                 "forecast": figures.forecast, "rule": forecast.RULE_SHORTFALL},
    )
    return alert if await store.raise_alert(alert, alert_event(alert)) else None


async def check_budgeted(store: Store, city: str | None, funds: set[str], today: date) -> list[AlertRecord]:
    """After a schedule write of `city`: judge each of `funds` that has a budget this year."""
    if city is None or not funds:
        return []
    raised = []
    for budget in await store.budgets(city, None, today.year):
        if budget.fund in funds:
            alert = await check_shortfall(store, city, budget.fund, budget.year, today)
            if alert is not None:
                raised.append(alert)
    return raised


__all__ = ["BudgetRow", "FundForecast", "MonthFigures", "check_budgeted", "check_shortfall", "fund_forecasts"]
