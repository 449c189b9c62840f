"""Parameter changes with a preview and two pairs of eyes (POLICY.md part 2), on a real
PostgreSQL (a fresh migrated database) and the cases' own workflows on Temporal's time-skipping
server (app/simulate.py): proposals checked against the pack, four eyes and scope, the audit
trail, the outbox event of an approval, and the preview equal to what the cases then pay."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from activities.pg_store import create_pool
from app.parameter_preview import preview, worth_by_month_and_fund
from app.simulate import simulate
from console.service import BadRequest, Console, Forbidden, NotFound, Principal
from console.service.errors import Unavailable
from console.service.proposals import attach_preview, compute_preview, decide, list_proposals, propose
from contracts.settings import get_settings
from deploy.stack.postgres import drop_database, fresh_database
from policy.pack import load_pack

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "k1_corrections.jsonl"
NAME = "internship.monthly_subsidy"
UNTIL = date(2020, 12, 31)


def who(sub: str, role: str = "city_supervisor", city: str | None = "2101") -> Principal:
    return Principal(sub=sub, role=role, city=city, exp=int(time.time()) + 3600)


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    settings = get_settings()
    name = f"jiuye_proposals_{uuid.uuid4().hex[:10]}"
    url = await fresh_database(name, settings)
    pool = await create_pool(url, 2)
    try:
        yield Console(settings=settings, pool=pool, secret="test-secret")
    finally:
        await pool.close()
        await drop_database(name, settings)


def raised_by(value: int) -> int:
    """The proposal: the pack's 2101 subsidy raised by `value` fen (no literal policy amount)."""
    return int(load_pack().value(NAME, "2101")) + value


async def test_a_proposal_is_checked_against_the_parameter_pack(console: Console) -> None:
    alice = who("alice")
    with pytest.raises(BadRequest, match="unknown parameter 'internship.monthly_subsidie'"):
        await propose(console, alice, "internship.monthly_subsidie", 1, "2101", date(2020, 4, 1))
    with pytest.raises(BadRequest, match="is a whole number"):
        await propose(console, alice, NAME, "1600 yuan", "2101", date(2020, 4, 1))
    with pytest.raises(BadRequest, match="cannot be negative"):
        await propose(console, alice, NAME, -1, "2101", date(2020, 4, 1))
    made = await propose(console, alice, NAME, raised_by(100), "2101", date(2020, 4, 1))
    assert (made["status"], made["proposer"], made["value"]) == ("proposed", "alice", raised_by(100))


async def test_the_proposer_cannot_approve_their_own_change(console: Console) -> None:
    alice = who("alice")
    made = await propose(console, alice, NAME, raised_by(100), "2101", date(2020, 4, 1))
    with pytest.raises(Forbidden, match="four eyes"):
        await decide(console, alice, made["id"], "approve")
    with pytest.raises(Forbidden, match="four eyes"):
        await decide(console, alice, made["id"], "reject")
    assert await console.pool.fetchval("SELECT count(*) FROM outbox") == 0


async def test_approval_needs_a_supervisor_of_the_same_scope(console: Console) -> None:
    city = await propose(console, who("alice"), NAME, raised_by(100), "2101", date(2020, 4, 1))
    await console.pool.execute("UPDATE parameter_proposals SET preview = '{}'::jsonb")
    with pytest.raises(Forbidden, match="for a supervisor of 2101"):
        await decide(console, who("olga", "province", None), city["id"], "approve")
    with pytest.raises(Exception, match="no parameter proposal"):  # another city's proposal is not theirs to see
        await decide(console, who("dan", "city_supervisor", "2102"), city["id"], "approve")
    with pytest.raises(Forbidden, match="read-only"):
        await decide(console, who("aud", "auditor", None), city["id"], "approve")
    with pytest.raises(Forbidden, match="provincial office"):
        await propose(console, who("bob"), NAME, raised_by(100), None, date(2020, 4, 1))
    province = await propose(console, who("olga", "province", None), NAME, raised_by(100), None, date(2020, 4, 1))
    with pytest.raises(Forbidden, match="provincial office"):
        await decide(console, who("bob"), province["id"], "approve")
    approved = await decide(console, who("bob"), city["id"], "approve")
    assert (approved["status"], approved["decided_by"]) == ("approved", "bob")


async def test_an_approval_needs_a_preview_and_a_withdrawal_the_proposer(console: Console) -> None:
    made = await propose(console, who("alice"), NAME, raised_by(100), "2101", date(2020, 4, 1))
    with pytest.raises(Exception, match="no preview yet"):
        await decide(console, who("bob"), made["id"], "approve")
    with pytest.raises(Forbidden, match="only the proposer"):
        await decide(console, who("bob"), made["id"], "withdraw")
    withdrawn = await decide(console, who("alice"), made["id"], "withdraw")
    assert withdrawn["status"] == "withdrawn"
    with pytest.raises(Exception, match="already decided"):
        await decide(console, who("alice"), made["id"], "withdraw")


async def test_preview_equals_what_the_cases_then_pay(console: Console, tmp_path: Path) -> None:
    """Propose a raise of Shenyang's internship subsidy from a past date, preview it, approve it,
    then let the cases take the event the approval put in the outbox: the ledger's difference per
    month and fund, and the corrections, are what the preview said."""
    alice, bob = who("alice"), who("bob")
    effective = date(2020, 4, 1)
    made = await propose(console, alice, NAME, raised_by(30000), "2101", effective)
    shown = await preview(SCENARIO, NAME, made["value"], "2101", effective, UNTIL)
    assert shown["cases_touched"] > 0 and shown["corrections"], "the raise touches no case: the test shows nothing"
    await attach_preview(console, alice, made["id"], shown)
    approved = await decide(console, bob, made["id"], "approve")
    assert approved["preview"]["by_month_and_fund"] == shown["by_month_and_fund"]

    (event,) = [r["value"] for r in await console.pool.fetch("SELECT value FROM outbox")]
    assert (event["type"], event["data"]["value"], event["data"]["city"]) == ("policy.parameter.changed", made["value"], "2101")
    # The cases run: what they saw, then the approved event (announced when the preview said).
    event["time"] = shown["announced_at"]
    with_change = tmp_path / SCENARIO.name
    with_change.write_text(SCENARIO.read_text().rstrip("\n") + "\n" + json.dumps(event) + "\n")
    before, after = await simulate(SCENARIO, UNTIL), await simulate(with_change, UNTIL)
    paid_before, paid_after = worth_by_month_and_fund(before["payments"]), worth_by_month_and_fund(after["payments"])
    for row in shown["by_month_and_fund"]:
        key = (row["month"], row["fund"])
        assert paid_after.get(key, 0) - paid_before.get(key, 0) == row["difference"], key
    assert {k for k in set(paid_before) | set(paid_after) if paid_after.get(k, 0) != paid_before.get(k, 0)} == \
        {(r["month"], r["fund"]) for r in shown["by_month_and_fund"]}
    cause = f"{event['source']}#{event['id']}"
    made_corrections = [{k: v for k, v in c.items() if k != "cause"} for c in after["corrections"] if c["cause"] == cause]
    assert made_corrections == [{k: v for k, v in c.items() if k != "cause"} for c in shown["corrections"]]


async def test_every_proposal_preview_and_decision_is_audited(console: Console) -> None:
    alice, bob = who("alice"), who("bob")
    made = await propose(console, alice, NAME, raised_by(100), "2101", date(2020, 4, 1))
    await attach_preview(console, alice, made["id"], {"name": NAME, "value": made["value"], "city": "2101",
                                                       "effective_on": "2020-04-01", "cases_touched": 0,
                                                       "total_difference": 0, "corrections": []})
    other = await propose(console, alice, NAME, raised_by(200), "2101", date(2020, 5, 1))
    await decide(console, bob, made["id"], "approve")
    await decide(console, bob, other["id"], "reject", reason="too dear")
    rows = await console.pool.fetch("SELECT actor, action, details FROM audit ORDER BY id")
    assert [(r["actor"], r["action"], r["details"]["proposal_id"]) for r in rows] == [
        ("alice", "parameter.propose", made["id"]), ("alice", "parameter.preview", made["id"]),
        ("alice", "parameter.propose", other["id"]), ("bob", "parameter.approve", made["id"]),
        ("bob", "parameter.reject", other["id"]),
    ]
    listed = await list_proposals(console, who("carol", "city_supervisor", "2102"))
    assert listed["items"] == []


async def test_the_preview_includes_closed_cases_a_past_effective_date_corrects() -> None:
    """A case closed before the change is announced, but within ledger.correction_days, is
    corrected too (POLICY.md part 2): P102's internship ended on 2020-05-20 (told on 2020-07-10,
    before the change is announced) and is in the preview of a raise from April announced in July;
    the 2102 case the change does not reach is not."""
    shown = await preview(SCENARIO, NAME, raised_by(30000), "2101", date(2020, 4, 1), UNTIL)
    closed = "internship/P102/U102/2020-03-02"
    assert closed in shown["touched_cases"]
    assert any(c["case_id"] == closed and c["entry"] == "arrears" for c in shown["corrections"])
    assert not [c for c in shown["touched_cases"] if "/P103/" in c]


async def test_a_preview_from_the_live_store_is_scoped_and_needs_the_preview_engine(console: Console) -> None:
    """POST /api/proposals/{id}/preview's service: the proposal's scope first (another city's
    supervisor does not see it, the provincial office does not preview a city's change), it runs
    to today or later (the change reaches the cases when approved), and a
    console served without the engine (`jiuye api` hands it in) says so instead of guessing."""
    made = await propose(console, who("alice"), "internship.monthly_subsidy", raised_by(10000), "2101", date(2020, 4, 1))
    with pytest.raises(NotFound):
        await compute_preview(console, who("carol", city="2102"), made["id"])
    with pytest.raises(Forbidden, match="for a supervisor of 2101"):
        await compute_preview(console, who("root", "province", None), made["id"])
    with pytest.raises(BadRequest, match="runs to today .* or later, not 2020-12-31"):
        await compute_preview(console, who("alice"), made["id"], date(2020, 12, 31))
    with pytest.raises(Unavailable, match="without the preview engine"):
        await compute_preview(console, who("alice"), made["id"])
    assert await console.pool.fetchval("SELECT count(*) FROM audit WHERE action = 'parameter.preview'") == 0
