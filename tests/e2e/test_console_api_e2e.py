"""The console's HTTP API on the real stack: a 低保 taper case (K10) opened through Kafka, the
intake and Temporal is found, shown with its live timeline, its task decided through the
`decide` update (a decision the rule forbids is refused with the rule's reason), held and
released, its ledger exported; city scope, roles, masking and bad requests; a dead letter
re-driven after it was fixed. The app runs in-process on the test's database (ASGI transport).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

from console.service.scope import pseudonym
from contracts import kinds
from policy import dibao
from testkit.events import cloud_event
from tests.e2e._console_fixtures import CITY, DibaoPerson, api, auth, console, open_task  # noqa: F401 — fixtures
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually

pytestmark = pytest.mark.e2e

SUPERVISOR = auth("city_supervisor", CITY, "alice")
OTHER_CITY = auth("city_supervisor", "2102", "bob")
AUDITOR = auth("auditor", CITY, "carol")
PROVINCE = auth("province", None, "dora")


def path(case_or_task_id: str) -> str:
    return case_or_task_id  # ids are business keys with slashes; the routes take them as paths


async def audit_actions(system: System, case_id: str) -> list[tuple[str, str]]:
    rows = await system.pool.fetch("SELECT actor, action FROM audit WHERE case_id = $1 ORDER BY id", case_id)
    return [(r["actor"], r["action"]) for r in rows]


async def test_console_finds_a_case_shows_its_timeline_and_decides_its_task(system: System, api: httpx.AsyncClient) -> None:
    p = DibaoPerson(system, "C1")
    case_id = await p.granted(months_ago=3)
    await p.employed(days_ago=2)
    task_id = await open_task(system, case_id)

    found = (await api.get("/api/cases", params={"person": p.id, "has_open_task": "true"}, headers=SUPERVISOR)).json()
    assert found["total"] == 1 and found["items"][0]["case_id"] == case_id and found["items"][0]["open_tasks"] == 1
    none = (await api.get("/api/cases", params={"person": p.id, "has_open_task": "false"}, headers=SUPERVISOR)).json()
    assert none["total"] == 0

    shown = (await api.get(f"/api/cases/{path(case_id)}/timeline", headers=SUPERVISOR)).json()
    assert shown["case"]["subject"] == p.subject and shown["state_unavailable"] is None
    assert shown["state"]["status"] == "active"
    events = [t["event"] for t in shown["timeline"] if t["event"]]
    assert {"source": p.source, "id": f"{p.id}-1"} in events and {"source": p.source, "id": f"{p.id}-2"} in events
    assert any(t["type"] == "task" for t in shown["timeline"])
    assert [t["task_id"] for t in shown["tasks"]] == [task_id]
    assert shown["links"]["temporal"].endswith(f"/namespaces/{system.settings.temporal_namespace}/workflows/dibao%2F{p.id}%2F" + case_id.rsplit("/", 1)[1])

    refused = await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": {"months": 13}}, headers=SUPERVISOR)
    assert refused.status_code == 409 and "3..12" in refused.json()["error"]
    shape = await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": "nine"}, headers=SUPERVISOR)
    assert shape.status_code == 400 and "decision" in shape.json()["error"]
    decided = await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": {"months": 9}}, headers=SUPERVISOR)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided" and decided.json()["decided_by"] == "alice"
    again = await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": {"months": 9}}, headers=SUPERVISOR)
    assert again.status_code == 409

    async def recorded() -> None:
        row = await system.pool.fetchrow("SELECT state, decided_by FROM tasks WHERE task_id = $1", task_id)
        assert (row["state"], row["decided_by"]) == ("decided", "alice")
        summary = (await system.pool.fetchrow("SELECT summary FROM cases WHERE case_id = $1", case_id))["summary"]
        assert summary["taper_months"] == 9

    await assert_eventually(recorded, timeout=60)
    assert await audit_actions(system, case_id) == [
        ("alice", "case.view"), ("alice", "task.decide.refused"), ("alice", "task.decide"),
    ]
    inbox = (await api.get("/api/tasks", params={"state": "decided"}, headers=SUPERVISOR)).json()
    assert [t["task_id"] for t in inbox["items"]] == [task_id]


async def test_city_scope_roles_masking_and_bad_requests(system: System, api: httpx.AsyncClient) -> None:
    p = DibaoPerson(system, "C2")
    case_id = await p.granted(months_ago=3)
    await p.employed(days_ago=2)
    task_id = await open_task(system, case_id)

    # A 2102 token neither sees nor acts on a 2101 case, and may not ask for 2101 explicitly.
    assert (await api.get(f"/api/cases/{path(case_id)}/timeline", headers=OTHER_CITY)).status_code == 404
    assert (await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": {"months": 6}}, headers=OTHER_CITY)).status_code == 404
    assert (await api.post(f"/api/cases/{path(case_id)}/hold", json={"reason": "x"}, headers=OTHER_CITY)).status_code == 404
    assert (await api.get("/api/cases", params={"person": p.id}, headers=OTHER_CITY)).json()["total"] == 0
    forbidden = await api.get("/api/cases", params={"city": CITY}, headers=OTHER_CITY)
    assert forbidden.status_code == 403 and "2102" in forbidden.json()["error"]
    assert (await api.get("/api/tasks", headers=OTHER_CITY)).json()["total"] == 0
    assert (await api.get("/api/ledger.csv", params={"city": CITY, "month": "2020-05"}, headers=OTHER_CITY)).status_code == 403
    assert (await api.get("/api/deadletters", headers=SUPERVISOR)).status_code == 403
    # Province sees every city.
    assert (await api.get("/api/cases", params={"person": p.id}, headers=PROVINCE)).json()["total"] == 1

    # The auditor reads, masked, and may not act.
    masked = (await api.get(f"/api/cases/{path(case_id)}/timeline", headers=AUDITOR)).json()
    assert masked["case"]["subject"] == f"person/{pseudonym(p.id)}"
    assert p.id not in json.dumps({k: v for k, v in masked.items() if k not in ("links",)}).replace(case_id, "")
    refused = await api.post(f"/api/tasks/{path(task_id)}/decide", json={"decision": {"months": 6}}, headers=AUDITOR)
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]
    assert (await api.get("/api/cases", params={"person": p.id}, headers=AUDITOR)).status_code == 403

    # Authentication and bad requests.
    assert (await api.get("/api/cases")).status_code == 401
    assert (await api.get("/api/cases", headers={"Authorization": "Bearer nonsense.sig"})).status_code == 401
    for params, needle in (
        ({"opened_from": "2020-13-01"}, "opened_from"), ({"sort": "subject"}, "sort"), ({"limit": "0"}, "limit"),
        ({"kind": "nope"}, "kind"), ({"colour": "red"}, "colour"), ({"has_open_task": "maybe"}, "has_open_task"),
        ({"opened_from": "2020-06-01", "opened_to": "2020-05-01"}, "after"),
    ):
        bad = await api.get("/api/cases", params=params, headers=SUPERVISOR)
        assert bad.status_code == 400 and needle in bad.json()["error"], (params, bad.text)
    assert (await api.get("/api/cases/dibao/nobody/2020-01/timeline", headers=SUPERVISOR)).status_code == 404
    assert (await api.post("/api/tasks/nope/decide", json={}, headers=SUPERVISOR)).status_code == 400
    assert (await api.post(f"/api/cases/{path(case_id)}/hold", json={"reason": " "}, headers=SUPERVISOR)).status_code == 400
    assert (await api.get("/api/ledger.csv", params={"city": CITY, "month": "May"}, headers=SUPERVISOR)).status_code == 400


async def test_hold_stops_payments_until_released_and_the_ledger_exports(system: System, api: httpx.AsyncClient) -> None:
    p = DibaoPerson(system, "C3")
    case_id = await p.granted(months_ago=8, amount=61000)
    held = await api.post(f"/api/cases/{path(case_id)}/hold", json={"reason": "income check"}, headers=SUPERVISOR)
    assert held.status_code == 200, held.text
    assert held.json()["hold"]["by"] == "alice"
    twice = await api.post(f"/api/cases/{path(case_id)}/hold", json={"reason": "again"}, headers=SUPERVISOR)
    assert twice.status_code == 409 and "already held" in twice.json()["error"]
    listed = (await api.get("/api/cases", params={"person": p.id}, headers=SUPERVISOR)).json()["items"][0]
    assert listed["hold"]["reason"] == "income check"

    employed = await p.employed(days_ago=70)
    params = system.pack.parameters(CITY)
    due = [k for k in range(1, dibao.default_months(params, employed) + 1) if dibao.payment_due(employed, k) <= p.today]
    assert due

    async def defaulted() -> None:
        rows = await system.pool.fetch("SELECT state FROM tasks WHERE case_id = $1", case_id)
        assert [r["state"] for r in rows] == ["expired"]

    await assert_eventually(defaulted, timeout=120)
    shown = (await api.get(f"/api/cases/{path(case_id)}/timeline", headers=SUPERVISOR)).json()
    assert any(t["type"] == "supervisor" and "held by alice" in t["what"] for t in shown["timeline"])
    assert shown["payments"] == [], "a held case must not pay"

    released = await api.post(f"/api/cases/{path(case_id)}/release", json={"reason": "checked"}, headers=SUPERVISOR)
    assert released.status_code == 200 and released.json()["hold"] is None

    async def paid() -> list[Any]:
        rows = await system.pool.fetch("SELECT period, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on", case_id)
        assert [r["period"] for r in rows] == [dibao.taper_month(employed, k) for k in due]
        return rows

    rows = await assert_eventually(paid, timeout=60)
    month = rows[0]["due_on"].strftime("%Y-%m")
    export = await api.get("/api/ledger.csv", params={"city": CITY, "month": month}, headers=SUPERVISOR)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["case_id"], r["period"], r["amount_fen"], r["fund"]) for r in table] == [
        (case_id, rows[0]["period"], "61000", "dibao_fund")
    ]
    masked = list(csv.DictReader(io.StringIO((await api.get("/api/ledger.csv", params={"city": CITY, "month": month}, headers=AUDITOR)).text)))
    assert masked[0]["payee"] == f"person/{pseudonym(p.id)}"
    dash = (await api.get("/api/dashboard", headers=SUPERVISOR)).json()
    assert {"fund": "dibao_fund", "month": month, "amount_fen": 61000, "n": 1} in dash["payments"]
    assert [(a["actor"], a["action"]) for a in (await api.get("/api/audit", headers=SUPERVISOR)).json()["items"]][:3] == [
        ("carol", "ledger.export"), ("alice", "ledger.export"), ("alice", "case.release"),
    ]


async def test_a_fixed_dead_letter_is_redriven_once(system: System, api: httpx.AsyncClient) -> None:
    p = DibaoPerson(system, "C4")
    granted = p.today.replace(day=1)
    good = cloud_event(id=f"{p.id}-dl", source=p.source, type="dibao.granted", subject=p.subject, on=granted,
                       data={"person_id": p.id, "household_id": f"H{p.id}", "city": CITY, "monthly_amount": 40000,
                             "from_month": granted.strftime("%Y-%m")})
    broken = {**good, "data": {k: v for k, v in good["data"].items() if k != "monthly_amount"}}
    await system.emit([json.dumps(broken).encode()], name="broken.jsonl")

    async def dead() -> dict[str, Any]:
        items = (await api.get("/api/deadletters", headers=PROVINCE)).json()["items"]
        mine = [i for i in items if p.id in i["raw"]]
        assert len(mine) == 1
        return mine[0]

    letter = await assert_eventually(dead, timeout=60)
    assert "monthly_amount" in letter["reason"]
    unfixed = await api.post(f"/api/deadletters/{letter['id']}/redrive", json={}, headers=PROVINCE)
    assert unfixed.status_code == 400 and "still invalid" in unfixed.json()["error"]
    assert (await api.post(f"/api/deadletters/{letter['id']}/redrive", json={"fixed": good}, headers=SUPERVISOR)).status_code == 403
    sent = await api.post(f"/api/deadletters/{letter['id']}/redrive", json={"fixed": good}, headers=PROVINCE)
    assert sent.status_code == 200, sent.text
    assert sent.json()["topic"] == "civil.affairs"
    assert (await api.post(f"/api/deadletters/{letter['id']}/redrive", json={"fixed": good}, headers=PROVINCE)).status_code == 409

    case_id = kinds.dibao_taper_case_id(p.id, granted.strftime('%Y-%m'))

    async def opened() -> None:
        assert await system.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", case_id) == "active"

    await assert_eventually(opened, timeout=120)
    actions = await system.pool.fetch("SELECT actor, action, details FROM audit WHERE action = 'deadletter.redrive'")
    assert [(a["actor"], a["details"]["dead_letter_id"]) for a in actions] == [("dora", letter["id"])]
