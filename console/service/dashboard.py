"""Per-city counts by kind and status, payments by fund and month, open and overdue tasks, and
monitoring alerts — the numbers behind the console's charts."""

from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from console.service.core import Console, plain
from console.service.errors import BadRequest
from console.service.queries import WORTH_FEN, _date, _int, _text, parse_city
from console.service.scope import city_filter
from console.service.tokens import Principal


async def dashboard(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Counts and sums within the principal's scope (optionally one city, a due_on range)."""
    unknown = set(params) - {"city", "from", "to", "today"}
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    city = city_filter(p, parse_city(_text(params, "city")))
    low, high = _date(params, "from"), _date(params, "to")
    today = _date(params, "today") or date.today()
    counts = await console.pool.fetch(
        """SELECT city, kind, status, count(*) AS n FROM cases
            WHERE $1::text IS NULL OR city = $1 GROUP BY city, kind, status ORDER BY city, kind, status""",
        city,
    )
    payments = await console.pool.fetch(
        f"""SELECT fund, to_char(due_on, 'YYYY-MM') AS month, sum({WORTH_FEN})::bigint AS amount_fen, count(*) AS n
             FROM ledger
            WHERE ($1::text IS NULL OR city = $1) AND ($2::date IS NULL OR due_on >= $2) AND ($3::date IS NULL OR due_on <= $3)
            GROUP BY fund, month ORDER BY month, fund""",
        city, low, high,
    )
    tasks = await console.pool.fetch(
        """SELECT kind, count(*) AS open, count(*) FILTER (WHERE due_on < $2) AS overdue
             FROM tasks WHERE state = 'open' AND ($1::text IS NULL OR city = $1) GROUP BY kind ORDER BY kind""",
        city, today,
    )
    summary: dict[str, Any] = plain({
        "city": city,
        "cases": [dict(r) for r in counts],
        "payments": [dict(r) for r in payments],
        "open_tasks": [dict(r) for r in tasks],
    })
    return summary


async def list_alerts(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Monitoring and mass-unemployment alerts, newest first."""
    unknown = set(params) - {"city", "kind", "limit"}
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    city = city_filter(p, parse_city(_text(params, "city")))
    rows = await console.pool.fetch(
        """SELECT alert_id, kind, city, on_date, details, raised_at FROM alerts
            WHERE ($1::text IS NULL OR city = $1) AND ($2::text IS NULL OR kind = $2)
            ORDER BY on_date DESC NULLS LAST, raised_at DESC LIMIT $3""",
        city, _text(params, "kind"), _int(params, "limit", 100, 1, 1000),
    )
    return {"items": [plain(dict(r)) for r in rows]}
