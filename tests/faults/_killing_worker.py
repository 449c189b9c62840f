"""`jiuye worker` with a fault: SIGKILL itself right after the N-th ledger row was committed
and before the `pay` activity returns (fault 1 of issue 6; fault 11: the N-th row of one entry
and period, e.g. the first overpayment a reconciliation writes, so the rows after it in the same
reconciliation are not written yet).

Fault 15: with JIUYE_FAULT_KILL_AFTER_INSTRUCTIONS=N instead, right after the transaction of the
N-th disbursement write with an instruction committed (its outbox row with it), before the
worker's own relay published it.

Test-only: production code has no hook; this module wraps `PgStore.pay` (and
`PgStore.write_disbursement`) and then runs the ordinary worker command. N comes from
JIUYE_FAULT_KILL_AFTER_PAYMENTS; only rows whose `entry` is JIUYE_FAULT_KILL_ON_ENTRY and whose
`period` is JIUYE_FAULT_KILL_ON_PERIOD count, where set.

    JIUYE_FAULT_KILL_AFTER_PAYMENTS=100 .venv/bin/python -m tests.faults._killing_worker
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from activities.pg_store import PgStore
from app.cli import main

KILL_AFTER = int(os.environ.get("JIUYE_FAULT_KILL_AFTER_PAYMENTS", "0")) or None
KILL_AFTER_INSTRUCTIONS = int(os.environ.get("JIUYE_FAULT_KILL_AFTER_INSTRUCTIONS", "0")) or None
ON_ENTRY = os.environ.get("JIUYE_FAULT_KILL_ON_ENTRY")
ON_PERIOD = os.environ.get("JIUYE_FAULT_KILL_ON_PERIOD")
_real_pay = PgStore.pay
_real_write = PgStore.write_disbursement
_inserted = 0
_instructed = 0


async def _pay_then_die(self: PgStore, payment: Any, lifecycle: dict[str, Any]) -> bool:
    global _inserted
    inserted = await _real_pay(self, payment, lifecycle)  # the ledger row is committed here
    if inserted and ON_ENTRY in (None, payment.entry) and ON_PERIOD in (None, payment.period):
        _inserted += 1
        if KILL_AFTER is not None and _inserted >= KILL_AFTER:
            print(f"fault: SIGKILL after committing {payment.case_id} {payment.period} {payment.entry}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    return inserted


async def _write_then_die(self: PgStore, write: Any) -> bool:
    global _instructed
    written = await _real_write(self, write)  # the instruction and its outbox row are committed here
    if written and write.instructions and KILL_AFTER_INSTRUCTIONS is not None:
        _instructed += 1
        if _instructed >= KILL_AFTER_INSTRUCTIONS:
            print(f"fault: SIGKILL after committing instruction {write.instructions[0].instruction_id}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    return written


PgStore.pay = _pay_then_die  # type: ignore[method-assign]
PgStore.write_disbursement = _write_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(["worker"]))
