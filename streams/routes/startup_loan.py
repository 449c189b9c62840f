"""Routes of K13 startup_loan_interest (创业担保贷款贴息, §2, §13, §15): `finance.loans`."""

from __future__ import annotations

from collections.abc import Sequence

from contracts import kinds
from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import enterprise_profile, startup_loan
from policy.pack import PolicyPack
from streams.routes.commands import Command, Handler, Ignore, StartCase, signal_open

KIND = kinds.STARTUP_LOAN_INTEREST
HOLDS_SHARED_FACTS = True  # a change of the LPR margins applies to the periods starting after it
# An enterprise borrower is judged on its registration (micro or small).
FACT_TYPES = (enterprise_profile.REGISTERED,)
# A completed or repaid loan still takes, within ledger.correction_days, a corrected interest
# report, an extension learnt late or a default dated before periods it was paid for. A loan
# rejected for want of the enterprise's registration takes it within intake.late_fact_days
# (POLICY.md part 2 "late facts across topics"), and holds the bank's reports meanwhile.
LATE_FACTS = ("loan.interest_charged", "loan.extended", "loan.repaid", "loan.defaulted", enterprise_profile.REGISTERED)


def granted(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """`loan.granted` opens the loan's case (a redelivered grant reaches the same case); an
    enterprise borrower's case is found by the enterprise too, for its registration."""
    loan = startup_loan.Loan.from_data(event.data)
    keys = [startup_loan.loan_key(loan.loan_id)]
    if loan.borrower_kind == startup_loan.SMALL_ENTERPRISE:
        keys.append(loan.borrower_subject)
    return [StartCase(kind=KIND, case_id=kinds.startup_loan_case_id(loan.bank_id, loan.loan_id), city=event.data["city"], keys=keys)]


def reported(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """The bank's interest reports, extensions, repayment and default reach the loan's case (a
    closed one still listening for the types in LATE_FACTS)."""
    key = startup_loan.loan_key(event.data["loan_id"])
    return signal_open([c for c in [*open_cases, *listening] if c.key == key], KIND) or [
        Ignore(f"no open loan case for {key}")
    ]


def registered(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, listening: Sequence[OpenCase] = ()) -> list[Command]:
    """An enterprise's registration reaches its rejected loans still listening (each judges
    whether it was rejected for want of it)."""
    key = f"enterprise/{event.data['enterprise_id']}"
    return signal_open([c for c in listening if c.key == key], KIND) or [Ignore(f"no loan of {key} is listening")]


ROUTES: dict[str, Handler] = {
    "loan.granted": granted,
    "loan.interest_charged": reported,
    "loan.extended": reported,
    "loan.repaid": reported,
    "loan.defaulted": reported,
    enterprise_profile.REGISTERED: registered,
}
