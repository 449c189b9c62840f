"""The preview of a parameter change equals what the cases then pay, on the real stack
(POLICY.md part 2, "Parameter changes with a preview and two pairs of eyes"): an internship
emitted through Kafka is paid its completed months by the worker into PostgreSQL; a supervisor
proposes raising the city's monthly subsidy from the day it started (a past effective date), the
preview runs the same events offline through the cases' own workflows (app/parameter_preview.py),
a second supervisor approves, the approval's `policy.parameter.changed` goes out through the
outbox relay, the intake and Temporal to the case, and the ledger's difference per month and fund
— and the corrections written — are the preview's. Dates are real (as tests/e2e/test_intake_e2e.py)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from app.parameter_preview import LIVE_SCENARIO, difference, live_previewer, preview
from console.api.app import create_app
from console.service import Conflict, Console, Principal
from console.service.proposals import attach_preview, decide, propose
from console.service.tokens import issue
from contracts.topics import TOPIC_OF_TYPE
from policy.calendar import SHANGHAI
from testkit.events import line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today
from tests.e2e.test_intake_e2e import CITY, MONTHS_AGO, Internship

pytestmark = pytest.mark.e2e

NAME = "internship.monthly_subsidy"


async def worth(system: System, case_id: str) -> dict[tuple[str, str], int]:
    rows = await system.pool.fetch(
        """SELECT to_char(due_on, 'YYYY-MM') AS month, fund,
                  sum(CASE entry WHEN 'overpayment' THEN -amount_fen WHEN 'deduction' THEN 0 ELSE amount_fen END) AS fen
             FROM ledger WHERE case_id = $1 GROUP BY 1, 2""", case_id)
    return {(r["month"], r["fund"]): int(r["fen"]) for r in rows}


async def test_preview_equals_what_the_cases_then_pay_on_the_real_stack(system: System) -> None:
    internship = Internship(system, "PV")
    signed = internship.signed()
    await system.emit([line(signed)])

    async def paid() -> dict[tuple[str, str], int]:
        count = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", internship.case_id)
        assert count == MONTHS_AGO, f"{count} of {MONTHS_AGO} completed months paid so far"
        return await worth(system, internship.case_id)

    before = await assert_eventually(paid, timeout=90)

    console = Console(settings=system.settings, pool=system.pool, client=system.client, secret="e2e")
    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    bob = Principal(sub="bob", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    value = internship.monthly + 10000
    made = await propose(console, alice, NAME, value, CITY, internship.starts_on)
    scenario = system.folder / "seen.jsonl"
    scenario.write_bytes(line(signed) + b"\n")
    shown = await preview(scenario, NAME, value, CITY, internship.starts_on, internship.today, system.pack,
                          announced_at=datetime.now(SHANGHAI))
    assert shown["cases_touched"] == 1 and len(shown["corrections"]) == MONTHS_AGO, shown
    await attach_preview(console, alice, made["id"], shown)
    await decide(console, bob, made["id"], "approve")

    async def corrected() -> list[dict[str, Any]]:
        rows = await system.pool.fetch(
            "SELECT period, entry, amount_fen, corrects, rule FROM ledger WHERE case_id = $1 AND entry <> 'payment' ORDER BY seq",
            internship.case_id)
        assert len(rows) == MONTHS_AGO, f"{len(rows)} corrections so far"
        return [dict(r) for r in rows]

    written = await assert_eventually(corrected, timeout=90)
    after = await worth(system, internship.case_id)
    assert difference(before, after) == shown["by_month_and_fund"]
    assert sorted((r["period"], r["entry"], r["amount_fen"], r["corrects"], r["rule"]) for r in written) == \
        sorted((c["period"], c["entry"], c["amount"], c["corrects"], c["rule"]) for c in shown["corrections"])


# What a preview says about the cases (its other fields say where it came from and when).
VERDICT = ("cases_touched", "cases_seen", "touched_cases", "by_month_and_fund", "total_difference", "corrections", "sample")


async def test_preview_from_the_live_store_equals_the_file_preview_and_what_the_cases_then_pay(system: System) -> None:
    """The console's "compute preview" (POST /api/proposals/{id}/preview, the engine `jiuye api`
    hands the console) rebuilds the cases' events from the inbox and Kafka, with no file: its
    preview is the file-based one over the same events, is scoped and audited, and the ledger
    after approval differs from before exactly by it."""
    internship = Internship(system, "LV")
    signed = internship.signed()
    await system.emit([line(signed)])

    async def paid() -> dict[tuple[str, str], int]:
        count = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE case_id = $1", internship.case_id)
        assert count == MONTHS_AGO, f"{count} of {MONTHS_AGO} completed months paid so far"
        return await worth(system, internship.case_id)

    before = await assert_eventually(paid, timeout=90)

    console = Console(settings=system.settings, pool=system.pool, client=system.client, secret="e2e",
                      previewer=live_previewer(system.settings, system.pack))
    alice = Principal(sub="alice", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    bob = Principal(sub="bob", role="city_supervisor", city=CITY, exp=int(time.time()) + 3600)
    value = internship.monthly + 10000
    made = await propose(console, alice, NAME, value, CITY, internship.starts_on)
    scenario = system.folder / "seen.jsonl"
    scenario.write_bytes(line(signed) + b"\n")
    from_file = await preview(scenario, NAME, value, CITY, internship.starts_on, internship.today, system.pack,
                              announced_at=datetime.now(SHANGHAI))

    def bearer(sub: str, role: str, city: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue('e2e', sub=sub, role=role, city=city)}"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(system.settings, console)),
                                 base_url="http://console") as api:
        url = f"/api/proposals/{made['id']}/preview"
        other_city = await api.post(url, json={}, headers=bearer("carol", "city_supervisor", "2102"))
        auditor = await api.post(url, json={}, headers=bearer("dave", "auditor", None))
        response = await api.post(url, json={"until": internship.today.isoformat()},
                                  headers=bearer("alice", "city_supervisor", CITY))
    assert (other_city.status_code, auditor.status_code) == (404, 403), (other_city.text, auditor.text)
    assert response.status_code == 200, response.text
    live = response.json()["preview"]
    assert (live["scenario"], live["events"]) == (LIVE_SCENARIO, 1), live
    assert {k: live[k] for k in VERDICT} == {k: from_file[k] for k in VERDICT}
    assert live["cases_touched"] == 1 and len(live["corrections"]) == MONTHS_AGO, live
    audited = await system.pool.fetch("SELECT actor, details FROM audit WHERE action = 'parameter.preview'")
    assert [(r["actor"], r["details"]["proposal_id"]) for r in audited] == [("alice", made["id"])]

    await decide(console, bob, made["id"], "approve")

    async def corrected() -> list[dict[str, Any]]:
        rows = await system.pool.fetch(
            "SELECT period, entry, amount_fen, corrects, rule FROM ledger WHERE case_id = $1 AND entry <> 'payment' ORDER BY seq",
            internship.case_id)
        assert len(rows) == MONTHS_AGO, f"{len(rows)} corrections so far"
        return [dict(r) for r in rows]

    written = await assert_eventually(corrected, timeout=90)
    after = await worth(system, internship.case_id)
    assert difference(before, after) == live["by_month_and_fund"]
    assert sorted((r["period"], r["entry"], r["amount_fen"], r["corrects"], r["rule"]) for r in written) == \
        sorted((c["period"], c["entry"], c["amount"], c["corrects"], c["rule"]) for c in live["corrections"])


async def test_a_preview_from_the_live_store_refuses_when_kafka_no_longer_has_an_event_the_cases_saw(system: System) -> None:
    """An event the inbox names but Kafka no longer holds (retention) would make the preview one of
    fewer events than the cases saw: the console's refusal says which, and nothing is previewed."""
    topic = TOPIC_OF_TYPE["policy.epidemic.declared"]
    await system.pool.execute(
        """INSERT INTO inbox (source, event_id, type, subject, event_time, topic, partition, kafka_offset, state)
           VALUES ('gov/21', 'gone-1', 'policy.epidemic.declared', 'province/21', now(), $1, 0, 1000000, 'applied')""",
        topic)
    previewer = live_previewer(system.settings, system.pack)
    with pytest.raises(Conflict, match=f"no preview from the live store: .*{topic}\\[0\\]@1000000"):
        await previewer(system.pool, NAME, 150000, CITY, business_today(), business_today())
