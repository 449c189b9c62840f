"""The disbursement views and the decisions on the desk's tasks through the console's HTTP API, on
the real stack (PostgreSQL, Kafka, the real intake; `jiuye treasury-sim` as the labelled stand-in
for the treasury): a payee whose accounts are closed is returned `max_attempts` times, shows in
the returned view (city scope, masking, CSV), gets a `payment_returned` task whose refused
decisions say why, and once the payee has a good account a supervisor's `reinstruct` sends the
payment again and it settles; the reconciliation and batch views count it all."""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
import pytest

from console.service.scope import pseudonym
from policy import disbursement as rules
from tests.e2e._console_fixtures import CITY, api, auth, console  # noqa: F401 — fixtures
from tests.e2e._disbursement_fixtures import Payee, desk_and_treasury
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually, business_today

pytestmark = pytest.mark.e2e

SUPERVISOR = auth("city_supervisor", CITY, "alice")
OTHER_CITY = auth("city_supervisor", "2102", "bob")
AUDITOR = auth("auditor", CITY, "carol")


async def test_a_returned_payment_is_seen_decided_and_settled_through_the_console(system: System, api: httpx.AsyncClient) -> None:
    max_attempts = rules.Limits.of(system.pack.parameters(CITY), business_today()).max_attempts
    async with desk_and_treasury(system) as sim:
        payee = Payee(system, sim)
        await payee.account("0")
        await payee.paid()
        await payee.stands("returned", 1)

        view = (await api.get("/api/disbursement/returned", headers=SUPERVISOR)).json()
        (item,) = [i for i in view["items"] if i["ledger_key"] == payee.key]
        assert (item["payee"], item["attempts"], item["reason"]) == (payee.id, 1, "account_closed")
        assert item["account"] == "****" + payee.number("0")[-4:]
        assert item["last_instruction"] == rules.instruction_id(payee.key, 1)
        assert "account changes" in item["next_step"]
        masked = (await api.get("/api/disbursement/returned", headers=AUDITOR)).json()
        assert [i["payee"] for i in masked["items"] if i["ledger_key"] == payee.key] == ["person/" + pseudonym(payee.id.split("/")[1])]
        other = await api.get("/api/disbursement/returned", headers=OTHER_CITY)
        assert other.status_code == 200 and not [i for i in other.json()["items"] if i["ledger_key"] == payee.key]
        forbidden = await api.get("/api/disbursement/returned", params={"city": CITY}, headers=OTHER_CITY)
        assert forbidden.status_code == 403
        exported = await api.get("/api/disbursement/returned", params={"format": "csv"}, headers=SUPERVISOR)
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["attempts"] for r in rows if r["ledger_key"] == payee.key] == ["1"]
        assert payee.number("0") not in exported.text

        for attempt in range(2, max_attempts + 1):  # every new account the payee gives is closed too
            await payee.account("0")
            await payee.stands("returned", attempt)

        async def task() -> str:
            found = (await api.get("/api/tasks", params={"kind": "payment_returned", "case_id": payee.case_id},
                                   headers=SUPERVISOR)).json()
            assert found["total"] == 1
            return str(found["items"][0]["task_id"])

        task_id = await assert_eventually(task, timeout=30)
        decide = f"/api/tasks/{task_id}/decide"
        wrong = await api.post(decide, json={"decision": {"action": "wait"}}, headers=SUPERVISOR)
        assert wrong.status_code == 409 and "reinstruct | stop" in wrong.json()["error"]
        closed = await api.post(decide, json={"decision": {"action": "reinstruct"}}, headers=SUPERVISOR)
        assert closed.status_code == 409 and "closed" in closed.json()["error"]
        assert (await api.post(decide, json={"decision": {"action": "reinstruct"}}, headers=AUDITOR)).status_code == 403
        assert (await api.post(decide, json={"decision": {"action": "reinstruct"}}, headers=OTHER_CITY)).status_code == 404

        await payee.account("7")  # a good account: past max_attempts only a supervisor sends it again
        await payee.stands("returned", max_attempts)
        decided = await api.post(decide, json={"decision": {"action": "reinstruct"}}, headers=SUPERVISOR)
        assert decided.status_code == 200, decided.text
        body = decided.json()
        assert (body["state"], body["decided_by"], body["disbursement"]["status"]) == ("decided", "alice", "instructed")
        again = await api.post(decide, json={"decision": {"action": "reinstruct"}}, headers=SUPERVISOR)
        assert again.status_code == 409
        settled = await payee.stands("settled", max_attempts + 1)
        assert settled.account_ref == f"{payee.id}#{max_attempts + 1}"

    row = await system.pool.fetchrow("SELECT state, decided_by, decision FROM tasks WHERE task_id = $1", task_id)
    assert (row["state"], row["decided_by"], row["decision"]) == ("decided", "alice", {"action": "reinstruct"})
    audit = await system.pool.fetch("SELECT actor, action FROM audit WHERE case_id = $1 ORDER BY id", payee.case_id)
    assert [(r["actor"], r["action"]) for r in audit] == [("alice", "task.decide.refused"), ("alice", "task.decide.refused"),
                                                          ("alice", "task.decide")]

    recon = (await api.get("/api/disbursement/reconciliation", headers=SUPERVISOR)).json()
    assert recon["totals"]["instructed"] == max_attempts + 1 and recon["totals"]["settled"] == 1
    assert recon["totals"]["returned"] == max_attempts and recon["totals"]["resent"] == max_attempts
    assert recon["totals"]["in_flight"] == 0
    batches = (await api.get("/api/disbursement/batches", headers=SUPERVISOR)).json()["items"]
    assert [(b["city"], b["fund"], b["count"], b["total_fen"]) for b in batches] == [
        (CITY, "employment_subsidy_fund", max_attempts + 1, (max_attempts + 1) * 120000)]
    funds = (await api.get("/api/disbursement/funds", headers=SUPERVISOR)).json()["items"]
    assert [(f["fund"], f["paid_fen"], f["settled_fen"]) for f in funds] == [("employment_subsidy_fund", 120000, 120000)]


async def test_a_payee_without_an_account_is_listed_as_awaiting_with_the_days_waited(system: System, api: httpx.AsyncClient) -> None:
    async with desk_and_treasury(system) as sim:
        payee = Payee(system, sim, name="PW")
        await payee.paid()
        await payee.stands("awaiting_account", 0)
    view = (await api.get("/api/disbursement/awaiting", headers=SUPERVISOR)).json()
    assert [(i["ledger_key"], i["days_waiting"], i["task"]) for i in view["items"]] == [(payee.key, 0, None)]
    later = (await api.get("/api/disbursement/awaiting", params={"today": "2099-01-01"}, headers=SUPERVISOR)).json()
    assert later["items"][0]["days_waiting"] == (date(2099, 1, 1) - business_today()).days
    assert (await api.get("/api/disbursement/nothing", headers=SUPERVISOR)).status_code == 404


async def test_the_case_page_shows_each_ledger_rows_disbursement(system: System, api: httpx.AsyncClient) -> None:
    """Issue 18 (a case page with its disbursements): each ledger row on the case page says where
    it stands at the treasury — status, attempts, the last instruction and its batch and result;
    a row the desk has not taken up says none."""
    from activities.pg_store import PgStore
    from contracts.cases import CaseRecord

    async with desk_and_treasury(system) as sim:
        payee = Payee(system, sim)
        # The case's read-model row, written as the case writes it (the desk's fixtures write
        # its ledger row the same way, through the store).
        await PgStore(system.pool).record_case(CaseRecord(
            case_id=payee.case_id, kind="internship_subsidy", subject=payee.id, city=CITY, status="active",
            change="opened", version=1, opened_on=business_today(), on=business_today()), {"id": f"{payee.case_id}:1", "data": {}})
        await payee.account("0")
        await payee.paid()
        await payee.stands("returned", 1)
        page = await api.get(f"/api/cases/{payee.case_id}/timeline", headers=SUPERVISOR)
        assert page.status_code == 200, page.text
        [row] = page.json()["payments"]
        shown = row["disbursement"]
        assert (shown["ledger_key"], shown["status"], shown["attempts"], shown["result"], shown["reason"]) == (
            payee.key, "returned", 1, "returned", "account_closed")
        assert shown["instruction_id"] == rules.instruction_id(payee.key, 1) and shown["batch_id"]
        batches = (await api.get("/api/disbursement/batches", headers=SUPERVISOR)).json()["items"]
        assert shown["batch_id"] in {b["batch_id"] for b in batches}
