"""Per-case quarantine (issue 18 item 4): the events a case refused (`quarantined_events`, 0017),
shown on its page, and the supervisor's two answers, each audited with a reason:

- re-drive: offer the same event (same source and id) to the case again, judged on the case as
  it is NOW. A refusal is a judgement on the case's state when the event came; once a
  supervisor has corrected that state (a decision, a reopened case) the event may be taken.
  Who refused it (`origin`, migration 0018) decides the way back:
  - `intake` (a second claim while one was open, a placement while the person was still
    placed, a case closed before the event arrived): the record as it came is routed again
    (`Intake.redeliver`). The first delivery never reached the workflow, so its id is new to
    the case; a case that did take it drops it by its id (`seen`);
  - `workflow` (the case itself refused it, `CaseWorkflow.refuse`: a late fact after which the
    decision stands, an event after its window for late facts, a second provincial
    application...): the case saw its id, so a redelivery would be dropped; the case's
    `redrive` update offers the stored event to its main loop and answers taken or refused.
  Refused again, the row stays quarantined with the new reason, and the answer says so (409);
- dismiss: close it, nothing delivered.

Both are for principals who may act, on cases in their scope (another city's case is 404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.store import Origin
from console.service import audit
from console.service.core import Console, plain
from console.service.errors import BadRequest, Conflict, NotFound
from console.service.scope import require_actor, shown
from console.service.tokens import Principal
from contracts.cases import CaseEvent, Redrive, RedriveResult
from contracts.cloudevents_binding import decode_kafka
from policy.calendar import business_date

STATUSES = ("quarantined", "redriven", "dismissed")

_COLUMNS = """id, case_id, source, event_id, type, subject, event_time, reason, topic, partition, kafka_offset,
              status, decided_by, decided_at, decision_reason, outcome, quarantined_at, origin, rule"""


async def of_case(console: Console, case_id: str) -> list[dict[str, Any]]:
    """The events the case refused, oldest first, whatever became of them."""
    rows = await console.pool.fetch(
        f"SELECT {_COLUMNS} FROM quarantined_events WHERE case_id = $1 ORDER BY quarantined_at, id", case_id)
    return [plain(dict(r)) for r in rows]


def timeline_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One timeline entry per refused event, on the business day it was refused (its event's
    time: what the case was judged on), typed `quarantine` for the console."""
    return [{
        "on": business_date(datetime.fromisoformat(r["event_time"])).isoformat(), "type": "quarantine",
        "what": f"{r['type']} refused: {r['reason']} ({r['status']})", "rule": None, "amount": None,
        "event": {"source": r["source"], "id": r["event_id"]}, "quarantine_id": r["id"], "status": r["status"],
        "origin": "quarantine",
    } for r in rows]


async def _row(console: Console, p: Principal, quarantine_id: int, verb: str) -> dict[str, Any]:
    require_actor(p, f"{verb} quarantined events")
    row = await console.pool.fetchrow(
        "SELECT * FROM quarantined_events WHERE id = $1", quarantine_id)
    if row is None:
        raise NotFound(f"no quarantined event {quarantine_id}")
    # Scoped like the case itself: another city's case is not found. (cases.py imports this
    # module for the case page.)
    from console.service.cases import case_row

    await case_row(console, p, row["case_id"])
    if row["status"] != "quarantined":
        raise Conflict(f"quarantined event {quarantine_id} was already {row['status']} by {row['decided_by']}")
    return dict(row)


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise BadRequest("a reason is required")
    return reason.strip()


async def dismiss(console: Console, p: Principal, quarantine_id: int, reason: str | None) -> dict[str, Any]:
    """Close a quarantined event without delivering it."""
    why = _reason(reason)
    row = await _row(console, p, quarantine_id, "dismiss")
    done = await console.pool.fetchval(
        """UPDATE quarantined_events SET status = 'dismissed', decided_by = $2, decided_at = now(),
                  decision_reason = $3
            WHERE id = $1 AND status = 'quarantined' RETURNING true""",
        quarantine_id, p.sub, why)
    if not done:
        raise Conflict(f"quarantined event {quarantine_id} is being decided by someone else")
    await audit.write(console.pool, p, "quarantine.dismiss", row["case_id"],
                      {"quarantine_id": quarantine_id, "reason": why, "source": row["source"], "event_id": row["event_id"]})
    return shown(p, plain({"id": quarantine_id, "case_id": row["case_id"], "status": "dismissed"}))


class _AlreadyRecorded:
    """The intake's dead-letter sink for a re-drive: the record's dead letter exists already
    (the store's row, keyed by its topic, partition and offset, and the dead-letter topic's
    copy from the first refusal), so a re-drive refused again sends nothing more there; the
    refusal is kept where the supervisor acts on it, the quarantine row."""

    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        return None


async def _intake(console: Console) -> Any:
    from activities.pg_store import PgStore
    from policy.pack import load_pack
    from streams.app import business_clock_offset
    from streams.gateway import CaseGateway
    from streams.intake import Intake

    s = console.settings
    gateway = CaseGateway(await console.temporal(), s.temporal_task_queue, clock_offset_seconds=business_clock_offset(s))
    return Intake(PgStore(console.pool), gateway, _AlreadyRecorded(), load_pack(s.policy_pack))


async def redrive(console: Console, p: Principal, quarantine_id: int, reason: str | None) -> dict[str, Any]:
    """Deliver a quarantined event again, routed on the cases as they are now (module docstring)."""
    why = _reason(reason)
    row = await _row(console, p, quarantine_id, "re-drive")
    if row["origin"] == "workflow":
        return await _redrive_in_case(console, p, row, why)
    raw = bytes(row["raw"])
    headers = tuple(zip(row["header_names"], map(bytes, row["header_values"]), strict=True))
    event = decode_kafka(raw, headers)  # it parsed when it was refused
    intake = await _intake(console)
    # Claimed before delivering, so two supervisors never deliver it twice at once; a
    # refusal on the way writes the row back to `quarantined` with its reason.
    claimed = await console.pool.fetchval(
        """UPDATE quarantined_events SET status = 'redriven', decided_by = $2, decided_at = now(), decision_reason = $3
            WHERE id = $1 AND status = 'quarantined' RETURNING true""",
        quarantine_id, p.sub, why)
    if not claimed:
        raise Conflict(f"quarantined event {quarantine_id} is being decided by someone else")
    origin = Origin(row["topic"] or "", row["partition"] if row["partition"] is not None else -1,
                    row["kafka_offset"] if row["kafka_offset"] is not None else -1, headers)
    try:
        outcome = await intake.redeliver(event, raw, origin)
    except Exception:
        await console.pool.execute(
            "UPDATE quarantined_events SET status = 'quarantined' WHERE id = $1", quarantine_id)
        raise
    taken = outcome.status == "applied"
    if taken:
        await console.pool.execute("UPDATE quarantined_events SET outcome = $2 WHERE id = $1", quarantine_id,
                                   outcome.detail[:1000])
        # Its dead letter (a case-named refusal is one too) is settled by this re-drive.
        await console.pool.execute(
            """UPDATE dead_letters SET redriven_at = now(), redriven_by = $4
                WHERE topic = $1 AND partition = $2 AND kafka_offset = $3 AND redriven_at IS NULL""",
            row["topic"], row["partition"], row["kafka_offset"], p.sub)
    else:
        # Refused again (or routed nowhere now): still quarantined on this case, the new reason said.
        await console.pool.execute(
            """UPDATE quarantined_events SET status = 'quarantined', outcome = $2, reason = $3 WHERE id = $1""",
            quarantine_id, f"{outcome.status}: {outcome.detail}"[:1000],
            outcome.detail[:1000] or row["reason"])
    await audit.write(console.pool, p, "quarantine.redrive", row["case_id"],
                      {"quarantine_id": quarantine_id, "reason": why, "source": row["source"], "event_id": row["event_id"],
                       "outcome": outcome.status, "detail": outcome.detail})
    if not taken:
        raise Conflict(f"re-driven, and refused again ({outcome.status}): {outcome.detail}; still quarantined")
    return shown(p, plain({"id": quarantine_id, "case_id": row["case_id"], "status": "redriven",
                           "outcome": outcome.status, "detail": outcome.detail}))


async def _redrive_in_case(console: Console, p: Principal, row: dict[str, Any], why: str) -> dict[str, Any]:
    """A refusal the case decided: its `redrive` update offers the stored event to the case
    under its state now. Claimed first like an intake re-drive; the case quarantines it again
    itself if it refuses it (`CaseWorkflow.refuse`), and this writes the new reason and outcome."""
    quarantine_id, case_id = row["id"], row["case_id"]
    event = CaseEvent.model_validate_json(bytes(row["raw"]))
    claimed = await console.pool.fetchval(
        """UPDATE quarantined_events SET status = 'redriven', decided_by = $2, decided_at = now(), decision_reason = $3
            WHERE id = $1 AND status = 'quarantined' RETURNING true""",
        quarantine_id, p.sub, why)
    if not claimed:
        raise Conflict(f"quarantined event {quarantine_id} is being decided by someone else")
    client = await console.temporal()
    refused: str | None = None
    try:
        result = await client.get_workflow_handle(case_id).execute_update(
            "redrive", Redrive(event=event, by=p.sub, reason=why), result_type=RedriveResult)
    except WorkflowUpdateFailedError as exc:
        refused = f"the case refused the re-drive: {getattr(exc.cause, 'message', exc.cause)}"
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            await console.pool.execute("UPDATE quarantined_events SET status = 'quarantined' WHERE id = $1", quarantine_id)
            raise
        refused = f"case {case_id} is no longer running: {exc.message}"
    except Exception:
        await console.pool.execute("UPDATE quarantined_events SET status = 'quarantined' WHERE id = $1", quarantine_id)
        raise
    else:
        if result.taken:
            await console.pool.execute("UPDATE quarantined_events SET outcome = $2 WHERE id = $1", quarantine_id,
                                       f"taken: {result.detail}"[:1000])
        else:
            refused = result.detail
    status = "applied" if refused is None else "refused"
    detail = result.detail if refused is None else refused
    if refused is not None:
        await console.pool.execute(
            """UPDATE quarantined_events SET status = 'quarantined', outcome = $2, reason = $3 WHERE id = $1""",
            quarantine_id, f"refused: {refused}"[:1000], refused[:1000])
    await audit.write(console.pool, p, "quarantine.redrive", case_id,
                      {"quarantine_id": quarantine_id, "reason": why, "source": row["source"], "event_id": row["event_id"],
                       "origin": "workflow", "outcome": status, "detail": detail})
    if refused is not None:
        raise Conflict(f"re-driven, and refused again by the case: {refused}; still quarantined")
    return shown(p, plain({"id": quarantine_id, "case_id": case_id, "status": "redriven", "outcome": status, "detail": detail}))
