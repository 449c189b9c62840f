"""The treasury's payment file of a closed daily batch (POLICY.md part 2: instructions are grouped
in daily batches per city and fund, as a treasury payment file is): an ISO 20022 pain.001.001.09
customer credit transfer initiation, built and checked with the `pyiso20022` message classes and
their own validation, and written with xsdata (the classes' serializer).

One payment information block per batch (the fund of a city pays on the batch's day), one credit
transfer per instruction: its end-to-end id is the instruction id, so the treasury's answer on
`payments.results` names the instruction it settles or returns. The payee's account number and
holder name are opened from the vault here, for the file alone: they are never logged, and the
file is the only thing that holds them in clear.

The debtor is the fund of the city by name (`<city or 21>/<fund>`, a proprietary account
identification): the treasury holds each fund's account and knows it by that name, so no
account of the state's funds is kept in this system.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pyiso20022.pain.pain_001_001_09 import (
    AccountIdentification4Choice,
    AccountSchemeName1Choice,
    ActiveOrHistoricCurrencyAndAmount,
    AmountType4Choice,
    BranchAndFinancialInstitutionIdentification6,
    CashAccount38,
    CreditTransferTransaction34,
    CustomerCreditTransferInitiationV09,
    DateAndDateTime2Choice,
    Document,
    FinancialInstitutionIdentification18,
    GenericAccountIdentification1,
    GenericFinancialIdentification1,
    GroupHeader85,
    PartyIdentification135,
    PaymentIdentification6,
    PaymentInstruction30,
    PaymentMethod3Code,
    RemittanceInformation16,
)
from pyiso20022.tools.validation import validate_message
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDate, XmlDateTime

from activities.account_vault import AccountVault, Sealed
from activities.store import BatchRow, InstructionRow, PayeeAccountRow, Store

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CURRENCY = "CNY"
INITIATING_PARTY = "jiuye"
FEN_PER_YUAN = 100


class BatchNotExportable(ValueError):
    """No such batch, or one still open (instructions may still join it)."""


class InvalidPaymentFile(ValueError):
    """The message failed pyiso20022's validation: no file is written."""


@dataclass(frozen=True)
class PaymentFile:
    batch: BatchRow
    xml: str

    @property
    def message_id(self) -> str:
        return message_id(self.batch.batch_id)


def message_id(batch_id: str) -> str:
    """A batch id can be longer than ISO 20022's 35 characters (`Max35Text`): named by a digest."""
    return "PB-" + hashlib.sha256(batch_id.encode()).hexdigest()[:24]


def yuan(fen: int) -> Decimal:
    """Fen as the file's amount: yuan with two decimals, exact."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


async def payment_file(store: Store, vault: AccountVault, batch_id: str, created: datetime) -> PaymentFile:
    """The pain.001 file of the closed batch `batch_id`, validated."""
    batch = next((b for b in await store.batches() if b.batch_id == batch_id), None)
    if batch is None:
        raise BatchNotExportable(f"no batch {batch_id}")
    if not batch.closed:
        raise BatchNotExportable(f"batch {batch_id} is still open: it closes after its day")
    instructions = await store.batch_instructions(batch_id)
    versions: dict[str, list[PayeeAccountRow]] = {}
    transactions = []
    for row in instructions:
        payee, _, version = row.account_ref.rpartition("#")
        if payee not in versions:
            versions[payee] = await store.account_versions(payee)
        transactions.append(_transaction(row, vault, payee, versions[payee][int(version) - 1]))
    total = yuan(sum(r.amount for r in instructions))
    fund_name = f"{batch.city or '21'}/{batch.fund}"
    document = Document(cstmr_cdt_trf_initn=CustomerCreditTransferInitiationV09(
        grp_hdr=GroupHeader85(
            msg_id=message_id(batch_id), cre_dt_tm=XmlDateTime.from_datetime(created),
            nb_of_txs=str(len(instructions)), ctrl_sum=total, initg_pty=PartyIdentification135(nm=INITIATING_PARTY),
        ),
        pmt_inf=[PaymentInstruction30(
            pmt_inf_id=message_id(batch_id), pmt_mtd=PaymentMethod3Code.TRF,
            nb_of_txs=str(len(instructions)), ctrl_sum=total,
            reqd_exctn_dt=DateAndDateTime2Choice(dt=XmlDate.from_date(batch.on_date)),
            dbtr=PartyIdentification135(nm=fund_name),
            dbtr_acct=CashAccount38(id=_proprietary_account(fund_name, "FUND"), ccy=CURRENCY),
            dbtr_agt=_agent("treasury"),
            cdt_trf_tx_inf=transactions,
        )],
    ))
    checked = validate_message(document)
    if not checked.is_valid:
        # Named by field and constraint only, never by value: the value may be an account number.
        raise InvalidPaymentFile(f"pain.001 of {batch_id} failed validation: "
                                 + "; ".join(f"{e.field_name}: {e.constraint}" for e in checked.errors))
    xml = XmlSerializer(config=SerializerConfig(indent="  ", xml_declaration=True, encoding="UTF-8")).render(
        document, ns_map={None: NAMESPACE})
    return PaymentFile(batch, xml)


def _transaction(row: InstructionRow, vault: AccountVault, payee: str, account: PayeeAccountRow) -> CreditTransferTransaction34:
    number = vault.open(payee, "account_number", Sealed(account.key_id, account.number_sealed))
    holder = vault.open(payee, "holder_name", Sealed(account.key_id, account.holder_sealed))
    return CreditTransferTransaction34(
        pmt_id=PaymentIdentification6(instr_id=row.instruction_id, end_to_end_id=row.instruction_id),
        amt=AmountType4Choice(instd_amt=ActiveOrHistoricCurrencyAndAmount(value=yuan(row.amount), ccy=CURRENCY)),
        cdtr_agt=_agent(account.bank),
        cdtr=PartyIdentification135(nm=holder),
        cdtr_acct=CashAccount38(id=AccountIdentification4Choice(othr=GenericAccountIdentification1(id=number))),
        rmt_inf=RemittanceInformation16(ustrd=[f"{row.fund} attempt {row.attempt}"]),
    )


def _proprietary_account(name: str, scheme: str) -> AccountIdentification4Choice:
    return AccountIdentification4Choice(othr=GenericAccountIdentification1(
        id=name, schme_nm=AccountSchemeName1Choice(prtry=scheme)))


def _agent(name: str) -> BranchAndFinancialInstitutionIdentification6:
    return BranchAndFinancialInstitutionIdentification6(
        fin_instn_id=FinancialInstitutionIdentification18(othr=GenericFinancialIdentification1(id=name)))
