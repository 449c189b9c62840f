"""The console's web page in real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright's Python package through `executable_path`; no browser is downloaded): sign in with a
token, find a 低保 taper case by person, open its timeline, decide its task, and keep a
screenshot under test-artifacts/.

The console is served by uvicorn on a free port inside this test's event loop, on the test's
database and Temporal namespace.
"""

from __future__ import annotations

import pytest

from tests.e2e._console_fixtures import ARTIFACTS, CITY, DibaoPerson, console, logged_in, open_task, served, token  # noqa: F401 — fixtures
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually

pytestmark = pytest.mark.e2e

async def test_supervisor_signs_in_finds_a_case_opens_its_timeline_and_decides_its_task(system: System, served: str) -> None:
    from playwright.async_api import expect

    p = DibaoPerson(system, "B1")
    case_id = await p.granted(months_ago=3)
    await p.employed(days_ago=2)
    task_id = await open_task(system, case_id)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "console-browser.png"
    async with logged_in(served, "city_supervisor", CITY, "alice") as page:
        await expect(page.locator("#who")).to_contain_text("alice · city_supervisor · city 2101")

        await page.fill("#case-filter input[name=person]", p.id)
        await page.click("#find")
        await expect(page.locator("#case-total")).to_contain_text("1 case(s)")
        await page.click(f"a.case-link:text-is('{case_id}')")

        await expect(page.locator("#case-title")).to_have_text(case_id)
        timeline = page.locator("#timeline")
        await expect(timeline).to_contain_text("task raised: taper_decision")
        await expect(timeline).to_contain_text(f"event {p.source} #{p.id}-2")

        card = page.locator(f".task-card[data-task='{task_id}']")
        await card.locator("textarea.decision").fill('{"months": 13}')
        await card.locator("button.decide").click()
        await expect(card.locator(".error")).to_contain_text("3..12")
        await card.locator("textarea.decision").fill('{"months": 9}')
        await card.locator("button.decide").click()
        await expect(card.locator(".task-state")).to_have_text("decided")
        # The page reloads the case: the decision is now on the timeline.
        await expect(timeline).to_contain_text("taper of 9 months decided by alice", timeout=20_000)
        await page.screenshot(path=str(shot), full_page=True)

    async def decided() -> None:
        assert await system.pool.fetchval("SELECT decided_by FROM tasks WHERE task_id = $1", task_id) == "alice"

    await assert_eventually(decided, timeout=30)
    print(f"\nscreenshot: {shot}")
