"""The console's parameter change proposals in real headless Chromium (as
tests/e2e/test_console_browser_e2e.py), on a fresh migrated PostgreSQL database: a Shenyang
supervisor's raise of the internship subsidy from a past date, previewed by the cases' own
workflows (app/parameter_preview.py over tests/scenarios/k1_corrections.jsonl), shows its
difference per month and fund and its corrections, in both languages; the proposer's approval is
refused with the four-eyes reason and a second supervisor's goes through. Screenshots:
test-artifacts/console-parameter-preview-zh.png / -en.png."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path

import pytest

from activities.pg_store import create_pool
from app.parameter_preview import live_previewer, preview
from console.service import Console, Principal, case_texts, labels
from console.service.labels import Lang
from console.service.proposals import attach_preview, propose
from contracts.settings import get_settings
from deploy.stack.postgres import drop_database, fresh_database
from policy.calendar import SHANGHAI, business_date
from policy.pack import load_pack
from tests.e2e._console_fixtures import SECRET, lang, logged_in, screenshot, served, yuan  # noqa: F401 — fixtures

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "k1_corrections.jsonl"
NAME = "internship.monthly_subsidy"
CITY = "2101"
# static/proposals.js's words this test looks for, per language.
WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {"approved": "已批准", "corrections": "追溯生效引起的更正"},
    "en": {"approved": "approved", "corrections": "Corrections the change causes"},
}


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    settings = get_settings()
    name = f"jiuye_proposals_ui_{uuid.uuid4().hex[:10]}"
    pool = await create_pool(await fresh_database(name, settings), 2)
    try:
        yield Console(settings=settings, pool=pool, secret=SECRET)
    finally:
        await pool.close()
        await drop_database(name, settings)


async def test_a_supervisor_sees_the_preview_of_a_change_and_a_second_one_approves_it(
        console: Console, served: str, lang: Lang) -> None:
    from playwright.async_api import expect

    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    value = int(load_pack().value(NAME, CITY)) + 30000
    made = await propose(console, alice, NAME, value, CITY, date(2020, 4, 1))
    shown = await preview(SCENARIO, NAME, value, CITY, date(2020, 4, 1), date(2020, 12, 31))
    await attach_preview(console, alice, made["id"], shown)
    first = shown["by_month_and_fund"][0]

    words = WORDS[lang]
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await page.click("nav button[data-view=proposals]")
        await page.click("#proposals-table tbody tr")
        detail = page.locator("#proposal-detail")
        await expect(detail.locator(".proposal-months").first).to_contain_text(yuan(first["difference"], lang))
        await expect(detail).to_contain_text(words["corrections"])
        # Each correction's entry and rule in the page's language (as a case's ledger gives them).
        correction = shown["corrections"][0]
        first_correction = detail.locator("li").first
        await expect(first_correction).to_contain_text(labels.name("ledger_entry", correction["entry"], lang))
        await expect(first_correction).to_contain_text(case_texts.read(correction["rule"], lang) or correction["rule"])
        await page.screenshot(path=str(screenshot("parameter-preview", lang)), full_page=True)
        await page.click("[data-decision=approve]")
        await expect(page.locator("#proposals-error")).to_contain_text("403")
    async with logged_in(served, "city_supervisor", CITY, "bob", lang) as page:
        await page.click("nav button[data-view=proposals]")
        await page.click("#proposals-table tbody tr")
        await page.click("[data-decision=approve]")
        await expect(page.locator("#proposals-table tbody td.col-status")).to_have_text(words["approved"])
    assert await console.pool.fetchval("SELECT count(*) FROM outbox WHERE value->>'type' = 'policy.parameter.changed'") == 1


# static/proposals.js's words for a preview computed from the live store (no cases yet: 0 events,
# no record read from Kafka).
LIVE_WORDS = {"zh-CN": "依据系统已存数据：案件已收到的 0 条事件（从 Kafka 读取 0 条记录）",
              "en": "From the live store: 0 event(s) the cases have seen (0 record(s) read from Kafka)"}


async def test_a_supervisor_computes_a_preview_from_the_live_store_in_the_console(
        console: Console, served: str, lang: Lang) -> None:
    """The proposals view's "compute preview" (POST /api/proposals/{id}/preview, with the engine
    `jiuye api` hands the console) stores the preview and shows where its events came from; on a
    database without cases it reaches none."""
    from playwright.async_api import expect

    console.previewer = live_previewer(console.settings)
    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    value = int(load_pack().value(NAME, CITY)) + 30000
    made = await propose(console, alice, NAME, value, CITY, date(2020, 4, 1))
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await page.click("nav button[data-view=proposals]")
        await page.click("#proposals-table tbody tr")
        await page.click("#proposal-compute")
        await expect(page.locator("#proposal-source")).to_contain_text(LIVE_WORDS[lang], timeout=60_000)
        await page.screenshot(path=str(screenshot("parameter-preview-live", lang)), full_page=True)
    stored = await console.pool.fetchrow("SELECT preview FROM parameter_proposals WHERE id = $1", made["id"])
    assert stored is not None and stored["preview"]["events"] == 0 and stored["preview"]["cases_touched"] == 0
    assert stored["preview"]["records_read"] == 0
    assert stored["preview"]["until"] == business_date(datetime.now(SHANGHAI)).isoformat()  # the default
    assert await console.pool.fetchval("SELECT count(*) FROM audit WHERE action = 'parameter.preview'") == 1
