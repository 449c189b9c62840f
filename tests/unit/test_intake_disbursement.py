"""The intake hands payee accounts and treasury results to the disbursement desk (streams/intake.py,
activities/disbursement_desk.py): claimed in the inbox and applied once, never to Temporal; the
inbox note and the outcome name the account by reference, never by number."""

from __future__ import annotations

import os
from datetime import date, datetime

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.memory_store import MemoryStore
from contracts.cases import PaymentRequest
from contracts.codec import Keyring
from policy import disbursement as rules
from policy.calendar import SHANGHAI
from streams.intake import Intake
from testkit.events import cloud_event, line
from tests.unit.test_intake_batch import PACK, Gateway, Sink, records

NUMBER = "6222020200112230"
DUE_ON = date(2020, 5, 1)


def event(id_: str, type_: str, data: dict[str, object]) -> bytes:
    return line(cloud_event(id=id_, source="bank/2101", type=type_, subject="person/P1",
                            on=datetime(2020, 5, 2, 10, tzinfo=SHANGHAI), data=data))


def account(id_: str, number: str) -> bytes:
    return event(id_, "payee.account_updated", {"payee": "person/P1", "bank": "B1", "account_number": number,
                                                "holder_name": "Zhang San", "on": "2020-05-02"})


async def test_accounts_and_results_reach_the_desk_once_and_never_temporal() -> None:
    store, gateway = MemoryStore(), Gateway()
    desk = DisbursementDesk(store, PACK, AccountVault(Keyring("t", {"t": os.urandom(32)})), clock=lambda: DUE_ON)
    intake = Intake(store, gateway, Sink(), PACK, desk)  # type: ignore[arg-type]
    await store.pay(PaymentRequest(case_id="internship/P1/U1", kind="internship_subsidy", payee="person/P1",
                                   program="internship", period="month-1", amount=120000,
                                   fund="employment_subsidy_fund", due_on=DUE_ON, city="2101", rule="§14"),
                    {"id": "pay-1", "data": {}})
    outcomes = await intake.handle_batch(records([account("a1", NUMBER)]))
    assert [o.status for o in outcomes] == ["applied"]
    assert await desk.instruct_due(DUE_ON) == 1
    key = "internship/P1/U1|internship|month-1|payment|0"
    settled = event("r1", "payment.settled", {"instruction_id": rules.instruction_id(key, 1), "on": "2020-05-03"})
    outcomes = await intake.handle_batch(records([settled, settled, account("a1", NUMBER)]))
    assert [o.status for o in outcomes] == ["applied", "duplicate", "duplicate"]
    assert (await store.disbursement(key)).status == "settled"
    assert gateway.calls == []
    assert all(NUMBER not in o.detail for o in outcomes)
    assert NUMBER not in str(store.outbox) and NUMBER not in str(store.disbursement_states)


async def test_without_a_desk_accounts_are_ignored_as_before() -> None:
    store, gateway = MemoryStore(), Gateway()
    intake = Intake(store, gateway, Sink(), PACK)  # type: ignore[arg-type]
    outcomes = await intake.handle_batch(records([account("a1", NUMBER)]))
    assert [o.status for o in outcomes] == ["ignored"]
