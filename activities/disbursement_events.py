"""The CloudEvents of disbursement on `payments.instructions` (EVENTS.md "What the system emits").
Their ids are the instruction and batch ids, so a retried write publishes once and the treasury
can deduplicate. They name the payee's account by reference only (never the number)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from activities.store import BatchRow, InstructionRow
from policy.disbursement import Disbursement

SOURCE = "jiuye/disbursement"


def _event(event_id: str, type_: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SOURCE,
        "type": type_,
        "subject": subject,
        "time": datetime.now(timezone.utc).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }


def instructed_event(state: Disbursement, row: InstructionRow) -> dict[str, Any]:
    due = state.due
    case_id, program, period, entry, seq = due.ledger_key.split("|")
    return _event(row.instruction_id, "payment.instructed", due.payee, {
        "instruction_id": row.instruction_id,
        "ledger_key": {"case_id": case_id, "program": program, "period": period, "entry": entry, "seq": int(seq)},
        "payee": due.payee,
        "amount": row.amount,
        "fund": due.fund,
        "city": due.city,
        "account_ref": row.account_ref,
        "due_on": due.due_on.isoformat(),
        "instructed_on": row.on.isoformat(),
        "attempt": row.attempt,
        "batch_id": row.batch_id,
    })


def batch_closed_event(batch: BatchRow) -> dict[str, Any]:
    subject = f"city/{batch.city}" if batch.city else "province/21"
    return _event(batch.batch_id, "payment.batch_closed", subject, {
        "batch_id": batch.batch_id, "city": batch.city, "fund": batch.fund,
        "date": batch.on_date.isoformat(), "count": batch.count, "total": batch.total,
    })
