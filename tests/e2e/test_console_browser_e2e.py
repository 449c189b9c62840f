"""The console's web page in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright's Python package through `executable_path`; no browser is downloaded): sign in with a
token, find a 低保 taper case by person, open its timeline, decide its task, switch language, and
keep a screenshot under test-artifacts/ — in Chinese (the default) and in English. In Chinese the
case page reads in Chinese throughout: the timeline's notes and rules (console/service/case_texts.py)
and the keys of the case's details.

The console is served by uvicorn on a free port inside this test's event loop, on the test's
database and Temporal namespace.
"""

from __future__ import annotations

import pytest

from console.service.labels import LANGS, Lang
from console.service.labels import name as label
from tests.e2e._console_fixtures import (  # noqa: F401 — fixtures
    CITY,
    DibaoPerson,
    console,
    lang,
    logged_in,
    open_task,
    screenshot,
    served,
    text,
    token,
    who,
    yuan,
)
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually

pytestmark = pytest.mark.e2e

# What the timeline reads in each language: the case's recorded English, and its Chinese reading.
TIMELINE: dict[str, dict[str, str]] = {
    "zh-CN": {"task": "生成任务：低保渐退期限决定", "rule": "§18：由经办人员在 dibao.taper_months_min 至 max 个月之间决定渐退期",
              "decided": "alice决定渐退9个月"},
    "en": {"task": "task raised: taper_decision", "rule": "§18: a caseworker decides dibao.taper_months_min..max months",
           "decided": "taper of 9 months decided by alice"},
}

async def test_supervisor_signs_in_finds_a_case_opens_its_timeline_and_decides_its_task(system: System, served: str, lang: Lang) -> None:
    from playwright.async_api import expect

    p = DibaoPerson(system, "B1")
    case_id = await p.granted(months_ago=3)
    await p.employed(days_ago=2)
    task_id = await open_task(system, case_id)

    shot = screenshot("browser", lang)
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await expect(page.locator("#who")).to_contain_text(who(lang, "alice", "city_supervisor", CITY))
        # The filters are choices: a city token is offered its own city only, by its name.
        await expect(page.locator("#case-filter select[name=city] option")).to_have_text([label("city", CITY, lang)])

        await page.fill("#case-filter input[name=person]", p.id)
        await page.click("#find")
        await expect(page.locator("#case-total")).to_contain_text(text(lang, "cases.one"))
        await page.click(f"a.case-link:text-is('{case_id}')")

        await expect(page.locator("#case-title")).to_have_text(case_id)
        timeline = page.locator("#timeline")
        await expect(timeline).to_contain_text(TIMELINE[lang]["task"])
        await expect(timeline.locator("li.task .rule").first).to_contain_text(TIMELINE[lang]["rule"])
        # The grant's note with its values: an amount in 元, a month as people write it.
        year, month = (int(part) for part in case_id.rsplit("/", 1)[1].split("-"))
        await expect(timeline).to_contain_text({"zh-CN": f"自{year}年{month}月起领取低保每月 500.00 元",
                                                "en": f"receiving 低保 50000 fen a month from {year}-{month:02d}"}[lang])
        await expect(page.locator("#case-details dt").first).to_have_text(label("detail", "person_id", lang))
        # An amount among the details in yuan (labels.MONEY_DETAILS).
        await expect(page.locator("#case-details")).to_contain_text(yuan(50000, lang))
        await expect(timeline).to_contain_text(text(lang, "timeline.event", source=p.source, id=f"{p.id}-2"))
        await expect(timeline.locator("li.task .tag").first).to_have_text(label("entry_type", "task", lang))

        card = page.locator(f".task-card[data-task='{task_id}']")
        # The task's facts by their names, its amount in yuan.
        await expect(card.locator(".task-facts dt").first).to_have_text(label("detail", "months_max", lang))
        await expect(card.locator(".task-facts")).to_contain_text(yuan(50000, lang))
        await card.locator("textarea.decision").fill('{"months": 13}')
        await card.locator("button.decide").click()
        await expect(card.locator(".error")).to_contain_text("3..12")
        await card.locator("textarea.decision").fill('{"months": 9}')
        await card.locator("button.decide").click()
        await expect(card.locator(".task-state")).to_have_text(label("task_state", "decided", lang))
        # The page reloads the case: the decision is now on the timeline.
        await expect(timeline).to_contain_text(TIMELINE[lang]["decided"], timeout=20_000)
        await page.screenshot(path=str(shot), full_page=True)
        # The case page alone, for the hand-over (test-artifacts/console-case-zh.png / -en.png).
        await page.locator("#view-case").screenshot(path=str(screenshot("case", lang)))
        # Amounts are formatted from the integer fen, never through a float.
        for fen in (5, 100, -123_456_789, 9_007_199_254_740_993):
            assert await page.evaluate(f"I18N.yuan({fen}n)") == yuan(fen, lang)
        # The switch: the other language, kept across the reload, still signed in.
        other: Lang = next(x for x in LANGS if x != lang)
        await page.click("#lang")
        await expect(page.locator("#who")).to_contain_text(who(other, "alice", "city_supervisor", CITY))
        assert await page.evaluate("localStorage.getItem('jiuye-lang')") == other

    async def decided() -> None:
        assert await system.pool.fetchval("SELECT decided_by FROM tasks WHERE task_id = $1", task_id) == "alice"

    await assert_eventually(decided, timeout=30)
    print(f"\nscreenshot: {shot}")
