"""Every ledger row publishes its own `cases.lifecycle` event: the outbox drops a second event
with the same id (PgStore's dedupe key is topic + id), so a correction that reused its original's
id was written to the ledger and never told to other systems."""

from __future__ import annotations

from datetime import date

from activities.case_activities import CaseActivities
from activities.memory_store import MemoryStore
from contracts.cases import PaymentRequest
from policy.pack import load_pack


def row(entry: str = "payment", seq: int = 0, corrects: str | None = None, amount: int = 150000) -> PaymentRequest:
    return PaymentRequest(case_id="ui/P1/2020-03-02", kind="unemployment_insurance", payee="person/P1",
                          program="unemployment_insurance", period="month-2", amount=amount, fund="ui_fund",
                          due_on=date(2020, 4, 2), city="2101", rule="§18", entry=entry, seq=seq, corrects=corrects)


async def test_each_ledger_row_of_a_period_publishes_a_lifecycle_event_of_its_own() -> None:
    store = MemoryStore()
    pay = CaseActivities(store, load_pack()).pay
    for request in (row(), row("arrears", 1, "month-2", 10000), row("overpayment", 1, "month-2", 5000),
                    row("arrears", 2, "month-2", 7000), row("deduction", 1, "month-1", 2500)):
        assert (await pay(request)).inserted
    ids = [e["id"] for e in store.outbox]
    assert len(ids) == len(set(ids)) == 5
    # An original payment keeps the id it always had (consumers may have stored it).
    assert ids[0] == "ui/P1/2020-03-02:pay:unemployment_insurance:month-2"
    assert ids[1] == "ui/P1/2020-03-02:pay:unemployment_insurance:month-2:arrears:1"
    assert [e["data"]["entry"] for e in store.outbox] == ["payment", "arrears", "overpayment", "arrears", "deduction"]


async def test_a_retried_row_publishes_nothing_more() -> None:
    store = MemoryStore()
    pay = CaseActivities(store, load_pack()).pay
    assert (await pay(row("arrears", 1, "month-2", 10000))).inserted
    assert not (await pay(row("arrears", 1, "month-2", 10000))).inserted
    assert len(store.outbox) == 1
