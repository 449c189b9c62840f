"""Shared by the disbursement console tests: the desk's schedule running in this process and
`jiuye treasury-sim` (the labelled stand-in for the treasury) as a separate process, a payee
unique to the test with accounts registered and updated through the real intake, and a ledger row
of theirs written as the worker's `pay` writes it. Account numbers ending in 0 are closed at the
stand-in."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from activities.disbursement_desk import DisbursementDesk
from activities.disbursement_runner import DisbursementRunner
from activities.pg_store import PgStore
from contracts.cases import PaymentRequest
from contracts.settings import settings_env
from contracts.topics import PAYMENT_INSTRUCTIONS
from policy import disbursement as rules
from testkit.events import cloud_event, line
from testkit.processes import JIUYE, Process
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today


@dataclass
class Payee:
    """A payee of city 2101 unique to the test, with one ledger row (`key`) once `paid`."""

    system: System
    sim: Process
    name: str = "PD"
    accounts: int = field(default=0)

    @property
    def id(self) -> str:
        return f"person/{self.name}-{self.system.tag}"

    @property
    def case_id(self) -> str:
        return f"internship/{self.name}-{self.system.tag}/U1"

    @property
    def key(self) -> str:
        return rules.ledger_key_of(self.case_id, "internship", "month-1", "payment", 0)

    def number(self, last: str) -> str:
        """An account number unique to the run ending in `last` (0: closed at the stand-in)."""
        return f"62220{int(self.system.tag, 16) % 10**10:010d}{self.accounts}{last}"

    async def account(self, last: str) -> None:
        """Register (first) or update the payee's account through the intake."""
        self.accounts += 1
        today = business_today()
        type_ = "payee.account_registered" if self.accounts == 1 else "payee.account_updated"
        await self.system.emit([line(cloud_event(
            source="bank/2101", id=f"acct-{self.name}-{self.system.tag}-{self.accounts}", type=type_, subject=self.id,
            on=today, data={"payee": self.id, "bank": "B1", "account_number": self.number(last),
                            "holder_name": "张测试", "on": today.isoformat()}))])
        store = PgStore(self.system.pool)

        async def taken() -> None:
            assert await store.current_accounts([self.id]) == {self.id: f"{self.id}#{self.accounts}"}

        await assert_eventually(taken, timeout=60)

    async def paid(self, amount: int = 120000) -> None:
        await PgStore(self.system.pool).pay(
            PaymentRequest(case_id=self.case_id, kind="internship_subsidy", payee=self.id, program="internship",
                           period="month-1", amount=amount, fund="employment_subsidy_fund", due_on=business_today(),
                           city="2101", rule="§14"),
            {"id": f"{self.case_id}:pay", "data": {}})

    async def stands(self, status: str, attempt: int, timeout: float = 90) -> rules.Disbursement:
        async def now() -> Any:
            self.sim.check()
            state = await PgStore(self.system.pool).disbursement(self.key)
            assert state is not None and (state.status, state.attempt) == (status, attempt), state
            return state

        state: rules.Disbursement = await assert_eventually(now, timeout=timeout)
        return state


@contextlib.asynccontextmanager
async def desk_and_treasury(system: System) -> AsyncIterator[Process]:
    """The desk's schedule (every half second, on the business date) and the treasury stand-in."""
    today = business_today()
    group = f"jiuye-treasury-sim-{system.tag}"
    await system.kafka.start_group_at_end(group, [PAYMENT_INSTRUCTIONS])
    sim = Process("treasury-sim", [str(JIUYE), "-v", "treasury-sim", "--group", group],
                  settings_env(system.settings), system.folder)
    stop = asyncio.Event()
    desk = DisbursementDesk(PgStore(system.pool), system.pack, None, clock=lambda: today)
    running = asyncio.create_task(DisbursementRunner(desk, 0.5, lambda: today).run(stop))
    try:
        yield sim
    finally:
        stop.set()
        await running
        sim.stop()
