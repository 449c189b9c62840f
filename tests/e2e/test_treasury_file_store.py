"""The pain.001 file of a closed daily batch (activities/treasury_file.py) on both stores: it passes
pyiso20022's validation of the pain.001.001.09 message, parses back as one, its totals are the
batch's, each credit transfer names its instruction and carries the account opened from the vault
(the file is for the treasury), and no log line holds an account number."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from pyiso20022.pain.pain_001_001_09 import Document
from pyiso20022.tools.validation import validate_message
from xsdata.formats.dataclass.parsers import XmlParser

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.store import Store
from activities.treasury_file import BatchNotExportable, InvalidPaymentFile, message_id, payment_file
from policy import disbursement as rules
from policy.pack import load_pack
from tests.e2e import test_disbursement_store as base
from tests.e2e.test_disbursement_store import DUE_ON, NEW_NUMBER, NUMBER, account_event, row, write_ledger

pytestmark = pytest.mark.e2e

store, vault = base.store, base.vault  # the fixtures: both stores, a test keyring
CREATED = datetime(2020, 5, 2, 1, 0, tzinfo=timezone.utc)


async def test_a_closed_batch_exports_as_a_valid_pain001_with_the_batchs_totals(
        store: Store, vault: AccountVault, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    await desk.account(account_event(NUMBER, "a1"))
    await desk.account(account_event(NEW_NUMBER, "a9", payee="person/P9"))
    await write_ledger(store, row("month-1", 120000), row("month-2", 5055), row("month-3", 80001, payee="person/P9"))
    await desk.instruct_due(DUE_ON)
    (batch,) = await store.batches()
    with pytest.raises(BatchNotExportable):
        await payment_file(store, vault, batch.batch_id, CREATED)  # still open: its day is not over
    await desk.pass_day(date(2020, 5, 2))
    exported = await payment_file(store, vault, batch.batch_id, CREATED)

    document = XmlParser().from_string(exported.xml, Document)
    assert validate_message(document).is_valid
    initiation = document.cstmr_cdt_trf_initn
    assert initiation is not None
    header, (block,) = initiation.grp_hdr, initiation.pmt_inf
    assert header.msg_id == block.pmt_inf_id == message_id(batch.batch_id)
    assert int(header.nb_of_txs) == int(block.nb_of_txs or 0) == batch.count == 3
    assert header.ctrl_sum == block.ctrl_sum == Decimal(batch.total) / 100 == Decimal("2050.56")
    amounts = [t.amt.instd_amt.value for t in block.cdt_trf_tx_inf if t.amt.instd_amt is not None]
    assert sum(amounts) == header.ctrl_sum and all(t.amt.instd_amt.ccy == "CNY" for t in block.cdt_trf_tx_inf
                                                   if t.amt.instd_amt is not None)
    assert block.reqd_exctn_dt.dt is not None and block.reqd_exctn_dt.dt.to_date() == DUE_ON
    paid = {t.pmt_id.end_to_end_id: (t.cdtr_acct.id.othr.id if t.cdtr_acct and t.cdtr_acct.id.othr else None,
                                     t.cdtr.nm if t.cdtr else None) for t in block.cdt_trf_tx_inf}
    key = base.CASE + "|internship|{}|payment|0"
    assert paid == {
        rules.instruction_id(key.format("month-1"), 1): (NUMBER, "Zhang San"),
        rules.instruction_id(key.format("month-2"), 1): (NUMBER, "Zhang San"),
        rules.instruction_id(key.format("month-3"), 1): (NEW_NUMBER, "Zhang San"),
    }
    assert NUMBER not in caplog.text and NEW_NUMBER not in caplog.text


async def test_an_unknown_batch_is_not_exported(store: Store, vault: AccountVault) -> None:
    with pytest.raises(BatchNotExportable):
        await payment_file(store, vault, "PB-2101-ui_fund-20200501", CREATED)


async def test_a_file_the_librarys_validation_refuses_is_not_made_and_its_reason_names_no_account(
        store: Store, vault: AccountVault) -> None:
    desk = DisbursementDesk(store, load_pack(), vault, clock=lambda: DUE_ON)
    event = account_event(NUMBER, "a1")
    # A bank identification longer than ISO 20022's Max35Text for the creditor agent.
    await desk.account(event.model_copy(update={"data": {**event.data, "bank": "B" * 36}}))
    await write_ledger(store, row("month-1", 120000))
    await desk.instruct_due(DUE_ON)
    await desk.pass_day(date(2020, 5, 2))
    (batch,) = await store.batches()
    with pytest.raises(InvalidPaymentFile) as refused:
        await payment_file(store, vault, batch.batch_id, CREATED)
    assert "id" in str(refused.value) and NUMBER not in str(refused.value)
