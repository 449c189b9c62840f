"""The supervisor's view of cases: one service layer that the CLI (and later the HTTP API) call.

Lists come from the PostgreSQL read model (indexed, cheap at any size); one case's live state
comes from its workflow's `state` query, and its money from the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode


class CaseNotFound(LookupError):
    pass


@dataclass(frozen=True)
class CaseFilter:
    kind: str | None = None
    city: str | None = None
    status: str | None = None
    limit: int = 50
    offset: int = 0


async def list_cases(pool: asyncpg.Pool, f: CaseFilter) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """
        SELECT case_id, kind, subject, city, status, opened_on, closed_on, next_deadline
          FROM cases
         WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR city = $2)
           AND ($3::text IS NULL OR status = $3)
         ORDER BY opened_on DESC NULLS LAST, case_id
         LIMIT $4 OFFSET $5
        """,
        f.kind, f.city, f.status, f.limit, f.offset,
    )
    return [_plain(dict(r)) for r in rows]


async def show_case(pool: asyncpg.Pool, client: Client | None, case_id: str) -> dict[str, Any]:
    """The read-model row, the live workflow state (if Temporal answers) and the ledger rows."""
    row = await pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    if row is None:
        raise CaseNotFound(case_id)
    payments = await pool.fetch(
        """SELECT program, period, payee, amount_fen AS amount, fund, due_on, rule
             FROM ledger WHERE case_id = $1 ORDER BY due_on, period""",
        case_id,
    )
    live: dict[str, Any] | None = None
    unavailable: str | None = None
    if client is not None:
        try:
            view = await client.get_workflow_handle(case_id).query("state")
            live = view if isinstance(view, dict) else dict(view)
        except RPCError as exc:
            # A query needs a worker: with none running (or the history gone) the read model
            # and the ledger still answer, and the reason is shown instead of a traceback.
            unavailable = (
                "the case's history is no longer on the Temporal server"
                if exc.status == RPCStatusCode.NOT_FOUND
                else f"Temporal could not answer the state query: {exc.message} (is `jiuye worker` running?)"
            )
    return {
        "case": _plain(dict(row)),
        "state": _plain(live) if live else None,
        "state_unavailable": unavailable,
        "payments": [_plain(dict(p)) for p in payments],
        "paid_fen": sum(p["amount"] for p in payments),
    }


def _plain(value: Any) -> Any:
    """JSON-friendly copy (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
