"""Per-case quarantine (issue 18 item 4) on the real stack, through Kafka, the intake and
Temporal: a K5 placement that arrives while the person is still placed in another post is
refused by THAT case (streams/routes/welfare_post.py); it is a dead letter as before, and also
shown on the case that refused it — in its "quarantined events" and on its timeline. A
supervisor re-drives it once the case is corrected (the person left the first post: the same
event, same id, now opens the new placement's case), or dismisses it; each audited, in scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from contracts import kinds
from policy.calendar import add_months
from tests.e2e._console_fixtures import CITY, api, auth, console  # noqa: F401 — fixtures
from tests.e2e.conftest import System
from tests.e2e.helpers import Person, assert_eventually

pytestmark = pytest.mark.e2e

SUPERVISOR = auth("city_supervisor", CITY, "alice")
OTHER_CITY = auth("city_supervisor", "2102", "bob")
AUDITOR = auth("auditor", CITY, "carol")


class Placed(Person):
    """A registrant of city 2101 (a zero-employment household: K5 takes them) placed in a
    welfare post two months ago, whose second placement comes while the first still runs."""

    def __init__(self, system: System, suffix: str):
        super().__init__(f"E2E{system.tag}{suffix}", f"es/{CITY}-e2e")
        self.system = system
        self.first_post = f"POST{system.tag}{suffix}"
        self.second_post = f"NEXT{system.tag}{suffix}"
        self.starts = add_months(self.today, -2)
        self.first_case = kinds.welfare_post_case_id(self.id, self.first_post, self.starts)
        self.second_case = kinds.welfare_post_case_id(self.id, self.second_post, self.today)

    def placement(self, post: str, starts: date) -> bytes:
        return self.event("welfare_post.placed", starts, {
            "person_id": self.id, "post_id": post, "city": CITY, "kind": "regular", "starts_on": starts.isoformat(),
        })

    async def refused_second_placement(self) -> bytes:
        """Registered, placed, and placed again: the second placement is refused by the first case."""
        await self.system.emit([self.event("unemployment.registered", add_months(self.today, -14), {
            "person_id": self.id, "city": CITY, "registered_on": add_months(self.today, -14).isoformat(),
            "birth_date": "1980-01-01", "retirement_date": "2045-01-01", "categories": ["zero_employment_household"],
        })], name="registration.jsonl")
        await self.system.settled()
        await self.system.emit([self.placement(self.first_post, self.starts)], name="first.jsonl")
        await assert_eventually(lambda: status_of(self.system, self.first_case, "active"), timeout=120)
        second = self.placement(self.second_post, self.today)
        await self.system.emit([second], name="second.jsonl")
        return second


async def status_of(system: System, case_id: str, *expected: str) -> None:
    status = await system.pool.fetchval("SELECT status FROM cases WHERE case_id = $1", case_id)
    assert status in expected, f"{case_id} is {status}, not {' or '.join(expected)}"


async def quarantined_on(api: httpx.AsyncClient, case_id: str) -> dict[str, Any]:
    async def shown() -> dict[str, Any]:
        page = (await api.get(f"/api/cases/{case_id}/timeline", headers=SUPERVISOR)).json()
        assert page.get("quarantined"), f"nothing quarantined on {case_id} yet: {page}"
        return page

    page: dict[str, Any] = await assert_eventually(shown, timeout=60)
    return page


async def audited(system: System, action: str) -> list[dict[str, Any]]:
    rows = await system.pool.fetch("SELECT actor, case_id, details FROM audit WHERE action = $1 ORDER BY id", action)
    return [dict(r) for r in rows]


async def test_an_event_refused_by_a_case_is_shown_on_the_case(system: System, api: httpx.AsyncClient) -> None:
    p = Placed(system, "Q1")
    second = await p.refused_second_placement()
    page = await quarantined_on(api, p.first_case)
    [refused] = page["quarantined"]
    assert (refused["source"], refused["event_id"], refused["type"]) == (p.source, f"{p.id}-3", "welfare_post.placed")
    assert refused["status"] == "quarantined" and "still placed" in refused["reason"] and p.first_case in refused["reason"]
    entries = [e for e in page["timeline"] if e["type"] == "quarantine"]
    assert [(e["event"], e["quarantine_id"], e["on"]) for e in entries] == [
        ({"source": p.source, "id": f"{p.id}-3"}, refused["id"], p.today.isoformat())]
    # Still a dead letter too (the record as it came), with the same reason.
    letter = await system.pool.fetchrow("SELECT reason, raw FROM dead_letters WHERE raw = $1", second)
    assert letter is not None and letter["reason"] == refused["reason"]
    # A case of another city is not there for its supervisor; an auditor sees it, masked.
    assert (await api.get(f"/api/cases/{p.first_case}/timeline", headers=OTHER_CITY)).status_code == 404
    masked = (await api.get(f"/api/cases/{p.first_case}/timeline", headers=AUDITOR)).json()
    assert masked["quarantined"][0]["id"] == refused["id"] and p.id not in masked["quarantined"][0]["subject"]


async def test_a_supervisor_can_redrive_a_quarantined_event(system: System, api: httpx.AsyncClient) -> None:
    p = Placed(system, "Q2")
    await p.refused_second_placement()
    [refused] = (await quarantined_on(api, p.first_case))["quarantined"]
    redrive = f"/api/quarantine/{refused['id']}/redrive"
    assert (await api.post(redrive, json={"reason": "try"}, headers=AUDITOR)).status_code == 403
    assert (await api.post(redrive, json={"reason": "try"}, headers=OTHER_CITY)).status_code == 404
    assert (await api.post(redrive, json={"reason": " "}, headers=SUPERVISOR)).status_code == 400
    # While the first post still runs, the case refuses it again: still quarantined, said why.
    again = await api.post(redrive, json={"reason": "too early"}, headers=SUPERVISOR)
    assert again.status_code == 409 and "refused again" in again.json()["error"], again.text
    page = (await api.get(f"/api/cases/{p.first_case}/timeline", headers=SUPERVISOR)).json()
    assert page["quarantined"][0]["status"] == "quarantined" and "still placed" in page["quarantined"][0]["reason"]

    # The supervisor corrects the case: the person left the first post, which ends it.
    await system.emit([p.event("welfare_post.left", p.today, {"person_id": p.id, "post_id": p.first_post,
                                                              "on": p.today.isoformat()})], name="left.jsonl")
    await assert_eventually(lambda: status_of(system, p.first_case, "ended"), timeout=120)
    taken = await api.post(redrive, json={"reason": "left the first post on the same day"}, headers=SUPERVISOR)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "redriven" and p.second_case in taken.json()["detail"]
    # The same event (same id) opened the second placement's case.
    await assert_eventually(lambda: status_of(system, p.second_case, "active"), timeout=120)
    inbox = await system.pool.fetchrow("SELECT state, outcome FROM inbox WHERE source = $1 AND event_id = $2",
                                       p.source, refused["event_id"])
    assert inbox["state"] == "applied" and p.second_case in inbox["outcome"]
    assert (await api.post(redrive, json={"reason": "twice"}, headers=SUPERVISOR)).status_code == 409
    page = (await api.get(f"/api/cases/{p.first_case}/timeline", headers=SUPERVISOR)).json()
    assert page["quarantined"][0]["status"] == "redriven" and page["quarantined"][0]["decided_by"] == "alice"
    assert [(a["actor"], a["case_id"], a["details"]["outcome"]) for a in await audited(system, "quarantine.redrive")] == [
        ("alice", p.first_case, "dead_letter"), ("alice", p.first_case, "applied")]
    assert await system.pool.fetchval(
        "SELECT redriven_by FROM dead_letters WHERE topic = $1 AND kafka_offset = $2",
        refused["topic"], refused["kafka_offset"]) == "alice"


async def test_dismissal_is_audited(system: System, api: httpx.AsyncClient) -> None:
    p = Placed(system, "Q3")
    await p.refused_second_placement()
    [refused] = (await quarantined_on(api, p.first_case))["quarantined"]
    dismiss = f"/api/quarantine/{refused['id']}/dismiss"
    assert (await api.post(dismiss, json={"reason": "a duplicate"}, headers=AUDITOR)).status_code == 403
    assert (await api.post(dismiss, json={"reason": "a duplicate"}, headers=OTHER_CITY)).status_code == 404
    assert (await api.post(dismiss, json={"reason": ""}, headers=SUPERVISOR)).status_code == 400
    assert (await api.post("/api/quarantine/999999999/dismiss", json={"reason": "x"}, headers=SUPERVISOR)).status_code == 404
    done = await api.post(dismiss, json={"reason": "the employer filed it twice"}, headers=SUPERVISOR)
    assert done.status_code == 200 and done.json()["status"] == "dismissed", done.text
    assert [(a["actor"], a["case_id"], a["details"]["reason"], a["details"]["event_id"])
            for a in await audited(system, "quarantine.dismiss")] == [
        ("alice", p.first_case, "the employer filed it twice", refused["event_id"])]
    page = (await api.get(f"/api/cases/{p.first_case}/timeline", headers=SUPERVISOR)).json()
    assert page["quarantined"][0]["status"] == "dismissed"
    assert page["quarantined"][0]["decision_reason"] == "the employer filed it twice"
    assert any(e["type"] == "supervisor" and "quarantine.dismiss" in e["what"] for e in page["timeline"])
    # Closed: neither re-driven nor dismissed again; the second placement's case never opened.
    assert (await api.post(f"/api/quarantine/{refused['id']}/redrive", json={"reason": "x"}, headers=SUPERVISOR)).status_code == 409
    assert (await api.post(dismiss, json={"reason": "x"}, headers=SUPERVISOR)).status_code == 409
    assert await system.pool.fetchval("SELECT 1 FROM cases WHERE case_id = $1", p.second_case) is None
