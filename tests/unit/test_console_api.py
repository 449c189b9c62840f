"""The HTTP layer without a database: authentication, 4xx with reasons before any query runs,
OpenAPI, and a web page that loads nothing from elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from console.api.app import STATIC, create_app
from console.service import Console
from console.service.tokens import issue
from contracts.settings import Settings

SECRET = "unit-secret"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(console_secret=SECRET)
    console = Console(settings=settings, pool=None, secret=SECRET)  # no query reaches the pool
    app = create_app(settings, console)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
        yield client


def bearer(role: str, city: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(SECRET, sub='u1', role=role, city=city)}"}


async def test_every_api_request_needs_a_valid_bearer_token(api: httpx.AsyncClient) -> None:
    for headers, reason in (({}, "missing Authorization"), ({"Authorization": "Token x"}, "Bearer"),
                            ({"Authorization": f"Bearer {issue('other', sub='u1', role='province')}"}, "signature")):
        response = await api.get("/api/cases", headers=headers)
        assert response.status_code == 401 and reason in response.json()["error"]
    me = await api.get("/api/me", headers=bearer("city_supervisor", "2101"))
    assert me.json() == {**me.json(), "sub": "u1", "role": "city_supervisor", "city": "2101", "may_act": True}


async def test_bad_requests_get_400_with_the_reason(api: httpx.AsyncClient) -> None:
    who = bearer("city_supervisor", "2101")
    response = await api.get("/api/cases", params={"opened_from": "yesterday"}, headers=who)
    assert response.status_code == 400 and response.json() == {"error": "opened_from must be a date YYYY-MM-DD, got 'yesterday'"}
    response = await api.get("/api/ledger.csv", params={"city": "2101", "month": "2020-13"}, headers=who)
    assert response.status_code == 400 and "month must be YYYY-MM" in response.json()["error"]
    response = await api.post("/api/tasks/t1/decide", json={"decision": []}, headers=who)
    assert response.status_code == 400 and "decision" in response.json()["error"]
    response = await api.post("/api/cases/c1/hold", json={}, headers=who)
    assert response.status_code == 400 and "reason" in response.json()["error"]


async def test_city_token_asking_for_another_city_gets_403(api: httpx.AsyncClient) -> None:
    who = bearer("city_supervisor", "2101")
    for path, params in (("/api/cases", {"city": "2102"}), ("/api/dashboard", {"city": "2102"}),
                         ("/api/ledger.csv", {"city": "2102", "month": "2020-05"}), ("/api/alerts", {"city": "2102"})):
        response = await api.get(path, params=params, headers=who)
        assert response.status_code == 403 and "2102 is not yours" in response.json()["error"], path


async def test_auditor_may_not_act(api: httpx.AsyncClient) -> None:
    who = bearer("auditor", "2101")
    response = await api.post("/api/tasks/t1/decide", json={"decision": {"months": 6}}, headers=who)
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    response = await api.post("/api/cases/c1/hold", json={"reason": "x"}, headers=who)
    assert response.status_code == 403


async def test_dev_login_is_off_unless_enabled(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/dev/login", json={"sub": "x", "role": "province"})
    assert response.status_code == 404 and "dev login is off" in response.json()["error"]


async def test_openapi_describes_the_console(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    assert {"/api/cases", "/api/cases/{case_id}/timeline", "/api/tasks/{task_id}/decide", "/api/cases/{case_id}/hold",
            "/api/ledger.csv", "/api/deadletters/{dead_letter_id}/redrive", "/api/dashboard", "/api/alerts"} <= set(spec["paths"])
    assert (await api.get("/docs")).status_code == 200


async def test_web_page_is_served_and_loads_nothing_from_elsewhere(api: httpx.AsyncClient) -> None:
    page = await api.get("/")
    assert page.status_code == 200 and "supervisor console" in page.text
    assert (await api.get("/static/console.js")).status_code == 200
    for path in Path(STATIC).iterdir():
        external = re.findall(r"""(?:src|href)\s*=\s*["']https?://|url\(\s*["']?https?://|import\s+["']https?://|fetch\(\s*["']https?://""",
                              path.read_text(encoding="utf-8"))
        assert not external, f"{path.name} loads from elsewhere: {external}"


async def test_the_labels_are_served_to_a_signed_in_page(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/labels")).status_code == 401
    served = (await api.get("/api/labels", headers=bearer("auditor"))).json()
    assert served["city"]["2101"] == {"zh-CN": "沈阳", "en": "Shenyang"}
    assert served["kind"]["internship_subsidy"]["zh-CN"] == "就业见习补贴"
