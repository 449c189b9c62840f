"""The console's web page for the kinds of POLICY.md part 2, in real headless Chromium on the real
stack, in Chinese and in English: the province's task inbox with eleven incubators' `provincial_selection` tasks, ten
approved, the eleventh refused by the §12 slot limit and the refusal shown on its card; the
incubator's case page; and the Alerts view with a `headcount_drop` alert in words.

The headcount_drop alert is written through the store's own `raise_alert` (the path every alert
takes) with the fields of `policy.headcount_drop.Comparison`: M2's stream job, being built
separately, is not what this test is about.
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from activities.pg_store import PgStore
from activities.store import alert_event
from console.service.labels import Lang
from console.service.labels import name as label
from contracts import kinds
from contracts.cases import AlertRecord
from policy.calendar import add_months, month_of
from testkit.events import cloud_event, line
from tests.e2e._console_fixtures import console, day, lang, logged_in, month, screenshot, served, text, token, who, yuan  # noqa: F401
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

INCUBATORS = 11
APPROVE = {"approve": True, "reason": "selected by the provincial committee (e2e)"}


async def _apply(system: System) -> list[str]:
    """Eleven accredited incubators apply for this year's provincial subsidy; their task ids."""
    today = business_today()
    lines = []
    for n in range(INCUBATORS):
        incubator, city = f"E2E{system.tag}I{n:02d}", f"21{n % 14 + 1:02d}"
        subject = f"incubator/{incubator}"
        lines.append(line(cloud_event(source=f"hrss/{city}", id=f"{incubator}-1", type="incubator.accredited", subject=subject,
                                      on=today - timedelta(days=60),
                                      data={"incubator_id": incubator, "city": city, "operator": "government",
                                            "on": (today - timedelta(days=60)).isoformat()})))
        lines.append(line(cloud_event(source=f"hrss/{city}", id=f"{incubator}-2", type="application.submitted", subject=subject,
                                      on=today - timedelta(days=1),
                                      data={"program": "incubator_provincial", "applicant": incubator,
                                            "on": (today - timedelta(days=1)).isoformat(), "details": {"year": today.year}})))
    await system.emit(lines, name="incubators.jsonl")

    async def raised() -> list[str]:
        rows = await system.pool.fetch(
            "SELECT task_id FROM tasks WHERE kind = 'provincial_selection' AND state = 'open' ORDER BY case_id")
        assert len(rows) == INCUBATORS, f"{len(rows)} provincial_selection tasks open"
        return [r["task_id"] for r in rows]

    return await assert_eventually(raised, timeout=180)


async def test_the_eleventh_provincial_approval_is_refused_on_its_card(system: System, served: str, lang: Lang) -> None:
    from playwright.async_api import expect

    tasks = await _apply(system)
    province = {"Authorization": f"Bearer {token('province', None, 'pat')}"}
    async with httpx.AsyncClient(base_url=served, headers=province, timeout=60) as http:
        for task_id in tasks[:-1]:
            reply = await http.post(f"/api/tasks/{task_id}/decide", json={"decision": APPROVE})
            assert reply.status_code == 200, reply.text
    last = tasks[-1]
    case_id = last.rsplit("/task/", 1)[0]
    today = business_today()
    last_month = month_of(add_months(today, -1))
    before = month_of(add_months(today, -2))
    store = PgStore(system.pool)
    alert = AlertRecord(alert_id=f"headcount_drop/E2E{system.tag}E1/{last_month}", kind="headcount_drop", city="2103", on_date=today,
                        details={"enterprise_id": f"E2E{system.tag}E1", "previous_month": before, "previous_headcount": 48,
                                 "month": last_month, "headcount": 24})
    assert await store.raise_alert(alert, alert_event(alert))

    shot = screenshot("part2-browser", lang)
    async with logged_in(served, "province", None, "pat", lang) as page:
        await expect(page.locator("#who")).to_contain_text(who(lang, "pat", "province", None))

        await page.click("nav button[data-view=tasks]")
        await expect(page.locator("#task-kind")).to_contain_text(
            text(lang, "tasks.kind_count", name=label("task_type", "provincial_selection", lang), open=1))
        await page.select_option("#task-kind", "provincial_selection")
        await page.click("#find-tasks")
        card = page.locator(f".task-card[data-task='{last}']")
        await expect(card).to_contain_text(text(lang, "task.province"))
        await expect(card.locator(".task-facts")).to_contain_text(str(today.year))
        await card.locator("textarea.decision").fill('{"approve": true}')
        await card.locator("button.decide").click()
        await expect(card.locator(".refusal")).to_contain_text("reason must say why")
        await card.locator("textarea.decision").fill(
            '{"approve": true, "reason": "the eleventh, against the limit (e2e)"}')
        await card.locator("button.decide").click()
        await expect(card.locator(".refusal")).to_contain_text(f"provincial slots of {today.year} are taken")
        await expect(card.locator(".task-state")).to_have_text(label("task_state", "open", lang))

        await card.locator(f"a:text-is('{case_id}')").click()
        await expect(page.locator("#case-title")).to_have_text(case_id)
        await expect(page.locator("#case-facts")).to_contain_text(label("kind", kinds.INCUBATOR_SUBSIDY, lang))
        await expect(page.locator("#case-details")).to_contain_text(f"{label('detail', 'year', lang)}{today.year}")
        await expect(page.locator("#case-details")).to_contain_text(f"{label('detail', 'provincial', lang)}applied")
        await expect(page.locator("#timeline")).to_contain_text(
            {"zh-CN": "生成任务：省级孵化基地评选", "en": "task raised: provincial_selection"}[lang])

        await page.click("nav button[data-view=alerts]")
        await page.select_option("#alert-filter select[name=kind]", "headcount_drop")
        await page.click("#find-alerts")
        await expect(page.locator("#alert-table")).to_contain_text(text(
            lang, "alert.headcount_drop", enterprise=f"E2E{system.tag}E1", before=month(before, lang), before_n=48,
            month=month(last_month, lang), n=24))
        await expect(page.locator("#alert-table")).to_contain_text(label("city", "2103", lang))
        # The dashboard's chart has a row for each of Liaoning's 14 cities, by name.
        await page.click("nav button[data-view=dashboard]")
        for code in ("2101", "2107", "2114"):
            await expect(page.locator("#chart-cities svg")).to_contain_text(f"{label('city', code, lang)} {code}")
        await page.screenshot(path=str(shot), full_page=True)

    approved = await system.pool.fetchval("SELECT count(*) FROM tasks WHERE kind = 'provincial_selection' AND state = 'decided'")
    assert approved == INCUBATORS - 1
    assert await system.pool.fetchval("SELECT state FROM tasks WHERE task_id = $1", last) == "open"
    refused = await system.pool.fetchval(
        "SELECT count(*) FROM audit WHERE action = 'task.decide.refused' AND case_id = $1", case_id)
    assert refused == 2
    print(f"\nscreenshot: {shot}")


async def test_a_loan_case_page_shows_its_correction_and_its_guarantee_claim_is_decided_on_its_card(
        system: System, served: str, lang: Lang) -> None:
    # K13 on the real stack (as tests/e2e/test_startup_loan_e2e.py drives it): a bank's report
    # paid, the same quarter's corrected report an overpayment row, a default a guarantee_claim.
    from playwright.async_api import expect

    from policy.startup_loan import payee
    from tests.e2e.test_startup_loan_e2e import Borrower, quarter

    b = Borrower(system, "K13UI")
    today = business_today()
    granted = today - timedelta(days=200)
    loan = f"{b.id}-L1"
    case_id = f"loan/{b.bank}/{loan}"
    start, end = granted, granted + timedelta(days=89)

    def report(interest: int, on: date) -> bytes:
        return b.event("loan.interest_charged", on, {"loan_id": loan, "period": quarter(start), "from": start.isoformat(),
                                                     "to": end.isoformat(), "interest": interest})

    await system.emit([b.grant(loan, granted)], name="loan.jsonl")
    await system.emit([report(121_250, end + timedelta(days=2))], name="report.jsonl")

    async def paid() -> None:
        assert await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", case_id) == 1

    await assert_eventually(paid, timeout=120)
    await system.emit([report(97_000, end + timedelta(days=9))], name="corrected.jsonl")
    cause = f"{b.source}#{b.id}-{b.n}"
    await system.emit([b.event("loan.defaulted", today, {"loan_id": loan, "on": today.isoformat()})], name="default.jsonl")

    async def claim_raised() -> str:
        rows = await system.pool.fetch("SELECT task_id, state FROM tasks WHERE case_id = $1 AND kind = 'guarantee_claim'", case_id)
        assert [r["state"] for r in rows] == ["open"]
        assert await system.pool.fetchval(
            "SELECT count(*) FROM ledger WHERE case_id = $1 AND entry = 'overpayment'", case_id) == 1
        return str(rows[0]["task_id"])

    task_id = await assert_eventually(claim_raised, timeout=120)

    shot = screenshot("part2-loan", lang)
    async with logged_in(served, "city_supervisor", "2101", "lin", lang) as page:
        await page.select_option("#case-filter select[name=kind]", kinds.STARTUP_LOAN_INTEREST)
        await page.fill("#case-filter input[name=person]", b.id)
        await page.click("#find")
        await page.click(f"a.case-link:text-is('{case_id}')")
        await expect(page.locator("#case-title")).to_have_text(case_id)
        await expect(page.locator("#case-details")).to_contain_text(f"{label('detail', 'principal', lang)}{yuan(15_000_000, lang)}")
        await expect(page.locator("#case-details")).to_contain_text(f"{label('detail', 'bank', lang)}{payee(b.bank)}")
        ledger = page.locator("#payments")
        await expect(ledger.locator("tr.entry-payment")).to_have_count(1)
        overpaid = ledger.locator("tr.entry-overpayment")
        await expect(overpaid).to_contain_text(f"{quarter(start)} ← {cause}")
        await expect(overpaid.locator("td.entry")).to_have_text(label("ledger_entry", "overpayment", lang))
        await expect(page.locator("#corrections")).to_have_text(text(lang, "ledger.corrections", n=1))
        # Net owed counts the overpayment against the payment; paid is the case's own figure.
        fetched = await system.pool.fetch("SELECT entry, amount_fen FROM ledger WHERE case_id = $1", case_id)
        rows: dict[str, int] = {r["entry"]: r["amount_fen"] for r in fetched}
        owed = rows["payment"] - rows["overpayment"]
        await expect(page.locator("#paid")).to_have_text(
            text(lang, "ledger.owed_paid", owed=yuan(owed, lang), paid=yuan(rows["payment"], lang)))
        await expect(overpaid.locator("td.amount")).to_have_text(yuan(rows["overpayment"], lang))
        await expect(page.locator("#timeline li.correction")).to_contain_text(
            {"zh-CN": f"创业担保贷款贴息{quarter(start)}的多发", "en": f"overpayment for loan_interest_subsidy {quarter(start)}"}[lang])

        card = page.locator(f".task-card[data-task='{task_id}']")
        await expect(card.locator(".task-facts")).to_contain_text(loan)
        await expect(card.locator(".task-facts")).to_contain_text(day(today, lang))
        await card.locator("textarea.decision").fill('{"approve": false, "reason": "贷款银行未尽调 (e2e)"}')
        await card.locator("button.decide").click()
        await expect(card.locator(".task-state")).to_have_text(label("task_state", "decided", lang))
        await expect(page.locator("#timeline")).to_contain_text(
            {"zh-CN": "担保代偿不予批准（lin）", "en": "guarantee claim denied by lin"}[lang], timeout=20_000)
        await page.screenshot(path=str(shot), full_page=True)

    async def decided() -> None:
        assert await system.pool.fetchval("SELECT decided_by FROM tasks WHERE task_id = $1", task_id) == "lin"

    await assert_eventually(decided, timeout=60)
