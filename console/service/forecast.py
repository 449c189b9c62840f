"""The forecast view (POLICY.md part 2 §22): per city and fund of a year, month by month, spend so
far, the open cases' forecast and the budget, and the month the budget runs out — the same
figures `fund_shortfall` is judged on (activities/forecast_desk.py), within the principal's scope."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from activities.forecast_desk import fund_forecasts
from activities.pg_store import PgStore
from console.service.core import Console
from console.service.errors import BadRequest
from console.service.labels import FUNDS
from console.service.queries import _date, _int, _text, parse_city
from console.service.scope import city_filter
from console.service.tokens import Principal


async def forecast(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """`year` (default today's), optionally one `city` and one `fund`; `today` is the day spend
    stops and the forecast starts (default: today)."""
    unknown = set(params) - {"city", "fund", "year", "today"}
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    city = city_filter(p, parse_city(_text(params, "city")))
    fund = _text(params, "fund") or None
    if fund is not None and fund not in FUNDS:
        raise BadRequest(f"fund must be one of {', '.join(FUNDS)}, got {fund!r}")
    today = _date(params, "today") or date.today()
    year = _int(params, "year", today.year, 2000, 2100)
    rows = await fund_forecasts(PgStore(console.pool), year, today, city, fund)
    return {"year": year, "on": today.isoformat(), "city": city, "fund": fund, "funds": [r.as_json() for r in rows]}
