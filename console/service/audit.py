"""The audit trail: every action, every read of one case (it shows personal data) and every
ledger export is a row of `audit` — who (sub, role, city), what, when, which case. Lists and
dashboards are not recorded: they are what a supervisor does all day and show aggregates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from console.service.tokens import Principal

if TYPE_CHECKING:
    from console.service.core import Console


async def write(db: asyncpg.Pool | asyncpg.Connection | asyncpg.pool.PoolConnectionProxy[asyncpg.Record], p: Principal, action: str, case_id: str | None = None,
                details: dict[str, Any] | None = None) -> None:
    """Append one audit row."""
    await db.execute(
        "INSERT INTO audit (actor, role, city, action, case_id, details) VALUES ($1, $2, $3, $4, $5, $6)",
        p.sub, p.role, p.city, action, case_id, details or {},
    )


async def of_case(pool: asyncpg.Pool, case_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT at, actor, role, action, details FROM audit WHERE case_id = $1 ORDER BY at, id", case_id
    )
    return [dict(r) for r in rows]


async def recent(pool: asyncpg.Pool, city: str | None, limit: int = 100) -> list[dict[str, Any]]:
    """The latest audit rows of a city's principals and cases (all for province-wide callers)."""
    rows = await pool.fetch(
        """SELECT a.id, a.at, a.actor, a.role, a.city, a.action, a.case_id, a.details
             FROM audit a LEFT JOIN cases c ON c.case_id = a.case_id
            WHERE $1::text IS NULL OR a.city = $1 OR c.city = $1
            ORDER BY a.at DESC, a.id DESC LIMIT $2""",
        city, limit,
    )
    return [dict(r) for r in rows]


async def list_audit(console: Console, p: Principal) -> dict[str, Any]:
    """The latest audit rows in the principal's scope, masked as the principal sees them."""
    from console.service.core import plain
    from console.service.scope import shown

    return {"items": shown(p, plain(await recent(console.pool, p.city)))}
