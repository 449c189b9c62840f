"""The worker's disbursement schedule (activities/disbursement_runner.py): each pass instructs what
fell due and lets the day pass; a failing pass is retried at the next one, the loop never dies;
the business clock follows JIUYE_BUSINESS_DATE in development."""

from __future__ import annotations

import asyncio
import os
from datetime import date
from pathlib import Path

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.disbursement_runner import DisbursementRunner, business_clock, desk_from_settings
from activities.memory_store import MemoryStore
from contracts.cases import PaymentRequest
from contracts.codec import Keyring
from contracts.settings import Settings
from policy.disbursement import Due
from policy.pack import load_pack

DUE_ON = date(2020, 5, 1)


class FlakyStore(MemoryStore):
    """The in-memory store, with its first `failures` due-row reads failing as a database away would."""

    failures: int = 1

    async def due_for_disbursement(self, today: date, limit: int) -> list[Due]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("injected: the database went away")
        return await super().due_for_disbursement(today, limit)


async def pay(store: MemoryStore, period: str) -> None:
    await store.pay(PaymentRequest(case_id="hubei_grant/P1", kind="hubei_graduate_grant", payee="person/P1",
                                   program="hubei_graduate_grant", period=period, amount=150000,
                                   fund="employment_subsidy_fund", due_on=DUE_ON, city="2101", rule="§14"),
                    {"id": period, "data": {}})


async def test_a_pass_takes_what_fell_due_and_a_failed_pass_is_done_by_the_next() -> None:
    store = FlakyStore()
    await pay(store, "once")
    desk = DisbursementDesk(store, load_pack(), AccountVault(Keyring("t", {"t": os.urandom(32)})), clock=lambda: DUE_ON)
    runner = DisbursementRunner(desk, 0.01, lambda: DUE_ON)
    stop = asyncio.Event()
    running = asyncio.create_task(runner.run(stop))
    while runner.passes < 2:
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert [d.status for d in store.disbursement_states.values()] == ["awaiting_account"]
    assert store.failures == 0
    assert await runner.run_once() == (0, 0)


def test_the_business_clock_starts_on_the_development_business_date(tmp_path: Path) -> None:
    assert business_clock(Settings(business_date=date(2020, 7, 1), state_dir=tmp_path))() == date(2020, 7, 1)


def test_without_the_payload_keyring_the_desk_takes_no_accounts(tmp_path: Path) -> None:
    assert desk_from_settings(MemoryStore(), load_pack(), Settings(payload_encryption=False, state_dir=tmp_path)).vault is None
    assert desk_from_settings(MemoryStore(), load_pack(), Settings(state_dir=tmp_path)).vault is not None
