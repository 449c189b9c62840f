"""A proposed parameter change is checked against the policy pack before anyone previews or
approves it (policy/parameter_schema.py), and the console's API refuses a change outside the
principal's scope before any query runs (no database here, as tests/unit/test_console_api.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest

from console.api.app import create_app
from console.service import Console
from console.service.tokens import issue
from contracts.events import parse_event
from contracts.settings import Settings
from policy.calendar import SHANGHAI
from policy.pack import load_pack
from policy.parameter_schema import InvalidChange, change_event, validate_change

PACK = load_pack()
SECRET = "unit-secret"


def test_a_proposed_value_must_have_the_shape_of_the_packs_value() -> None:
    amount = PACK.value("internship.monthly_subsidy", "2101")
    assert validate_change(PACK, "internship.monthly_subsidy", amount + 1, "2101") == amount + 1
    with pytest.raises(InvalidChange, match="unknown parameter 'internship.subsidy'.*internship.monthly_subsidy"):
        validate_change(PACK, "internship.subsidy", 1, "2101")
    with pytest.raises(InvalidChange, match="whole number"):
        validate_change(PACK, "internship.monthly_subsidy", 1.5, "2101")
    with pytest.raises(InvalidChange, match="whole number"):
        validate_change(PACK, "internship.monthly_subsidy", True, "2101")
    with pytest.raises(InvalidChange, match="pair of whole numbers"):
        validate_change(PACK, "flexible.ratio", [2, 0], None)
    assert validate_change(PACK, "flexible.ratio", [1, 2], None) == [1, 2]
    with pytest.raises(InvalidChange, match="a date"):
        validate_change(PACK, "internship.full_subsidy_until", "end of 2021", None)
    assert validate_change(PACK, "internship.full_subsidy_until", "2021-06-30", None) == "2021-06-30"
    with pytest.raises(InvalidChange, match="list of a text"):
        validate_change(PACK, "retention.affected_industries", ["tourism", 3], None)
    with pytest.raises(InvalidChange, match="not a Liaoning city code"):
        validate_change(PACK, "internship.monthly_subsidy", amount, "1101")


def test_the_change_event_is_a_valid_policy_parameter_changed() -> None:
    event = change_event("p-1", "internship.monthly_subsidy", 1, "2101", date(2020, 4, 1), datetime(2020, 7, 1, 9, tzinfo=SHANGHAI))
    import json

    parsed = parse_event(json.dumps(event).encode())
    assert (parsed.type, parsed.subject, parsed.data["effective_on"]) == ("policy.parameter.changed", "city/2101", "2020-04-01")
    province = change_event("p-2", "internship.monthly_subsidy", 1, None, date(2020, 4, 1), datetime(2020, 7, 1, tzinfo=SHANGHAI))
    assert parse_event(json.dumps(province).encode()).subject == "province/21"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(console_secret=SECRET)
    console = Console(settings=settings, pool=None, secret=SECRET)  # no query reaches the pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, console)),
                                 base_url="http://console") as client:
        yield client


def bearer(role: str, city: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(SECRET, sub='u1', role=role, city=city)}"}


async def test_a_proposal_outside_your_scope_is_refused_with_the_reason(api: httpx.AsyncClient) -> None:
    body = {"name": "internship.monthly_subsidy", "value": 1, "city": "2102", "effective_on": "2020-04-01"}
    response = await api.post("/api/proposals", json=body, headers=bearer("city_supervisor", "2101"))
    assert response.status_code == 403 and "for a supervisor of 2102" in response.json()["error"]
    response = await api.post("/api/proposals", json={**body, "city": None}, headers=bearer("city_supervisor", "2101"))
    assert response.status_code == 403 and "provincial office" in response.json()["error"]
    response = await api.post("/api/proposals", json=body, headers=bearer("auditor"))
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    response = await api.post("/api/proposals", json={**body, "name": "nope"}, headers=bearer("city_supervisor", "2102"))
    assert response.status_code == 400 and "unknown parameter 'nope'" in response.json()["error"]
