"""A refusal decided inside a case's workflow (issue 18 item 4), on the real stack: Kafka → the
intake → Temporal → the case refuses the event (`CaseWorkflow.refuse`) → a `quarantined_events`
row of origin `workflow` on that case → the supervisor's re-drive through the API reaches the
case's `redrive` update and is judged on the case as it is now.

A K5 placement that started three months ago reaches the intake before the person's
registration: rejected as not difficult to employ, the case listens for late facts (POLICY.md
part 2). A registration that does not make the person difficult to employ (registered a month
before the post, no category) leaves it rejected: "the decision stands", and that registration
is quarantined on the case. Re-driven while the case is still rejected, it is refused again (409,
still quarantined); once a registration that qualifies has reopened the case, the re-drive is
taken (200, `redriven`). Each re-drive is audited; scope as for every quarantined event.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contracts import kinds
from policy.calendar import add_months
from tests.e2e._console_fixtures import CITY, api, auth, console  # noqa: F401 — fixtures
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.e2e.test_console_quarantine_e2e import audited, quarantined_on, status_of
from tests.e2e.test_flexible_welfare_e2e import Registrant

pytestmark = pytest.mark.e2e

SUPERVISOR = auth("city_supervisor", CITY, "alice")
OTHER_CITY = auth("city_supervisor", "2102", "bob")


async def test_a_refusal_decided_in_the_case_is_quarantined_and_redriven_through_the_api(system: System, api: httpx.AsyncClient) -> None:
    p = Registrant(system, "QW")
    starts = add_months(p.today, -3)
    post = f"POST{system.tag}QW"
    case_id = kinds.welfare_post_case_id(p.id, post, starts)
    await system.emit([p.event("welfare_post.placed", starts, {
        "person_id": p.id, "post_id": post, "city": CITY, "kind": "regular", "starts_on": starts.isoformat(),
    })], name="placed.jsonl")
    await assert_eventually(lambda: status_of(system, case_id, "rejected"), timeout=120)

    # Not difficult to employ even with this registration: the case refuses it.
    await system.emit([p.registered(add_months(starts, -1), [])], name="not-difficult.jsonl")
    page = await quarantined_on(api, case_id)
    [refused] = page["quarantined"]
    assert (refused["origin"], refused["status"], refused["type"]) == ("workflow", "quarantined", "unemployment.registered")
    assert refused["reason"] == "late unemployment.registered: the decision stands"
    assert (refused["source"], refused["event_id"]) == (p.source, f"{p.id}-2")
    assert refused["topic"] is None  # not a dead letter: the intake delivered it, the case refused it
    redrive = f"/api/quarantine/{refused['id']}/redrive"
    assert (await api.post(redrive, json={"reason": "try"}, headers=OTHER_CITY)).status_code == 404
    assert (await api.post(redrive, json={"reason": " "}, headers=SUPERVISOR)).status_code == 400

    # Still rejected: judged again under the same state, refused again and still quarantined.
    again = await api.post(redrive, json={"reason": "checked the registration"}, headers=SUPERVISOR)
    assert again.status_code == 409 and "refused again by the case" in again.json()["error"], again.text
    [row] = (await api.get(f"/api/cases/{case_id}/timeline", headers=SUPERVISOR)).json()["quarantined"]
    assert row["status"] == "quarantined" and "the decision stands" in row["reason"]
    await status_of(system, case_id, "rejected")

    # A registration that qualifies reopens the case; the refused one is now taken.
    await system.emit([p.registered(add_months(p.today, -12), ["zero_employment_household"])], name="registration.jsonl")
    await assert_eventually(lambda: status_of(system, case_id, "active"), timeout=120)
    taken = await api.post(redrive, json={"reason": "the case was reopened"}, headers=SUPERVISOR)
    assert taken.status_code == 200, taken.text
    assert (taken.json()["status"], taken.json()["outcome"]) == ("redriven", "applied")
    page = (await api.get(f"/api/cases/{case_id}/timeline", headers=SUPERVISOR)).json()
    [row] = page["quarantined"]
    assert (row["status"], row["decided_by"], row["decision_reason"]) == ("redriven", "alice", "the case was reopened")
    assert any(e["type"] == "supervisor" and "re-driven by alice" in e["what"] for e in page["timeline"])
    assert (await api.post(redrive, json={"reason": "twice"}, headers=SUPERVISOR)).status_code == 409
    redrives: list[dict[str, Any]] = await audited(system, "quarantine.redrive")
    assert [(a["actor"], a["case_id"], a["details"]["origin"], a["details"]["outcome"]) for a in redrives] == [
        ("alice", case_id, "workflow", "refused"), ("alice", case_id, "workflow", "applied")]
