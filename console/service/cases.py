"""Finding cases (PostgreSQL read model) and one case in full: its live state from the
workflow's `state` query (the read model when no worker answers), its timeline, tasks, payments
and audit trail, and its Temporal Web UI link."""

from __future__ import annotations

from typing import Any, Mapping

from temporalio.service import RPCError, RPCStatusCode

from console.service import audit, case_texts, disbursement, quarantine
from console.service.core import Console, plain
from console.service.errors import NotFound, Unavailable
from console.service.labels import LANGS
from console.service.queries import CaseQuery, case_list_sql
from console.service.scope import city_filter, person_ids_in, require_visible, shown
from console.service.tokens import Principal
from contracts.timeline import legacy_entry_type
from policy.calendar import business_date
from policy.corrections import WORTH_SIGN
from policy.disbursement import ledger_key_of


def known_kinds() -> set[str]:
    from workflows.registry import KINDS

    return set(KINDS)


async def list_cases(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """A page of cases matching `params` (see CaseQuery), with the total."""
    q = CaseQuery.parse(params, known_kinds())
    if q.person is not None and not p.sees_personal_data:
        from console.service.errors import Forbidden

        raise Forbidden(f"role {p.role} may not search by person")
    city = city_filter(p, q.city)
    page, count, args = case_list_sql(q, city)
    rows = await console.pool.fetch(page, *args)
    total = await console.pool.fetchval(count, *args[:-2])
    items = [plain(dict(r)) for r in rows]
    return {
        "total": total,
        "limit": q.limit,
        "offset": q.offset,
        "sort": q.sort,
        "items": shown(p, items, person_ids_in(*(r["subject"] for r in items))),
    }


async def case_row(console: Console, p: Principal, case_id: str) -> dict[str, Any]:
    """The read-model row of a case the principal may see (404 otherwise)."""
    row = await console.pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
    if row is None:
        raise NotFound(f"no case {case_id}")
    require_visible(p, row["city"], f"case {case_id}")
    return dict(row)


async def live_state(console: Console, case_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """The workflow's `state` query, or None and why not."""
    try:
        client = await console.temporal()
        view = await client.get_workflow_handle(case_id).query("state")
    except Unavailable as exc:
        return None, exc.reason
    except RPCError as exc:
        # A query needs a worker: with none running (or the history gone) the read model, the
        # tasks and the ledger still answer, and the reason is shown instead of a traceback.
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None, "the case's history is no longer on the Temporal server"
        return None, f"Temporal could not answer the state query: {exc.message} (is `jiuye worker` running?)"
    data = view.model_dump(mode="json") if hasattr(view, "model_dump") else dict(view)
    return data, None


def _entry_type(entry: dict[str, Any]) -> str:
    """The type the case gave the entry; one from a worker that did not type its entries yet is
    derived where every legacy entry's is (contracts/timeline.py)."""
    given = entry.get("type")
    if given:
        return str(given)
    return legacy_entry_type(entry.get("what", ""), rule=entry.get("rule"), event=entry.get("event"), amount=entry.get("amount"))


def build_timeline(case: dict[str, Any], state: dict[str, Any] | None, payments: list[dict[str, Any]],
                   tasks: list[dict[str, Any]], trail: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What happened to the case, oldest first: the workflow's own timeline (events with their
    source and id, decisions with the rule in words, payments, corrections, tasks, holds) when it
    answers, else what the read model knows; plus the supervisors' actions from the audit. Each
    entry has a `type` (contracts.timeline.EntryType); `what` is for people only."""
    entries: list[dict[str, Any]] = []
    if state is not None:
        for t in state.get("timeline", []):
            source, _, event_id = (t.get("event") or "").partition("#")
            entries.append({
                "on": t["on"], "type": _entry_type(t), "what": t["what"], "rule": t.get("rule"),
                "amount": t.get("amount"), "event": {"source": source, "id": event_id} if event_id else None,
                "origin": "case",
            })
    else:
        if case.get("opened_on"):
            entries.append({"on": case["opened_on"], "type": "event", "what": "opened", "origin": "read model"})
        for pay in payments:
            entry = pay.get("entry", "payment")
            what = (f"paid {pay['period']} to {pay['payee']}" if entry == "payment" else
                    f"{entry} for {pay['program']} {pay['corrects']} to {pay['payee']}")
            entries.append({"on": pay["due_on"], "type": "payment" if entry == "payment" else "correction", "what": what,
                            "rule": pay.get("rule"), "amount": pay["amount"], "origin": "ledger",
                            "cause": pay.get("cause")})
        for task in tasks:
            entries.append({"on": task.get("due_on") or case.get("opened_on"), "type": "task",
                            "what": f"task {task['kind']} {task['state']}", "origin": "tasks"})
        if case.get("closed_on"):
            entries.append({"on": case["closed_on"], "type": "decision", "what": f"closed {case['status']}",
                            "origin": "read model"})
    for row in trail:
        if row["action"] == "case.view":
            continue
        entries.append({"on": row["on"], "at": row["at"], "type": "supervisor",
                        "what": f"{row['action']} by {row['actor']} ({row['role']})"
                                + (f": {row['details']['reason']}" if (row.get("details") or {}).get("reason") else ""),
                        "details": row.get("details"), "origin": "audit"})
    entries.sort(key=lambda e: str(e["on"]))
    return entries


def with_readings(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each timeline entry with `read`: its `what` and `rule` in every language (case_texts), the
    raw texts kept as they came — the page shows the reading, the raw text is the record."""
    for e in entries:
        e["read"] = {lang: {"what": case_texts.read(e.get("what"), lang), "rule": case_texts.read(e.get("rule"), lang)}
                     for lang in LANGS}
    return entries


async def show_case(console: Console, p: Principal, case_id: str) -> dict[str, Any]:
    """One case in full; the read is audited (it shows personal data)."""
    case = plain(await case_row(console, p, case_id))
    payments = [plain(dict(r)) for r in await console.pool.fetch(
        """SELECT program, period, entry, seq, corrects, cause, payee, amount_fen AS amount, fund, due_on, rule, paid_at
             FROM ledger WHERE case_id = $1 ORDER BY due_on, period, entry, seq""", case_id)]
    tasks = [plain(dict(r)) for r in await console.pool.fetch(
        """SELECT task_id, kind, city, due_on, state, details, decided_by, decision, raised_at, decided_at
             FROM tasks WHERE case_id = $1 ORDER BY raised_at, task_id""", case_id)]
    # Where each row stands at the treasury (issue 18: the case page shows its disbursements).
    paid_out = await disbursement.of_case(console, case_id)
    for pay in payments:
        pay["disbursement"] = paid_out.get(ledger_key_of(case_id, pay["program"], pay["period"], pay["entry"], pay["seq"]))
        pay["rule_read"] = case_texts.readings(pay.get("rule"))
    for task in tasks:
        task["rule_read"] = case_texts.readings((task.get("details") or {}).get("rule"))
    refused = await quarantine.of_case(console, case_id)
    state, unavailable = await live_state(console, case_id)
    # Audit times are instants; the timeline speaks in Shanghai business dates.
    trail = plain([{**row, "on": business_date(row["at"])} for row in await audit.of_case(console.pool, case_id)])
    await audit.write(console.pool, p, "case.view", case_id)
    result = {
        "case": case,
        "state": state,
        "state_unavailable": unavailable,
        "timeline": with_readings(sorted(build_timeline(case, state, payments, tasks, trail) + quarantine.timeline_entries(refused),
                                         key=lambda e: str(e["on"]))),
        "tasks": tasks,
        # The events the case refused (issue 18 item 4), to re-drive or dismiss.
        "quarantined": refused,
        "payments": payments,
        # A correction is a row of its own: the net owed to the payees counts an overpayment
        # against its payment (EVENTS.md "Ledger"); what the payees received is the case's own
        # figure, answered by its state query.
        "owed_fen": sum(WORTH_SIGN[pay["entry"]] * pay["amount"] for pay in payments),
        "paid_fen": state.get("paid_fen") if state is not None else None,
        "audit": trail,
        "links": {"temporal": console.workflow_link(case_id)},
    }
    return shown(p, result, person_ids_in(case["subject"], *(pay["payee"] for pay in payments)))
