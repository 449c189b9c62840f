"""The supervisors' task inbox: list the tasks cases raised, and decide one — delivered to the
case as the Temporal update `decide`, whose validator (the kind's rule) may refuse it; a task the
disbursement desk raised (filed under a case the case workflow knows nothing of it) goes to the
desk instead (console/service/disbursement.py)."""

from __future__ import annotations

from typing import Any, Mapping

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from console.service import audit
from console.service.core import Console, plain
from console.service.disbursement import decide_desk_task
from console.service.errors import BadRequest, Conflict, NotFound
from console.service.queries import Sql, _int, _text, parse_city
from console.service.scope import city_filter, person_ids_in, require_actor, require_visible, shown
from console.service.tokens import Principal
from contracts.cases import TaskDecision
from policy.disbursement_decisions import DESK_TASKS

TASK_STATES = ("open", "decided", "expired", "withdrawn")


async def list_tasks(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Tasks by state (default open), kind, city and case, soonest due first."""
    unknown = set(params) - {"state", "kind", "city", "case_id", "limit", "offset"}
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    state = _text(params, "state") or "open"
    if state not in (*TASK_STATES, "any"):
        raise BadRequest(f"state must be one of {', '.join(TASK_STATES)} or any, got {state!r}")
    sql = Sql()
    city = city_filter(p, parse_city(_text(params, "city")))
    if city is not None:
        sql.conditions.append(f"t.city = {sql.arg(city)}")
    if state != "any":
        sql.conditions.append(f"t.state = {sql.arg(state)}")
    for name in ("kind", "case_id"):
        value = _text(params, name)
        if value is not None:
            sql.conditions.append(f"t.{name} = {sql.arg(value)}")
    where = sql.where()
    total = await console.pool.fetchval(f"SELECT count(*) FROM tasks t {where}", *sql.args)
    limit = sql.arg(_int(params, "limit", 50, 1, 200))
    offset = sql.arg(_int(params, "offset", 0, 0, 10_000_000))
    rows = await console.pool.fetch(
        f"""SELECT t.task_id, t.case_id, t.kind, t.city, t.due_on, t.state, t.details, t.decided_by, t.decision,
                   t.raised_at, t.decided_at, c.kind AS case_kind, c.subject
              FROM tasks t LEFT JOIN cases c ON c.case_id = t.case_id {where}
             ORDER BY t.due_on NULLS LAST, t.task_id LIMIT {limit} OFFSET {offset}""",
        *sql.args,
    )
    items = [plain(dict(r)) for r in rows]
    return {"total": total, "items": shown(p, items, person_ids_in(*(i["subject"] for i in items)))}


async def decide_task(console: Console, p: Principal, task_id: str, decision: Any) -> dict[str, Any]:
    """Deliver `decision` for an open task to its case; the case's rule may refuse it (409 with
    the rule's reason). Audited whether accepted or refused."""
    require_actor(p, "decide tasks")
    if not isinstance(decision, dict) or not decision:
        raise BadRequest("decision must be a non-empty JSON object, e.g. {\"months\": 6} or {\"approve\": true, \"reason\": \"...\"}")
    row = await console.pool.fetchrow("SELECT task_id, case_id, kind, city, due_on, state, details FROM tasks WHERE task_id = $1",
                                      task_id)
    if row is None:
        raise NotFound(f"no task {task_id}")
    require_visible(p, row["city"], f"task {task_id}")
    if row["state"] != "open":
        raise Conflict(f"task {task_id} is {row['state']}, not open")
    if row["kind"] in DESK_TASKS:
        return await decide_desk_task(console, p, dict(row), decision)
    client = await console.temporal()
    handle = client.get_workflow_handle(row["case_id"])
    try:
        task = await handle.execute_update("decide", TaskDecision(task_id=task_id, decided_by=p.sub, decision=decision))
    except WorkflowUpdateFailedError as exc:
        reason = str(exc.cause.message if hasattr(exc.cause, "message") else exc.cause)
        await audit.write(console.pool, p, "task.decide.refused", row["case_id"], {"task_id": task_id, "decision": decision, "reason": reason})
        raise Conflict(f"the case refused the decision: {reason}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(f"case {row['case_id']} is no longer running: {exc.message}") from None
        raise
    await audit.write(console.pool, p, "task.decide", row["case_id"], {"task_id": task_id, "decision": decision})
    data = task.model_dump(mode="json") if hasattr(task, "model_dump") else dict(task)
    return shown(p, data)
