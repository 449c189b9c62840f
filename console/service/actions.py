"""Supervisor actions besides task decisions: hold and release a case (Temporal update
`hold`), re-drive a dead-lettered record, export a city's ledger for a month."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Mapping

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from console.service import audit
from console.service.cases import case_row
from console.service.core import Console, plain
from console.service.errors import BadRequest, Conflict, Unavailable
from console.service.queries import _int, parse_city, parse_month
from console.service.scope import city_filter, require_actor, require_province, shown
from console.service.tokens import Principal
from contracts.cases import SupervisorAction
from contracts.cloudevents_binding import decode_kafka
from contracts.events import InvalidEvent
from contracts.topics import TOPIC_OF_TYPE

LEDGER_COLUMNS = ("case_id", "kind", "payee", "program", "period", "entry", "seq", "corrects", "amount_fen", "fund",
                  "due_on", "city", "rule", "cause", "paid_at")


async def hold(console: Console, p: Principal, case_id: str, action: str, reason: str | None) -> dict[str, Any]:
    """Hold (`hold`) or release (`release`) a case's payments, with a reason; the case refuses
    what makes no sense (already held, not held, closed) with 409."""
    require_actor(p, f"{action} cases")
    if action not in ("hold", "release"):
        raise BadRequest(f"action must be hold or release, not {action!r}")
    if not reason or not reason.strip():
        raise BadRequest("a reason is required")
    await case_row(console, p, case_id)
    client = await console.temporal()
    try:
        view = await client.get_workflow_handle(case_id).execute_update(
            "hold", SupervisorAction(action=action, reason=reason.strip(), by=p.sub)
        )
    except WorkflowUpdateFailedError as exc:
        message = str(getattr(exc.cause, "message", exc.cause))
        raise Conflict(f"the case refused to {action}: {message}") from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise Conflict(f"case {case_id} is no longer running: {exc.message}") from None
        raise
    data = view.model_dump(mode="json") if hasattr(view, "model_dump") else dict(view)
    hold = data.get("hold")
    # The case records the read model's `cases.hold` itself before the update returns, so
    # lists show it held; the console writes none of the case's rows.
    await audit.write(console.pool, p, f"case.{action}", case_id, {"reason": reason.strip()})
    return shown(p, {"case_id": case_id, "hold": hold, "status": data.get("status")})


async def list_dead_letters(console: Console, p: Principal, params: Mapping[str, Any]) -> dict[str, Any]:
    """Rejected input records (province only: a record that failed to parse has no city)."""
    require_province(p, "the dead-letter queue")
    pending = str(params.get("pending", "true")).lower() != "false"
    rows = await console.pool.fetch(
        """SELECT id, topic, partition, kafka_offset, reason, raw, header_names, header_values, received_at,
                  redriven_at, redriven_by
             FROM dead_letters WHERE NOT $1 OR redriven_at IS NULL ORDER BY id DESC LIMIT $2""",
        pending, _int(params, "limit", 100, 1, 1000),
    )
    items = []
    for r in rows:
        item = plain({k: v for k, v in dict(r).items() if k not in ("raw", "header_names", "header_values")})
        item["raw"] = bytes(r["raw"]).decode("utf-8", errors="replace")
        # A binary-mode record's attributes (id, type, subject…) are its ce_ headers, not in `raw`.
        item["headers"] = [[name, bytes(value).decode("utf-8", errors="replace")]
                           for name, value in zip(r["header_names"], r["header_values"], strict=True)]
        items.append(item)
    return {"items": items}


async def redrive(console: Console, p: Principal, dead_letter_id: int, fixed: Any | None = None) -> dict[str, Any]:
    """Send a dead-lettered record (or its corrected JSON) to its original topic (or the topic
    of its type); it must now parse as a CloudEvent. Marks it re-driven and audits it."""
    require_actor(p, "re-drive dead letters")
    require_province(p, "re-driving a dead letter")
    row = await console.pool.fetchrow(
        "SELECT id, topic, raw, header_names, header_values, reason, redriven_at FROM dead_letters WHERE id = $1",
        dead_letter_id)
    if row is None:
        from console.service.errors import NotFound

        raise NotFound(f"no dead letter {dead_letter_id}")
    if row["redriven_at"] is not None:
        raise Conflict(f"dead letter {dead_letter_id} was already re-driven at {row['redriven_at'].isoformat()}")
    # As it came (a binary-mode record keeps its ce_ headers), or the corrected event in structured mode.
    raw = bytes(row["raw"]) if fixed is None else json.dumps(fixed, ensure_ascii=False, separators=(",", ":")).encode()
    headers = tuple(zip(row["header_names"], map(bytes, row["header_values"]), strict=True)) if fixed is None else ()
    try:
        event = decode_kafka(raw, headers)
    except InvalidEvent as exc:
        raise BadRequest(f"the record is still invalid ({exc.reason}); send the corrected CloudEvent as 'fixed'") from None
    topic = row["topic"] if row["topic"] in TOPIC_OF_TYPE.values() else TOPIC_OF_TYPE[event.type]
    claimed = await console.pool.fetchval(
        "UPDATE dead_letters SET redriven_at = now(), redriven_by = $2 WHERE id = $1 AND redriven_at IS NULL RETURNING true",
        dead_letter_id, p.sub,
    )
    if not claimed:
        raise Conflict(f"dead letter {dead_letter_id} is being re-driven by someone else")
    try:
        await _produce(console, topic, event.subject.encode(), raw, headers)
    except Exception as exc:  # noqa: BLE001 — give the record back so it can be re-driven again
        await console.pool.execute("UPDATE dead_letters SET redriven_at = NULL, redriven_by = NULL WHERE id = $1", dead_letter_id)
        raise Unavailable(f"Kafka did not take the record: {exc}") from None
    await audit.write(console.pool, p, "deadletter.redrive", None,
                      {"dead_letter_id": dead_letter_id, "topic": topic, "fixed": fixed is not None,
                       "source": event.source, "event_id": event.id})
    return {"id": dead_letter_id, "topic": topic, "source": event.source, "event_id": event.id, "fixed": fixed is not None}


async def _produce(console: Console, topic: str, key: bytes, value: bytes,
                   headers: tuple[tuple[str, bytes], ...] = ()) -> None:
    from contracts.kafka import make_producer

    producer = make_producer(console.settings)
    await producer.start()
    try:
        await producer.send_and_wait(console.settings.topics.physical(topic), value=value, key=key,
                                     headers=list(headers) or None)
    finally:
        await producer.stop()


def _month_range(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


async def export_ledger(console: Console, p: Principal, city: str | None, month: str | None) -> AsyncIterator[str]:
    """The ledger rows of `city` due in `month` as CSV, streamed from a server-side cursor. The
    arguments are checked and the export audited before the first row is produced."""
    scoped = city_filter(p, parse_city(city))
    if scoped is None:
        raise BadRequest("city is required for a ledger export")
    start, end = _month_range(parse_month(month))
    await audit.write(console.pool, p, "ledger.export", None, {"city": scoped, "month": month})

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(LEDGER_COLUMNS)
        async with console.pool.acquire() as conn, conn.transaction():
            async for r in conn.cursor(
                f"""SELECT {', '.join(LEDGER_COLUMNS)} FROM ledger
                     WHERE city = $1 AND due_on >= $2 AND due_on < $3 ORDER BY due_on, case_id, program, period""",
                scoped, start, end, prefetch=500,
            ):
                writer.writerow(shown(p, plain(dict(r))).get(c) for c in LEDGER_COLUMNS)
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return rows()
