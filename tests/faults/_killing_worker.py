"""`jiuye worker` with a fault: SIGKILL itself right after the N-th ledger row was committed
and before the `pay` activity returns (fault 1 of issue 6; fault 11: the N-th row of one entry
and period, e.g. the first overpayment a reconciliation writes, so the rows after it in the same
reconciliation are not written yet).

Test-only: production code has no hook; this module wraps `PgStore.pay` and then runs the
ordinary worker command. N comes from JIUYE_FAULT_KILL_AFTER_PAYMENTS; only rows whose `entry`
is JIUYE_FAULT_KILL_ON_ENTRY and whose `period` is JIUYE_FAULT_KILL_ON_PERIOD count, where set.

    JIUYE_FAULT_KILL_AFTER_PAYMENTS=100 .venv/bin/python -m tests.faults._killing_worker
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from activities.pg_store import PgStore
from app.cli import main

KILL_AFTER = int(os.environ["JIUYE_FAULT_KILL_AFTER_PAYMENTS"])
ON_ENTRY = os.environ.get("JIUYE_FAULT_KILL_ON_ENTRY")
ON_PERIOD = os.environ.get("JIUYE_FAULT_KILL_ON_PERIOD")
_real_pay = PgStore.pay
_inserted = 0


async def _pay_then_die(self: PgStore, payment: Any, lifecycle: dict[str, Any]) -> bool:
    global _inserted
    inserted = await _real_pay(self, payment, lifecycle)  # the ledger row is committed here
    if inserted and ON_ENTRY in (None, payment.entry) and ON_PERIOD in (None, payment.period):
        _inserted += 1
        if _inserted >= KILL_AFTER:
            print(f"fault: SIGKILL after committing {payment.case_id} {payment.period} {payment.entry}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    return inserted


PgStore.pay = _pay_then_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(["worker"]))
