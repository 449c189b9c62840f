"""End to end on the real stack for K2 unemployment_insurance and K3 unemployment_assistance:
CloudEvents produced to Kafka by `jiuye emit` go through the intake, Temporal (K2 opening
K3 as a child case on a real server) and the worker into the PostgreSQL ledger and back out on
`cases.lifecycle`.

Dates are real: a claim filed in 2019 has run its course by today, so the case catches up at
once (every benefit month, the exhaustion, the assistance case and its months), with no waiting
on timers. Fresh database per test: no epidemic facts, so no uplift.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from contracts import kinds
from policy.calendar import add_months
from testkit.events import cloud_event, line
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

CITY = "2101"


class Claimant:
    """The events of one person unique to the test."""

    def __init__(self, system: System, suffix: str):
        self.system = system
        self.person = f"E2E{system.tag}{suffix}"
        self.source = f"si/{CITY}-e2e"
        self.n = 0

    @property
    def subject(self) -> str:
        return f"person/{self.person}"

    def event(self, type: str, on: date, data: dict[str, Any]) -> bytes:
        self.n += 1
        return line(cloud_event(source=self.source, id=f"{self.person}-{self.n}", type=type, subject=self.subject,
                                on=on, data={"person_id": self.person, **data}))

    def claim(self, claim_on: date, insured: int = 30, involuntary: bool = True) -> bytes:
        return self.event("ui.claim.filed", claim_on, {
            "city": CITY, "claim_on": claim_on.isoformat(), "insured_months": insured, "involuntary": involuntary,
            "retirement_date": "2045-01-01"})

    def contract(self, on: date) -> bytes:
        return self.event("contract.signed", on, {"employer_id": f"E{self.system.tag}", "signed_on": on.isoformat(),
                                                  "starts_on": on.isoformat(), "term_months": 12})

    def contribution(self, month: str, on: date) -> bytes:
        return self.event("contribution.paid", on, {"month": month, "employer_id": f"E{self.system.tag}", "base": 400000,
                                                    "employer_amount": 64000, "employee_amount": 32000,
                                                    "insurances": ["unemployment"]})


async def closed(system: System, case_id: str) -> dict[str, Any]:
    row = await system.pool.fetchrow("SELECT status, closed_on, summary FROM cases WHERE case_id = $1", case_id)
    assert row is not None, f"no read-model row for {case_id} yet"
    assert row["closed_on"] is not None, f"{case_id} still {row['status']}"
    summary = row["summary"]
    return {"status": row["status"], "closed_on": row["closed_on"],
            "summary": json.loads(summary) if isinstance(summary, str) else summary}


async def ledger(system: System, case_id: str) -> list[tuple[str, str, int, str, date]]:
    rows = await system.pool.fetch(
        "SELECT program, period, amount_fen, fund, due_on FROM ledger WHERE case_id = $1 ORDER BY due_on, program",
        case_id)
    return [(r["program"], r["period"], r["amount_fen"], r["fund"], r["due_on"]) for r in rows]


async def test_exhausted_claim_opens_assistance_and_both_are_paid(system: System) -> None:
    """A 2019 claim: 12 benefit months, exhausted on 2020-12-02, K3 opened that day (inside
    ua.window_until) and paid 6 × 80% of the benefit; both close, both told on cases.lifecycle."""
    person = Claimant(system, "X")
    claim_on = date(2019, 12, 2)
    ui_case = kinds.unemployment_insurance_case_id(person.person, claim_on)
    ua_case = kinds.unemployment_assistance_case_id(person.person, "2020-12-02")

    report = await system.emit([person.claim(claim_on)])
    assert report.per_topic == {"si.benefits": 1}

    assert (await assert_eventually(lambda: closed(system, ui_case), timeout=90))["status"] == "exhausted"
    assert await ledger(system, ui_case) == [
        ("unemployment_insurance", f"month-{n}", 150000, "ui_fund", add_months(claim_on, n - 1)) for n in range(1, 13)
    ]
    k3 = await assert_eventually(lambda: closed(system, ua_case), timeout=90)
    assert (k3["status"], k3["closed_on"]) == ("completed", date(2021, 6, 2))
    assert await ledger(system, ua_case) == [
        ("unemployment_assistance", f"month-{n}", 120000, "ui_fund", add_months(date(2020, 12, 2), n - 1))
        for n in range(1, 7)
    ]

    async def published() -> dict[str, list[str]]:
        types: dict[str, list[str]] = {ui_case: [], ua_case: []}
        for record in system.tail.of("cases.lifecycle"):
            key = record.key.decode() if record.key else ""
            if key in types:
                types[key].append(json.loads(record.value)["type"])
        for case, seen in types.items():
            assert "case.closed" in seen, f"{case} lifecycle so far: {seen}"
        return types

    types = await assert_eventually(published, timeout=30)
    assert types[ui_case].count("case.payment") == 12
    assert types[ua_case].count("case.payment") == 6
    assert types[ua_case][0] == "case.opened"


async def has_row(system: System, case_id: str) -> None:
    assert await system.pool.fetchval("SELECT 1 FROM cases WHERE case_id = $1", case_id), f"{case_id} not opened yet"


async def test_reemployment_closes_claim_and_keeps_unused_months(system: System) -> None:
    """A claim filed three months ago, then a contract signed today: months starting on or
    before today are paid (4), the case closes `reemployed` with 8 unused months in its summary.
    A contribution for a person without a case is ignored by the intake: kept as a fact, no inbox
    row, no case."""
    person = Claimant(system, "R")
    stranger = Claimant(system, "S")
    today = business_today()
    claim_on = add_months(today, -3)
    ui_case = kinds.unemployment_insurance_case_id(person.person, claim_on)

    await system.emit([person.claim(claim_on)])
    # The contract travels on labor.contracts, the claim on si.benefits: Kafka orders a subject's
    # events only within one topic, so (as in production, where the contract comes months later)
    # the follow-up is sent once the claim has opened its case.
    await assert_eventually(lambda: has_row(system, ui_case), timeout=90)
    await system.emit([
        person.contract(today),
        stranger.contribution(f"{today.year:04d}-{today.month:02d}", today),
    ])
    result = await assert_eventually(lambda: closed(system, ui_case), timeout=90)
    assert (result["status"], result["closed_on"]) == ("reemployed", today)
    assert result["summary"]["unused_months"] == 8
    assert [p for _, p, _, _, _ in await ledger(system, ui_case)] == ["month-1", "month-2", "month-3", "month-4"]

    # Since issue 16 an ignored contribution's one effect is its fact row (contribution_facts,
    # keyed by the event, so a redelivery adds nothing): no inbox row, and no case of the stranger.
    await system.settled()
    event_key = f"{stranger.source}#{stranger.person}-1"
    assert await system.pool.fetchval(
        "SELECT count(*) FROM inbox WHERE source = $1 AND event_id = $2", stranger.source, f"{stranger.person}-1") == 0
    assert await system.pool.fetchval(
        "SELECT reports ? $2 FROM contribution_facts WHERE person_id = $1", stranger.person, event_key) is True
    assert await system.pool.fetchval("SELECT count(*) FROM cases WHERE case_id LIKE '%' || $1 || '%'", stranger.person) == 0
