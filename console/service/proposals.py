"""Parameter changes with a preview and two pairs of eyes (POLICY.md part 2): a supervisor
proposes a change, its preview (computed by the cases' own rules, app/parameter_preview.py) is
stored with it, and a second supervisor of the same scope approves or rejects it; the proposer
may withdraw it. Approval writes `policy.parameter.changed` to the outbox in the same
transaction that marks the proposal approved, so the worker's outbox relay publishes it exactly
as it publishes the lifecycle events, and an approval is never lost nor sent twice.

Scope ("the same scope"): a city proposal is proposed and decided by city supervisors of that
city, a province-wide one (city None) by the provincial office; auditors only read. Every
proposal, preview and decision is a row of the audit trail."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from console.service import audit, case_texts
from console.service.core import Console, plain
from console.service.errors import BadRequest, Conflict, Forbidden, NotFound, Unavailable
from console.service.scope import require_actor
from console.service.tokens import Principal
from contracts.topics import TOPIC_OF_TYPE
from policy.calendar import SHANGHAI, business_date
from policy.pack import PolicyPack, load_pack
from policy.parameter_schema import InvalidChange, change_event, validate_change

STATUSES = ("proposed", "approved", "rejected", "withdrawn")
CHANGED = "policy.parameter.changed"
_COLUMNS = ("id, name, value, city, effective_on, proposer, status, preview, previewed_at, decided_by, decided_at, "
            "reason, event_id, proposed_at")


def require_scope(p: Principal, city: str | None, action: str) -> None:
    """A city's change is its city supervisors'; a province-wide one the provincial office's."""
    require_actor(p, action)
    if city is None and p.role != "province":
        raise Forbidden(f"a province-wide parameter change is for the provincial office to {action}; "
                        f"you are {p.role} of {p.city}")
    if city is not None and (p.role != "city_supervisor" or p.city != city):
        raise Forbidden(f"a parameter change of city {city} is for a supervisor of {city} to {action}; "
                        f"you are {p.role}{' of ' + p.city if p.city else ''}")


def _row(record: Any) -> dict[str, Any]:
    return dict(plain(dict(record)))


async def _load(console: Console, p: Principal, proposal_id: int) -> dict[str, Any]:
    record = await console.pool.fetchrow(f"SELECT {_COLUMNS} FROM parameter_proposals WHERE id = $1", proposal_id)
    if record is None or (p.city is not None and record["city"] not in (None, p.city)):
        raise NotFound(f"no parameter proposal {proposal_id}")
    return _row(record)


async def propose(console: Console, p: Principal, name: str, value: Any, city: str | None, effective_on: date,
                  pack: PolicyPack | None = None) -> dict[str, Any]:
    """A new proposal, checked against the pack's schema (a clear 400 if it does not fit)."""
    require_scope(p, city, "propose")
    try:
        value = validate_change(pack or load_pack(), name, value, city)
    except InvalidChange as exc:
        raise BadRequest(str(exc)) from None
    async with console.pool.acquire() as conn, conn.transaction():
        record = await conn.fetchrow(
            f"""INSERT INTO parameter_proposals (name, value, city, effective_on, proposer)
                VALUES ($1, $2, $3, $4, $5) RETURNING {_COLUMNS}""",
            name, value, city, effective_on, p.sub)
        assert record is not None  # INSERT … RETURNING gives its row
        await audit.write(conn, p, "parameter.propose", None,
                          {"proposal_id": record["id"], "name": name, "value": value, "city": city,
                           "effective_on": effective_on.isoformat()})
    return _row(record)


async def attach_preview(console: Console, p: Principal, proposal_id: int, preview: dict[str, Any]) -> dict[str, Any]:
    """Store the preview with an open proposal (the latest replaces an earlier one), audited."""
    proposal = await _load(console, p, proposal_id)
    require_scope(p, proposal["city"], "preview")
    if proposal["status"] != "proposed":
        raise Conflict(f"parameter proposal {proposal_id} is {proposal['status']}; only an open one is previewed")
    for field in ("name", "value", "city", "effective_on"):
        if preview.get(field) != proposal[field]:
            raise BadRequest(f"the preview is of another change ({field} {preview.get(field)!r}, "
                             f"the proposal's {proposal[field]!r})")
    async with console.pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE parameter_proposals SET preview = $2, previewed_at = now() WHERE id = $1",
                           proposal_id, preview)
        await audit.write(conn, p, "parameter.preview", None,
                          {"proposal_id": proposal_id, "cases_touched": preview.get("cases_touched"),
                           "total_difference": preview.get("total_difference"),
                           "corrections": len(preview.get("corrections", []))})
    return await _load(console, p, proposal_id)


async def compute_preview(console: Console, p: Principal, proposal_id: int, until: date | None = None) -> dict[str, Any]:
    """Compute an open proposal's preview from the live store (the events the cases it reaches
    have seen, run to the end of `until`: today, the default, or later; the business clock's with
    JIUYE_BUSINESS_DATE) and store it, audited as any preview."""
    proposal = await _load(console, p, proposal_id)
    require_scope(p, proposal["city"], "preview")
    if proposal["status"] != "proposed":
        raise Conflict(f"parameter proposal {proposal_id} is {proposal['status']}; only an open one is previewed")
    from streams.app import business_clock_offset

    # The cases' today: with JIUYE_BUSINESS_DATE (development, `jiuye demo`) their business clock's.
    today = business_date(datetime.now(SHANGHAI) + timedelta(seconds=business_clock_offset(console.settings)))
    until = until or today
    if until < today:
        # The change reaches the live cases when it is approved, not before today: a run that
        # ends earlier would never see it arrive and show no difference.
        raise BadRequest(f"a preview from the live store runs to today ({today.isoformat()}) or later, "
                         f"not {until.isoformat()}: the change is announced when it is approved")
    if console.previewer is None:
        raise Unavailable("this console was started without the preview engine; serve it with `jiuye api`, "
                          "or run `jiuye parameter preview`")
    shown = await console.previewer(console.pool, proposal["name"], proposal["value"], proposal["city"],
                                    date.fromisoformat(proposal["effective_on"]), until)
    return await attach_preview(console, p, proposal_id, shown)


async def decide(console: Console, p: Principal, proposal_id: int, decision: str, reason: str | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """approve / reject (a second supervisor of the same scope) or withdraw (the proposer)."""
    proposal = await _load(console, p, proposal_id)
    if decision not in ("approve", "reject", "withdraw"):
        raise BadRequest(f"unknown decision {decision!r}: approve, reject or withdraw")
    require_scope(p, proposal["city"], decision)
    if decision == "withdraw" and p.sub != proposal["proposer"]:
        raise Forbidden(f"only the proposer ({proposal['proposer']}) may withdraw parameter proposal {proposal_id}")
    if decision != "withdraw" and p.sub == proposal["proposer"]:
        raise Forbidden(f"you proposed parameter proposal {proposal_id}: a second supervisor of the same scope "
                        f"must {decision} it (four eyes)")
    if decision == "approve" and proposal["preview"] is None:
        raise Conflict(f"parameter proposal {proposal_id} has no preview yet; preview it before approving")
    status = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}[decision]
    moment = now or datetime.now(SHANGHAI)
    event_id = f"parameter-proposal-{proposal_id}" if decision == "approve" else None
    async with console.pool.acquire() as conn, conn.transaction():
        done = await conn.fetchval(
            """UPDATE parameter_proposals SET status = $2, decided_by = $3, decided_at = $4, reason = $5, event_id = $6
                WHERE id = $1 AND status = 'proposed' RETURNING true""",
            proposal_id, status, p.sub, moment, reason, event_id)
        if not done:
            raise Conflict(f"parameter proposal {proposal_id} was already decided")
        details: dict[str, Any] = {"proposal_id": proposal_id, "name": proposal["name"], "city": proposal["city"],
                                   "reason": reason}
        if event_id is not None:
            event = change_event(event_id, proposal["name"], proposal["value"], proposal["city"],
                                 date.fromisoformat(proposal["effective_on"]), moment)
            await conn.execute(
                "INSERT INTO outbox (topic, key, dedupe_key, value) VALUES ($1, $2, $3, $4)",
                TOPIC_OF_TYPE[CHANGED], event["subject"], f"{TOPIC_OF_TYPE[CHANGED]}:{event['id']}", event)
            details["event_id"] = event_id
        await audit.write(conn, p, f"parameter.{decision}", None, details)
    return await _load(console, p, proposal_id)


async def list_proposals(console: Console, p: Principal, status: str | None = None) -> dict[str, Any]:
    """The proposals in the principal's scope (a city token: its city's and the province-wide ones,
    which change its cases too), newest first."""
    if status is not None and status not in STATUSES:
        raise BadRequest(f"status is one of {', '.join(STATUSES)}")
    rows = await console.pool.fetch(
        f"""SELECT {_COLUMNS} FROM parameter_proposals
             WHERE ($1::text IS NULL OR city = $1 OR city IS NULL) AND ($2::text IS NULL OR status = $2)
             ORDER BY proposed_at DESC, id DESC LIMIT 200""", p.city, status)
    return {"items": [_row(r) for r in rows]}


async def show_proposal(console: Console, p: Principal, proposal_id: int) -> dict[str, Any]:
    return with_readings(await _load(console, p, proposal_id))


def with_readings(proposal: dict[str, Any]) -> dict[str, Any]:
    """The proposal as shown: each correction of its preview with its rule read in every language
    (`rule_read`, as a case's ledger gives it), the stored preview left as the cases wrote it."""
    preview = proposal.get("preview")
    if not isinstance(preview, dict) or not preview.get("corrections"):
        return proposal
    # A preview's corrections share a handful of rules: each is read once.
    read = {rule: case_texts.readings(rule) for rule in {c.get("rule") for c in preview["corrections"]}}
    corrections = [{**c, "rule_read": read[c.get("rule")]} for c in preview["corrections"]]
    return {**proposal, "preview": {**preview, "corrections": corrections}}
