"""The dashboard's forecast section (POLICY.md part 2 §22, static/forecast.js) in real headless
Chromium (as tests/e2e/test_console_browser_e2e.py), on a fresh migrated database holding spend
(disbursements instructed this year), an open case's schedule for the months left and a budget
that runs out: the city supervisor sees the budget, the totals and the run-out month in words, the
chart with its budget line; a screenshot is kept as test-artifacts/console-forecast-zh.png / -en.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timezone

import pytest

from activities.forecast_desk import fund_forecasts
from activities.pg_store import PgStore
from activities.store import BudgetRow
from console.service import Console
from console.service.labels import Lang
from console.service.labels import name as label
from contracts.cases import ScheduleLine, ScheduleRecord
from contracts.settings import get_settings
from tests.e2e._console_fixtures import CITY, SECRET, lang, logged_in, month, screenshot, served, yuan  # noqa: F401 — fixtures
from tests.e2e.helpers import fresh_pool

pytestmark = pytest.mark.e2e

UI = "ui_fund"
# static/forecast.js's words this test looks for, per language.
WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {"title": "资金预测（{year} 年）", "runs_out": "预算预计 {month} 用尽", "budget": "预算"},
    "en": {"title": "Fund forecast ({year})", "runs_out": "budget runs out in {month}", "budget": "budget"},
}


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    settings = get_settings()
    async with fresh_pool("jiuye_fcweb") as pool:
        yield Console(settings=settings, pool=pool, secret=SECRET)


async def seed(console: Console, today: date) -> str:
    """150,000 fen a month instructed so far this year, the same scheduled for the months left, a
    budget of nine months of it: the month it runs out."""
    for m in range(1, today.month):
        on = date(today.year, m, 5)
        await console.pool.execute(
            """INSERT INTO disbursements (ledger_key, case_id, payee, fund, city, amount_fen, due_on, status, since, attempt,
                                          instructed_on, version)
               VALUES ($1, 'c1', 'person/P1', $2, $3, 150000, $4, 'settled', $4, 1, $4, 1)""",
            f"c1|ui_benefit|month-{m}|payment|0", UI, CITY, on)
    store = PgStore(console.pool)
    await store.record_schedule(ScheduleRecord(case_id="c1", kind="unemployment_insurance", city=CITY, on=today, lines=[
        ScheduleLine(program="ui_benefit", period=f"month-{m}", amount=150000, fund=UI, due_on=max(today, date(today.year, m, 1)))
        for m in range(today.month, 13)]))
    await store.set_budget(BudgetRow(CITY, UI, today.year, 9 * 150000, "e2e#budget", datetime.now(timezone.utc)))
    (figures,) = await fund_forecasts(store, today.year, today, CITY, UI)
    assert figures.runs_out is not None
    return figures.runs_out


async def test_the_dashboard_shows_the_forecast_against_the_budget_and_the_month_it_runs_out(
        console: Console, served: str, lang: Lang) -> None:
    from playwright.async_api import expect

    today = date.today()
    runs_out = await seed(console, today)
    words = WORDS[lang]
    shot = screenshot("forecast", lang)
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await page.click("nav button[data-view=dashboard]")
        box = page.locator("#forecast-dashboard")
        await expect(box.locator("h2")).to_have_text(words["title"].format(year=today.year))
        fund = box.locator(".forecast-fund")
        await expect(fund.locator("h3")).to_have_text(f"{label('city', CITY, lang)} {CITY} · {label('fund', UI, lang)}")
        await expect(fund).to_contain_text(f"{words['budget']} {yuan(9 * 150000, lang)}")
        await expect(fund.locator("strong")).to_have_text(words["runs_out"].format(month=month(runs_out, lang)))
        await expect(fund.locator("svg line.budget-line")).to_have_count(1)
        await expect(fund.locator("svg rect.column-spend")).to_have_count(today.month - 1)
        await expect(fund.locator("svg rect.column-forecast")).to_have_count(12 - today.month + 1)
        await fund.scroll_into_view_if_needed()
        await page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot: {shot}")
