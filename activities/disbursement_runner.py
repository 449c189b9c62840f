"""The worker's disbursement schedule: every `disbursement_interval_seconds`, the ledger rows due
by the business date become payment instructions and the days pass for the rest (retries, tasks,
batch closing) — `DisbursementDesk.instruct_due` and `pass_day`.

Why a loop in the worker and not a Temporal workflow per (city, fund, day) batch
(docs/ARCHITECTURE.md, "Disbursement"): the work is set-based over the ledger (every due row of
every case, whatever their number), and its state lives where the ledger does: each transition
is one PostgreSQL transaction with its outbox rows, a compare-and-set over the key's state. A
pass killed halfway resumes exactly where it stopped at the next pass of any worker, and workers
running side by side instruct each key once (tests/e2e/test_disbursement_store.py). A workflow
would hold no state the database does not, but add a history per batch and a second place the
truth could drift to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.store import Store
from contracts.codec import KeyringError
from contracts.settings import Settings
from policy.calendar import business_date, start_of_day
from policy.pack import PolicyPack

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


class DisbursementRunner:
    """Runs the desk's schedule until stopped; a database error waits and tries again."""

    def __init__(self, desk: DisbursementDesk, interval_seconds: float, today: Callable[[], date]):
        self.desk = desk
        self.interval_seconds = interval_seconds
        self.today = today
        self.passes = 0

    async def run_once(self) -> tuple[int, int]:
        """One pass: (keys taken from the ledger, keys the passing days moved)."""
        today = self.today()
        taken = await self.desk.instruct_due(today)
        moved = await self.desk.pass_day(today)
        self.passes += 1
        if taken or moved:
            log.info("disbursement on %s: %d ledger rows taken, %d moved", today, taken, moved)
        return taken, moved

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self.run_once()
                failures = 0
                delay = self.interval_seconds
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database away must not end the schedule
                failures += 1
                delay = min(MAX_BACKOFF_SECONDS, self.interval_seconds * 2 ** min(failures, 6))
                log.warning("disbursement: %s; next pass in %.1f s (failure %d)", type(exc).__name__, delay, failures,
                            exc_info=failures == 1)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass


def business_clock(settings: Settings) -> Callable[[], date]:
    """Today in Asia/Shanghai; with JIUYE_BUSINESS_DATE (development) that date at start-up, going
    on from there as the cases' clocks do (streams/app.py business_clock_offset)."""
    offset = timedelta(0)
    if settings.business_date is not None:
        offset = start_of_day(settings.business_date) - datetime.now(timezone.utc)
    return lambda: business_date(datetime.now(timezone.utc) + offset)


def desk_from_settings(store: Store, pack: PolicyPack, settings: Settings) -> DisbursementDesk:
    """The desk of a process. Without the payload keyring (JIUYE_PAYLOAD_ENCRYPTION=false, development
    only) it has no vault: it instructs and follows results, but cannot take accounts."""
    try:
        vault: AccountVault | None = AccountVault.from_settings(settings)
    except KeyringError as exc:
        if settings.env == "production":
            raise
        log.warning("disbursement: payee accounts cannot be taken: %s", exc)
        vault = None
    return DisbursementDesk(store, pack, vault, clock=business_clock(settings))
