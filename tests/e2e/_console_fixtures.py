"""Shared by the console's end-to-end tests: the console app on the test's system (same
database, Temporal namespace and client), tokens, a person with 低保 cases in city 2101, and for
the browser tests the console served by uvicorn, a headless Chromium page signed in to it in
either language (`lang`: zh-CN, the default, and en), and what the page writes in each: amounts,
dates and months formatted as console/api/static/i18n.js does, its own words, and the names of
codes from console.service.labels."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from console.api.app import create_app
from console.service import Console
from console.service.labels import LANGS, Lang
from console.service.labels import name as label
from console.service.tokens import issue
from contracts import kinds
from policy.calendar import add_months
from testkit.processes import free_port
from tests.e2e.conftest import System
from tests.e2e.helpers import Person, assert_eventually

if TYPE_CHECKING:
    from playwright.async_api import Page

SECRET = "console-e2e-secret"
CITY = "2101"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# The page's words the browser tests look for, per language (console/api/static/console-text.js).
TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {"who": "{sub} · {role} · {scope}", "who.city": "{name}（{code}）", "who.all": "全省各市",
              "cases.one": "共 1 件", "timeline.event": "事件 {source} #{id}", "task.province": "省级",
              "tasks.kind_count": "{name}（{open} 件待办）", "ledger.corrections": "{n} 笔更正",
              "ledger.owed_paid": "（净应付 {owed}，已付 {paid}）",
              "alert.headcount_drop": "企业 {enterprise}：{before} 参保 {before_n} 人 → {month} 参保 {n} 人"},
    "en": {"who": "{sub} · {role} · {scope}", "who.city": "{name} ({code})", "who.all": "all cities",
           "cases.one": "1 case(s)", "timeline.event": "event {source} #{id}", "task.province": "province",
           "tasks.kind_count": "{name} ({open} open)", "ledger.corrections": "{n} correction(s)",
           "ledger.owed_paid": "(owed {owed} net, paid {paid})",
           "alert.headcount_drop": "enterprise {enterprise}: {before} {before_n} → {month} {n} insured persons"},
}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


def text(lang: Lang, key: str, **params: object) -> str:
    return TEXT[lang][key].format(**params)


def who(lang: Lang, sub: str, role: str, city: str | None) -> str:
    scope = text(lang, "who.city", name=label("city", city, lang), code=city) if city else text(lang, "who.all")
    return text(lang, "who", sub=sub, role=label("role", role, lang), scope=scope)


def yuan(fen: int, lang: Lang) -> str:
    """An amount as the page writes it: 1,234.50 元 / ¥1,234.50."""
    amount = f"{abs(fen) // 100:,}.{abs(fen) % 100:02d}"
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{amount}" if lang == "en" else f"{sign}{amount} 元"


def day(on: date, lang: Lang) -> str:
    """A date as the page writes it: 2020年3月5日 / 5 March 2020."""
    return f"{on.day} {_MONTHS_EN[on.month - 1]} {on.year}" if lang == "en" else f"{on.year}年{on.month}月{on.day}日"


def month(text_: str, lang: Lang) -> str:
    """A month (YYYY-MM) as the page writes it: 2020年3月 / March 2020."""
    year, number = (int(x) for x in text_.split("-"))
    return f"{_MONTHS_EN[number - 1]} {year}" if lang == "en" else f"{year}年{number}月"


def screenshot(name: str, lang: Lang) -> Path:
    """test-artifacts/console-<name>-zh.png or -en.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"console-{name}-{lang.split('-')[0]}.png"


@pytest.fixture(params=LANGS)
def lang(request: pytest.FixtureRequest) -> Lang:
    """Each browser test runs in both languages."""
    chosen: Lang = request.param
    return chosen


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


@pytest.fixture
async def served(console: Console) -> AsyncIterator[str]:
    """The console app served by uvicorn on a free port inside the test's event loop."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(console.settings, console), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def logged_in(served: str, role: str, city: str | None = None, sub: str = "tester",
                    lang: Lang = "zh-CN") -> AsyncIterator[Page]:
    """A page of Debian's headless Chromium (driven by Playwright through `executable_path`; no
    browser is downloaded) on the served console in `lang` (`?lang=`), signed in with a token of
    `role` for `city` as `sub`. The browser closes when the block ends."""
    from playwright.async_api import async_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (apt-get install chromium chromium-driver; deploy/setup.sh does it)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            await page.goto(f"{served}/?lang={lang}")
            await page.fill("#token", token(role, city, sub))
            await page.click("#login-button")
            yield page
        finally:
            await browser.close()


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
