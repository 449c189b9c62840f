"""POLICY.md part 2 §22 on a real PostgreSQL (a fresh, migrated database per test): `PgStore`'s
schedules, budgets, spend and forecast sums, the `fund_shortfall` alert they raise, and the
console's forecast view and `jiuye forecast` text over them — the in-memory twin's rules
(tests/unit/test_forecast_rules.py) kept by the store production runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone

import asyncpg
import pytest

from activities.forecast_desk import check_shortfall, fund_forecasts
from activities.pg_store import PgStore
from activities.store import BudgetRow
from console.forecast_cli import text
from console.service import Console, Principal, forecast
from contracts.cases import ScheduleLine, ScheduleRecord
from contracts.settings import get_settings
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

UI = "ui_fund"
T0 = datetime(2020, 1, 10, tzinfo=timezone.utc)
TODAY = date(2020, 3, 20)


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with fresh_pool("jiuye_forecast") as created:
        yield created


def schedule(case_id: str, city: str, *lines: tuple[str, int, date]) -> ScheduleRecord:
    return ScheduleRecord(case_id=case_id, kind="unemployment_insurance", city=city, on=TODAY,
                          lines=[ScheduleLine(program="ui_benefit", period=p, amount=a, fund=UI, due_on=d) for p, a, d in lines])


async def disbursed(pool: asyncpg.Pool, n: int, status: str, on: date, amount: int, city: str = "2101") -> None:
    await pool.execute(
        """INSERT INTO disbursements (ledger_key, case_id, payee, fund, city, amount_fen, due_on, status, since, attempt,
                                      instructed_on, version)
           VALUES ($1, $2, 'person/P1', $3, $4, $5, $6, $7, $6, 1, $6, 1)""",
        f"c{n}|ui_benefit|month-{n}|payment|0", f"c{n}", UI, city, amount, on, status)


async def test_forecast_is_the_sum_of_open_case_schedules_on_postgresql(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    await store.record_schedule(schedule("c1", "2101", ("m1", 100, date(2020, 4, 1)), ("m2", 100, date(2020, 5, 1))))
    await store.record_schedule(schedule("c2", "2101", ("m1", 999, date(2020, 4, 3))))
    await store.record_schedule(schedule("c2", "2101", ("m1", 40, date(2020, 4, 3)), ("m2", 40, date(2021, 1, 3))))
    await store.record_schedule(schedule("c3", "2101", ("m1", 500, date(2020, 4, 3))))
    await store.record_schedule(schedule("c3", "2101"))  # closed: its rows go
    await store.record_schedule(schedule("c4", "2102", ("m1", 7, date(2020, 4, 1))))
    (figures,) = await fund_forecasts(store, 2020, TODAY, city="2101")
    assert {m.month: m.forecast for m in figures.months if m.forecast} == {"2020-04": 140, "2020-05": 100}
    assert await pool.fetchval("SELECT count(*) FROM case_schedules WHERE case_id = 'c3'") == 0


async def test_spend_is_what_was_instructed_and_not_returned_in_the_year_on_postgresql(pool: asyncpg.Pool) -> None:
    for n, status, on, amount in ((1, "instructed", date(2020, 2, 3), 100), (2, "settled", date(2020, 2, 4), 50),
                                  (3, "returned", date(2020, 2, 5), 70), (4, "settled", date(2019, 12, 30), 90)):
        await disbursed(pool, n, status, on, amount)
    (figures,) = await fund_forecasts(PgStore(pool), 2020, TODAY, city="2101")
    assert figures.spend == 150 and {m.month: m.spend for m in figures.months if m.spend} == {"2020-02": 150}


async def test_fund_shortfall_names_the_month_the_budget_runs_out_on_postgresql(pool: asyncpg.Pool) -> None:
    """Spend so far plus the forecast passes the budget in August: one alert naming it; the same
    again raises nothing; a later, larger budget (arriving first) stands and ends the shortfall."""
    store = PgStore(pool)
    await disbursed(pool, 1, "settled", date(2020, 2, 3), 100)
    await store.record_schedule(schedule("c1", "2101", *((f"m{n}", 100, date(2020, n, 1)) for n in range(4, 13))))
    assert await store.set_budget(BudgetRow("2101", UI, 2020, 550, "b#1", T0))
    alert = await check_shortfall(store, "2101", UI, 2020, TODAY)
    assert alert is not None and alert.details["runs_out"] == "2020-08"
    assert await check_shortfall(store, "2101", UI, 2020, TODAY) is None
    rows = await pool.fetch("SELECT alert_id, kind, city FROM alerts")
    assert [tuple(r) for r in rows] == [("fund_shortfall:2101:ui_fund:2020:2020-08", "fund_shortfall", "2101")]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic LIKE '%alerts'") == 1
    assert await store.set_budget(BudgetRow("2101", UI, 2020, 5000, "b#3", T0 + timedelta(days=2)))
    assert not await store.set_budget(BudgetRow("2101", UI, 2020, 10, "b#2", T0 + timedelta(days=1)))
    assert [b.amount for b in await store.budgets("2101", UI, 2020)] == [5000]
    assert await check_shortfall(store, "2101", UI, 2020, TODAY) is None


async def test_forecast_view_is_within_the_city_supervisors_scope_and_reads_in_chinese(pool: asyncpg.Pool) -> None:
    store = PgStore(pool)
    await store.record_schedule(schedule("c1", "2101", ("m1", 150000, date(2020, 4, 1))))
    await store.record_schedule(schedule("c2", "2102", ("m1", 7, date(2020, 4, 1))))
    await store.set_budget(BudgetRow("2101", UI, 2020, 100000, "b#1", T0))
    # A secret of its own: under CI the console has no development default (console/service/tokens.py).
    console = Console(settings=get_settings(), pool=pool, secret="forecast-store-secret")
    shenyang = Principal(sub="s", role="city_supervisor", city="2101", exp=2**31)
    result = await forecast(console, shenyang, {"year": "2020", "today": TODAY.isoformat()})
    assert [(f["city"], f["budget"], f["forecast"], f["runs_out"]) for f in result["funds"]] == [("2101", 100000, 150000, "2020-04")]
    shown = text(result, "zh-CN")
    assert "沈阳" in shown and "失业保险基金" in shown and "预算 1,000.00" in shown and "预算用尽月份 2020-04" in shown
