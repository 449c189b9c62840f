"""The console's disbursement views and the decisions on the desk's tasks (POLICY.md part 2).

Views, each a list of rows in the principal's scope (a city supervisor sees their city only),
with the columns a CSV export writes (`as_csv`):
- `batches`: the treasury's daily files per city, fund and day (count, total, closed?);
- `returned`: keys the treasury returned (attempts, reason, last instruction, the next step);
- `awaiting`: keys waiting for the payee's account (since, days waiting);
- `reconciliation`: per day, city and fund, what was instructed and where it stands (settled,
  returned, in flight), with totals;
- `funds`: per fund and month, what the ledger paid against what the treasury settled.
Accounts are shown by their last 4 characters only; payees as the role may see them.

`decide_desk_task` is where `tasks.decide_task` sends a decision on a task the desk raised: the
desk carries it out (activities/disbursement_tasks.py), not a case workflow.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any, Mapping

import asyncpg

from activities.account_vault import mask_last4
from activities.disbursement_runner import business_clock
from activities.store import TaskNotOpen
from console.service import audit
from console.service.core import Console, plain
from console.service.errors import BadRequest, Conflict
from console.service.queries import WORTH_FEN, _date, _int, _text, parse_city
from console.service.scope import city_filter, person_ids_in, shown
from console.service.tokens import Principal
from contracts.cases import TaskRecord
from policy import disbursement as rules
from policy import disbursement_decisions as decisions
from policy.pack import PolicyPack, load_pack

COLUMNS: dict[str, tuple[str, ...]] = {
    "batches": ("batch_id", "city", "fund", "on_date", "count", "total_fen", "closed"),
    "returned": ("ledger_key", "case_id", "payee", "city", "fund", "amount_fen", "attempts", "reason", "since",
                 "last_instruction", "account", "next_step"),
    "awaiting": ("ledger_key", "case_id", "payee", "city", "fund", "amount_fen", "since", "days_waiting", "task"),
    "reconciliation": ("day", "city", "fund", "instructed", "instructed_fen", "settled", "settled_fen", "returned",
                       "returned_fen", "in_flight", "in_flight_fen", "resent"),
    "funds": ("month", "fund", "paid_fen", "settled_fen", "paid", "settled"),
}
_RANGE = {"city", "from", "to", "limit"}


def _pack(console: Console) -> PolicyPack:
    return load_pack(console.settings.policy_pack)


def _today(console: Console, params: Mapping[str, Any]) -> date:
    return _date(params, "today") or business_clock(console.settings)()


def _check(params: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(params) - allowed
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")


async def batches(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """The daily batches, newest day first, optionally of a day range and open ones only."""
    _check(params, _RANGE | {"open"})
    city = city_filter(p, parse_city(_text(params, "city")))
    only_open = str(params.get("open", "")).lower() in ("true", "1", "yes")
    low, high, limit = _date(params, "from"), _date(params, "to"), _int(params, "limit", 200, 1, 10_000)
    rows = await console.pool.fetch(
        """SELECT batch_id, city, fund, on_date, count, total_fen, closed_at IS NOT NULL AS closed FROM payment_batches
            WHERE ($1::text IS NULL OR city = $1) AND ($2::date IS NULL OR on_date >= $2)
              AND ($3::date IS NULL OR on_date <= $3) AND (NOT $4 OR closed_at IS NULL)
            ORDER BY on_date DESC, city NULLS FIRST, fund LIMIT $5""",
        city, low, high, only_open, limit,
    )
    return {"city": city, "items": [plain(dict(r)) for r in rows]}


async def returned(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Keys returned by the treasury and not yet instructed again, with what happens next."""
    _check(params, {"city", "limit", "today"})
    city = city_filter(p, parse_city(_text(params, "city")))
    today, limit = _today(console, params), _int(params, "limit", 200, 1, 10_000)
    rows = await console.pool.fetch(
        """SELECT d.ledger_key, d.case_id, d.payee, d.city, d.fund, d.amount_fen, d.attempt AS attempts, d.reason,
                  d.since, d.instruction_id AS last_instruction, a.last4, d.raised,
                  (SELECT count(*) FROM payee_accounts n WHERE n.payee = d.payee) AS versions, d.account_ref
             FROM disbursements d
             LEFT JOIN payee_accounts a ON a.payee = d.payee AND d.payee || '#' || a.version = d.account_ref
            WHERE d.status = 'returned' AND ($1::text IS NULL OR d.city = $1)
            ORDER BY d.since, d.ledger_key LIMIT $2""",
        city, limit,
    )
    pack = _pack(console)
    items = []
    for r in rows:
        item = plain({k: r[k] for k in COLUMNS["returned"] if k in r.keys() and k != "account"})
        item["account"] = mask_last4(r["last4"]) if r["last4"] else None
        item["next"] = _next_step(r, rules.Limits.of(pack.parameters(r["city"]), today))
        item["next_step"] = NEXT_STEP_EN[item["next"]["step"]].format(**item["next"])
        items.append(item)
    return {"city": city, "today": today.isoformat(),
            "items": shown(p, items, person_ids_in(*(i["payee"] for i in items)))}


# The next step of a returned key in words, for the CSV and the command line (the console names
# them in its own languages from `next`: disbursement.js, "disb.next.*").
NEXT_STEP_EN: dict[str, str] = {
    "decision": "supervisor decision (task {task})",
    "retry": "instructed again on {on}",
    "account": "instructed again when the payee's account changes (payee.account_updated)",
}


def _next_step(r: asyncpg.Record, limits: rules.Limits) -> dict[str, str]:
    """What moves a returned key on (policy/disbursement.py `returned`, `tick`, `account_changed`):
    `step` (a key of NEXT_STEP_EN) with the task or the date it names."""
    task = rules.task_id("payment_returned", r["ledger_key"], r["attempts"])
    if task in r["raised"] or r["attempts"] >= limits.max_attempts:
        return {"step": "decision", "task": task}
    if r["reason"] == "other":
        return {"step": "retry", "on": (r["since"] + timedelta(days=limits.retry_days)).isoformat()}
    return {"step": "account"}


async def awaiting(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Keys waiting for the payee's account, longest waiting first."""
    _check(params, {"city", "limit", "today"})
    city = city_filter(p, parse_city(_text(params, "city")))
    today, limit = _today(console, params), _int(params, "limit", 200, 1, 10_000)
    rows = await console.pool.fetch(
        """SELECT d.ledger_key, d.case_id, d.payee, d.city, d.fund, d.amount_fen, d.since,
                  (SELECT t.task_id FROM tasks t WHERE t.task_id = ANY (d.raised) AND t.kind = 'awaiting_account'
                    ORDER BY t.task_id LIMIT 1) AS task
             FROM disbursements d
            WHERE d.status = 'awaiting_account' AND ($1::text IS NULL OR d.city = $1)
            ORDER BY d.since, d.ledger_key LIMIT $2""",
        city, limit,
    )
    items = [plain({**dict(r), "days_waiting": (today - r["since"]).days}) for r in rows]
    return {"city": city, "today": today.isoformat(),
            "items": shown(p, items, person_ids_in(*(i["payee"] for i in items)))}


async def reconciliation(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Per day (of the instruction), city and fund: instructions and where they stand, plus
    totals. `resent` counts the instructions of the day that were a key's second or later attempt."""
    _check(params, _RANGE)
    city = city_filter(p, parse_city(_text(params, "city")))
    low, high, limit = _date(params, "from"), _date(params, "to"), _int(params, "limit", 1000, 1, 100_000)
    rows = await console.pool.fetch(
        """SELECT i.instructed_on AS day, d.city, d.fund,
                  count(*) AS instructed, sum(i.amount_fen)::bigint AS instructed_fen,
                  count(*) FILTER (WHERE i.result = 'settled') AS settled,
                  coalesce(sum(i.amount_fen) FILTER (WHERE i.result = 'settled'), 0)::bigint AS settled_fen,
                  count(*) FILTER (WHERE i.result = 'returned') AS returned,
                  coalesce(sum(i.amount_fen) FILTER (WHERE i.result = 'returned'), 0)::bigint AS returned_fen,
                  count(*) FILTER (WHERE i.result IS NULL) AS in_flight,
                  coalesce(sum(i.amount_fen) FILTER (WHERE i.result IS NULL), 0)::bigint AS in_flight_fen,
                  count(*) FILTER (WHERE i.attempt > 1) AS resent
             FROM payment_instructions i JOIN disbursements d USING (ledger_key)
            WHERE ($1::text IS NULL OR d.city = $1) AND ($2::date IS NULL OR i.instructed_on >= $2)
              AND ($3::date IS NULL OR i.instructed_on <= $3)
            GROUP BY 1, 2, 3 ORDER BY 1 DESC, 2 NULLS FIRST, 3 LIMIT $4""",
        city, low, high, limit,
    )
    items = [plain(dict(r)) for r in rows]
    totals = {c: sum(int(i[c]) for i in items) for c in COLUMNS["reconciliation"][3:]}
    return {"city": city, "items": items, "totals": totals}


async def funds(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Per fund and month (of the ledger row's due date): what the ledger paid and what the
    treasury settled of it — the dashboard's paid-against-settled chart."""
    _check(params, {"city", "from", "to"})
    city = city_filter(p, parse_city(_text(params, "city")))
    low, high = _date(params, "from"), _date(params, "to")
    rows = await console.pool.fetch(
        f"""WITH paid AS (
                SELECT fund, to_char(due_on, 'YYYY-MM') AS month, sum({WORTH_FEN})::bigint AS paid_fen,
                       count(*) FILTER (WHERE entry IN ('payment', 'arrears')) AS paid
                  FROM ledger WHERE ($1::text IS NULL OR city = $1) AND ($2::date IS NULL OR due_on >= $2)
                   AND ($3::date IS NULL OR due_on <= $3) GROUP BY 1, 2),
            settled AS (
                SELECT fund, to_char(due_on, 'YYYY-MM') AS month, sum(amount_fen)::bigint AS settled_fen,
                       count(*) AS settled
                  FROM disbursements WHERE status = 'settled' AND ($1::text IS NULL OR city = $1)
                   AND ($2::date IS NULL OR due_on >= $2) AND ($3::date IS NULL OR due_on <= $3) GROUP BY 1, 2)
            SELECT month, fund, coalesce(p.paid_fen, 0) AS paid_fen, coalesce(s.settled_fen, 0) AS settled_fen,
                   coalesce(p.paid, 0) AS paid, coalesce(s.settled, 0) AS settled
              FROM paid p FULL JOIN settled s USING (fund, month) ORDER BY month, fund""",
        city, low, high,
    )
    return {"city": city, "items": [plain(dict(r)) for r in rows]}


VIEWS = {"batches": batches, "returned": returned, "awaiting": awaiting, "reconciliation": reconciliation,
         "funds": funds}


def as_csv(view: str, result: Mapping[str, Any]) -> str:
    """A view's rows as CSV, the columns of COLUMNS[view]; the reconciliation ends with its totals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = COLUMNS[view]
    writer.writerow(columns)
    for item in result["items"]:
        writer.writerow(item.get(c) for c in columns)
    if "totals" in result:
        writer.writerow(["total", "", "", *(result["totals"][c] for c in columns[3:])])
    return buffer.getvalue()


async def decide_desk_task(console: Console, p: Principal, row: Mapping[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
    """Carry out a decision on a task the desk raised; refused (409) with the reason when the
    task cannot take it or the key has moved past it. Audited whether accepted or refused."""
    from activities.disbursement_tasks import decide
    from activities.pg_store import PgStore

    task = TaskRecord(task_id=row["task_id"], case_id=row["case_id"], kind=row["kind"], city=row["city"],
                      due_on=row["due_on"], details=dict(row["details"] or {}))
    today = business_clock(console.settings)()
    try:
        state = await decide(PgStore(console.pool), _pack(console), task, p.sub, decision, today)
    except decisions.Refused as exc:
        await audit.write(console.pool, p, "task.decide.refused", task.case_id,
                          {"task_id": task.task_id, "decision": decision, "reason": str(exc)})
        raise Conflict(f"the disbursement desk refused the decision: {exc}") from None
    except TaskNotOpen as exc:
        raise Conflict(str(exc)) from None
    await audit.write(console.pool, p, "task.decide", task.case_id, {"task_id": task.task_id, "decision": decision})
    result = {"task_id": task.task_id, "case_id": task.case_id, "kind": task.kind, "state": "decided",
              "decided_by": p.sub, "decision": decision,
              "disbursement": {"ledger_key": state.due.ledger_key, "status": state.status, "attempt": state.attempt,
                               "instruction_id": state.instruction_id, "since": state.since.isoformat()}}
    return shown(p, result)


async def of_case(console: Console, case_id: str) -> dict[str, dict[str, Any]]:
    """Where each of a case's ledger rows stands at the treasury, by ledger key
    (`rules.ledger_key_of`): status, since, attempts, the last instruction and its batch and
    result. A row the desk has not taken up yet has none."""
    rows = await console.pool.fetch(
        """SELECT d.ledger_key, d.status, d.since, d.attempt AS attempts, d.instructed_on, d.reason,
                  i.instruction_id, i.batch_id, i.result, i.result_on
             FROM disbursements d
             LEFT JOIN payment_instructions i ON i.ledger_key = d.ledger_key AND i.attempt = d.attempt
            WHERE d.case_id = $1""",
        case_id)
    return {r["ledger_key"]: plain(dict(r)) for r in rows}

