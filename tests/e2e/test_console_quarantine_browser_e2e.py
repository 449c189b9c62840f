"""The case page's refused events (issue 18 item 4) in real headless Chromium, in Chinese (the
default) and English: a K5 placement refused by the person's running placement is shown on
that case — in its "quarantined events" with re-drive and dismiss, and on its timeline as a
`quarantine` entry — and the supervisor dismisses it with a reason from the page; a screenshot
is kept under test-artifacts/ (console-quarantine-zh.png / -en.png)."""

from __future__ import annotations

import pytest

from console.service.labels import Lang
from console.service.labels import name as label
from tests.e2e._console_fixtures import CITY, console, lang, logged_in, screenshot, served  # noqa: F401 — fixtures
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.e2e.test_console_quarantine_e2e import Placed

pytestmark = pytest.mark.e2e


async def test_a_refused_event_is_dismissed_from_the_case_page(system: System, served: str, lang: Lang) -> None:
    from playwright.async_api import expect

    p = Placed(system, "QB")
    await p.refused_second_placement()

    async def quarantined() -> int:
        found = await system.pool.fetchval("SELECT id FROM quarantined_events WHERE case_id = $1", p.first_case)
        assert found is not None, "not quarantined yet"
        return int(found)

    quarantine_id = await assert_eventually(quarantined, timeout=60)
    shot = screenshot("quarantine", lang)
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await page.fill("#case-filter input[name=person]", p.id)
        await page.click("#find")
        await page.click(f"a.case-link:text-is('{p.first_case}')")
        await expect(page.locator("#case-title")).to_have_text(p.first_case)
        card = page.locator(f"#quarantined [data-quarantine='{quarantine_id}']")
        await expect(card).to_contain_text(label("quarantine_status", "quarantined", lang))
        await expect(card).to_contain_text("still placed")
        entry = page.locator("#timeline li.quarantine")
        await expect(entry.locator(".tag")).to_have_text(label("entry_type", "quarantine", lang))
        await expect(entry).to_contain_text({"zh-CN": "公益性岗位安置被拒绝", "en": "welfare_post.placed refused"}[lang])
        await card.locator("input.quarantine-reason").fill("the employer filed it twice")
        await card.locator("button.dismiss").click()
        await expect(card).to_contain_text(label("quarantine_status", "dismissed", lang), timeout=20_000)
        await expect(card).to_contain_text("alice")
        await expect(page.locator("#timeline")).to_contain_text({"zh-CN": "市级监管alice：驳回隔离事件", "en": "quarantine.dismiss by alice"}[lang])
        await page.screenshot(path=str(shot), full_page=True)

    assert await system.pool.fetchval("SELECT decided_by FROM quarantined_events WHERE id = $1", quarantine_id) == "alice"
    print(f"\nscreenshot: {shot}")
