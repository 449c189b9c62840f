"""The disbursement views' HTTP layer without a database (as tests/unit/test_console_api.py):
refusals with reasons before any query runs, and the CSV of a view with its totals row."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import pytest

from console.api.app import create_app
from console.service import Console
from console.service.disbursement import COLUMNS, VIEWS, as_csv
from console.service.tokens import issue
from contracts.settings import Settings

SECRET = "unit-secret"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(console_secret=SECRET)
    console = Console(settings=settings, pool=None, secret=SECRET)  # no query reaches the pool
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, console)),
                                 base_url="http://console") as client:
        yield client


def bearer(role: str, city: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue(SECRET, sub='u1', role=role, city=city)}"}


async def test_a_city_token_asking_for_another_citys_view_gets_403(api: httpx.AsyncClient) -> None:
    for view in VIEWS:
        response = await api.get(f"/api/disbursement/{view}", params={"city": "2102"}, headers=bearer("city_supervisor", "2101"))
        assert response.status_code == 403 and "2102 is not yours" in response.json()["error"], view


async def test_bad_requests_are_refused_with_the_reason(api: httpx.AsyncClient) -> None:
    who = bearer("province")
    unknown = await api.get("/api/disbursement/payees", headers=who)
    assert unknown.status_code == 404 and "batches" in unknown.json()["error"]
    form = await api.get("/api/disbursement/batches", params={"format": "xml"}, headers=who)
    assert form.status_code == 400 and "json or csv" in form.json()["error"]
    day = await api.get("/api/disbursement/batches", params={"from": "monday"}, headers=who)
    assert day.status_code == 400 and "from must be a date" in day.json()["error"]
    extra = await api.get("/api/disbursement/returned", params={"from": "2020-05-01"}, headers=who)
    assert extra.status_code == 400 and "from" in extra.json()["error"]
    assert (await api.get("/api/disbursement/returned")).status_code == 401


def test_the_reconciliation_csv_has_the_views_columns_and_ends_with_its_totals() -> None:
    row = {"day": "2020-05-06", "city": "2101", "fund": "employment_subsidy_fund", "instructed": 2,
           "instructed_fen": 240000, "settled": 1, "settled_fen": 120000, "returned": 1, "returned_fen": 120000,
           "in_flight": 0, "in_flight_fen": 0, "resent": 1}
    totals = {c: row[c] for c in COLUMNS["reconciliation"][3:]}
    rows = list(csv.reader(io.StringIO(as_csv("reconciliation", {"items": [row], "totals": totals}))))
    assert rows[0] == list(COLUMNS["reconciliation"])
    assert rows[1] == [str(row[c]) for c in COLUMNS["reconciliation"]]
    assert rows[2] == ["total", "", "", "2", "240000", "1", "120000", "1", "120000", "0", "0", "1"]


def test_every_next_step_of_a_returned_key_has_words_in_both_languages() -> None:
    # The console says the API's `next` in the reader's language (static/disbursement.js,
    # "disb.next.<step>"); the English of NEXT_STEP_EN is what the CSV and the CLI say.
    from pathlib import Path

    from console.service.disbursement import NEXT_STEP_EN

    script = (Path(__file__).resolve().parents[2] / "console" / "api" / "static" / "disbursement.js").read_text(encoding="utf-8")
    for step in NEXT_STEP_EN:
        assert script.count(f'"disb.next.{step}"') == 2, step  # en and zh-CN
