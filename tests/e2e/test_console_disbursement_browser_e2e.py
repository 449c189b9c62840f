"""The console's disbursement views in real headless Chromium (as tests/e2e/test_console_browser_e2e.py):
a payment the treasury stand-in (`jiuye treasury-sim`) returned because the payee's account is
closed (its number ends in 0) shows in the returned-payments view with its account masked, the
reconciliation counts it returned, the dashboard shows it paid and not settled, in both languages
(the words from static/disbursement.js's catalog, amounts as I18N.yuan writes them); a screenshot
is kept as test-artifacts/console-returned-payments-zh.png / -en.png."""

from __future__ import annotations

import pytest

from console.service.labels import Lang
from policy import disbursement as rules
from tests.e2e._console_fixtures import CITY, console, lang, logged_in, screenshot, served, yuan  # noqa: F401 — fixtures
from tests.e2e._disbursement_fixtures import Payee, desk_and_treasury
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

# static/disbursement.js's words this test looks for, per language.
WORDS: dict[str, dict[str, str]] = {
    "zh-CN": {"returned": "已退回", "paid": "已发放", "settled": "已结算", "next_account": "收款人变更账户后重新发送"},
    "en": {"returned": "returned", "paid": "paid", "settled": "settled", "next_account": "account changes"},
}


async def test_a_supervisor_sees_a_returned_payment_in_the_returned_payments_view(system: System, served: str,
                                                                                    lang: Lang) -> None:
    from playwright.async_api import expect

    async with desk_and_treasury(system) as sim:
        payee = Payee(system, sim, name="PB")
        await payee.account("0")
        await payee.paid()
        await payee.stands("returned", 1)

    words = WORDS[lang]
    shot = screenshot("returned-payments", lang)
    async with logged_in(served, "city_supervisor", CITY, "alice", lang) as page:
        await expect(page.locator("#who")).to_contain_text("alice")
        await page.click("nav button[data-view=disbursement]")
        # The city filter is a choice of the cities by their names, as the other views' filters.
        await expect(page.locator("#disbursement-filter select[name=city] option")).to_have_count(1)
        await page.click("[data-disbursement=returned]")
        row = page.locator("#disbursement-table tbody tr", has_text=payee.key)
        await expect(row).to_have_count(1)
        await expect(row.locator("td.col-account")).to_have_text("****" + payee.number("0")[-4:])
        await expect(row.locator("td.col-attempts")).to_have_text("1")
        await expect(row.locator("td.col-last_instruction")).to_have_text(rules.instruction_id(payee.key, 1))
        await expect(row.locator("td.col-next")).to_contain_text(words["next_account"])
        await expect(row).not_to_contain_text(payee.number("0"))
        await page.screenshot(path=str(shot), full_page=True)

        await page.click("[data-disbursement=reconciliation]")
        await expect(page.locator("#disbursement-totals")).to_contain_text(f"{words['returned']} 1")
        await page.click("nav button[data-view=dashboard]")
        await expect(page.locator("#disbursement-dashboard")).to_contain_text(
            f"{words['paid']} {yuan(120000, lang)} / {words['settled']} {yuan(0, lang)}")
    print(f"\nscreenshot: {shot}")
