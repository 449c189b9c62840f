"""Shared by the console's end-to-end tests: the console app on the test's system (same
database, Temporal namespace and client), tokens, and a person with 低保 cases in city 2101."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from console.api.app import create_app
from console.service import Console
from console.service.tokens import issue
from contracts import kinds
from policy.calendar import add_months
from tests.e2e.conftest import System
from tests.e2e.helpers import Person, assert_eventually

SECRET = "console-e2e-secret"
CITY = "2101"


def token(role: str, city: str | None = None, sub: str = "tester") -> str:
    return issue(SECRET, sub=sub, role=role, city=city)


def auth(role: str, city: str | None = None, sub: str = "tester") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, city, sub)}"}


@pytest.fixture
async def console(system: System) -> Console:
    return Console(settings=system.settings, pool=system.pool, client=system.client, secret=SECRET)


@pytest.fixture
async def api(console: Console) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(console.settings, console)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        yield client


class DibaoPerson(Person):
    """A 低保 recipient of city 2101 unique to the test; K10 cases open on the grant."""

    def __init__(self, system: System, suffix: str):
        super().__init__(f"E2E{system.tag}{suffix}", f"ca/{CITY}-e2e")
        self.system = system

    async def granted(self, months_ago: int, amount: int = 50000) -> str:
        granted = add_months(self.today, -months_ago).replace(day=1)
        await self.system.emit([self.event("dibao.granted", granted, {
            "person_id": self.id, "household_id": f"H{self.id}", "city": CITY, "monthly_amount": amount,
            "from_month": granted.strftime("%Y-%m"),
        })], name=f"grant-{self.n}.jsonl")
        case_id = kinds.dibao_taper_case_id(self.id, granted.strftime('%Y-%m'))

        async def opened() -> None:
            row = await self.system.pool.fetchrow("SELECT status FROM cases WHERE case_id = $1", case_id)
            assert row is not None, f"{case_id} not in the read model yet"

        await assert_eventually(opened, timeout=120)
        return case_id

    async def employed(self, days_ago: int) -> date:
        on = self.today - timedelta(days=days_ago)
        await self.system.emit([self.event("employment.registered", on, {
            "person_id": self.id, "city": CITY, "on": on.isoformat(), "kind": "employee",
        })], name=f"employment-{self.n}.jsonl")
        return on


async def open_task(system: System, case_id: str) -> str:
    async def raised() -> str:
        rows = await system.pool.fetch("SELECT task_id, state FROM tasks WHERE case_id = $1", case_id)
        assert [r["state"] for r in rows] == ["open"], f"tasks of {case_id}: {[dict(r) for r in rows]}"
        return str(rows[0]["task_id"])

    return await assert_eventually(raised, timeout=120)
