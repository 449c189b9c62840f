"""K13 startup_loan_interest (创业担保贷款贴息, §2, §13, §15) as pure rules.

A guaranteed startup loan (`loan.granted`) is eligible when its borrower is an individual of a
startup group or a micro or small enterprise, within the principal and term limits, and has not
yet had `loan.max_subsidized_loans` subsidised loans. For each interest period the bank reports,
the subsidy pays the interest above what the borrower bears (a rate of LPR − 150 bp), for a rate
of at most LPR + 150 bp, pro rata by the days of the period inside the subsidised term; it is
paid to the lending bank from `inclusive_finance_fund`. An epidemic extension (展期) requested in
time lengthens the subsidised term; a default stops the subsidy for periods ending after it.

Nothing here reads a clock: every rule takes the dates it is about and the parameters. The
per-borrower limit is a function of the borrower's past cases (`loan_limit_refusal`) so that the
store can apply it inside the transaction that opens a case (concurrent grants never exceed it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.events import as_date
from contracts.parameters import Parameters
from policy.calendar import add_months
from policy.corrections import Owed
from policy.funds import Fund

PROGRAM = "loan_interest_subsidy"
FUND = Fund.INCLUSIVE_FINANCE

INDIVIDUAL = "individual"
SMALL_ENTERPRISE = "small_enterprise"
EPIDEMIC = "epidemic"
REJECTED = "rejected"  # the one closing status of an earlier loan's case that does not count


@dataclass(frozen=True)
class Loan:
    """The terms of a `loan.granted` (EVENTS.md), as typed values."""

    loan_id: str
    bank_id: str
    borrower: str
    borrower_kind: str
    principal: int
    rate_bp: int
    lpr_bp: int
    granted_on: date
    term_months: int
    groups: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> "Loan":
        """From the (validated) `data` of a `loan.granted`."""
        return cls(
            loan_id=str(data["loan_id"]),
            bank_id=str(data["bank_id"]),
            borrower=str(data["borrower"]),
            borrower_kind=str(data["borrower_kind"]),
            principal=int(data["principal"]),
            rate_bp=int(data["rate_bp"]),
            lpr_bp=int(data["lpr_bp"]),
            granted_on=as_date(data["granted_on"]),
            term_months=int(data["term_months"]),
            groups=tuple(data.get("groups") or ()),
        )

    @property
    def borrower_subject(self) -> str:
        """The borrower as a subject (`person/<id>` or `enterprise/<id>`)."""
        return f"{'person' if self.borrower_kind == INDIVIDUAL else 'enterprise'}/{self.borrower}"


def loan_key(loan_id: str) -> str:
    """The relevance key a loan's case is found by: the bank's later reports carry only the loan."""
    return f"loan/{loan_id}"


def payee(bank_id: str) -> str:
    """The subsidy is paid to the lending bank (POLICY.md K13)."""
    return f"bank/{bank_id}"


# -- eligibility --------------------------------------------------------------------------------
def borrower_ineligibility(loan: Loan, enterprise_size: str | None, params: Parameters) -> str | None:
    """Why the borrower or the loan's terms are not eligible on the grant date (None: they are).

    - an individual needs one of `loan.startup_groups` (§13 灵活就业…平台就业人员购置生产经营必需
      工具的，可申请创业担保贷款及贴息; §15 返乡入乡创业) and a principal ≤ `loan.individual_max`;
    - an enterprise must be registered with a size in `loan.enterprise_sizes` (§2 小微企业; no
      registration on file is not small) and borrow ≤ `loan.enterprise_max`;
    - the term is at most `loan.max_term_months`.
    """
    on = loan.granted_on
    reasons: list[str] = []
    if loan.borrower_kind == INDIVIDUAL:
        startup = set(params.get("loan.startup_groups", on))
        if not startup.intersection(loan.groups):
            reasons.append("the borrower is in no startup group (§13, §15)")
        cap = int(params.get("loan.individual_max", on))
        if loan.principal > cap:
            reasons.append(f"principal {loan.principal} fen exceeds loan.individual_max {cap} fen")
    else:
        sizes = list(params.get("loan.enterprise_sizes", on))
        if enterprise_size not in sizes:
            found = "no registration on file" if enterprise_size is None else f"registered as {enterprise_size}"
            reasons.append(f"the enterprise is not micro or small (§2 小微企业): {found}")
        cap = int(params.get("loan.enterprise_max", on))
        if loan.principal > cap:
            reasons.append(f"principal {loan.principal} fen exceeds loan.enterprise_max {cap} fen")
    max_term = int(params.get("loan.max_term_months", on))
    if loan.term_months > max_term:
        reasons.append(f"term of {loan.term_months} months exceeds loan.max_term_months {max_term}")
    return "§2: " + "; ".join(reasons) if reasons else None


def awaits_registration(loan: Loan, enterprise_size: str | None, params: Parameters) -> bool:
    """Whether an ineligible loan was refused only for want of the enterprise's registration (no
    registration on file, the rest of the terms within the limits): a decision taken without a
    fact that may still arrive on its own topic (POLICY.md part 2 "late facts across topics").
    An individual's startup groups come vetted on the grant itself, and a registration on file
    with another size, a principal or a term over the limits do not change with a later fact."""
    if loan.borrower_kind == INDIVIDUAL or enterprise_size is not None:
        return False
    sizes = list(params.get("loan.enterprise_sizes", loan.granted_on))
    return bool(sizes) and borrower_ineligibility(loan, sizes[0], params) is None


RULE_ELIGIBLE = "§2 小微企业: the enterprise's registration as micro or small, learnt late, makes the loan eligible"


def loan_limit_refusal(earlier_statuses: Iterable[str], on: date, params: Parameters) -> str | None:
    """§2 累计次数不得超过3次: the reason a new loan is refused when the borrower already has
    `loan.max_subsidized_loans` earlier loans whose cases were not rejected (their statuses, open
    or closed, as the store holds them); None while there is room."""
    counted = sum(1 for status in earlier_statuses if status != REJECTED)
    if counted >= max_loans(on, params):
        return loans_used_up(counted, on, params)
    return None


def max_loans(on: date, params: Parameters) -> int:
    """`loan.max_subsidized_loans` in force on the grant date."""
    return int(params.get("loan.max_subsidized_loans", on))


def loans_used_up(held: int, on: date, params: Parameters) -> str:
    """The reason a loan is refused when the borrower's subsidised loans are used up."""
    return f"§2: the borrower already has {held} subsidised loans (loan.max_subsidized_loans {max_loans(on, params)})"


def slot_scope(loan: Loan) -> str:
    """The limit a loan counts against, shared by all the borrower's loan cases (the store's
    slots: a case takes one once it is otherwise eligible, so concurrent grants never pass it)."""
    return f"loans/{loan.borrower_subject}"


# -- the subsidised term ------------------------------------------------------------------------
@dataclass(frozen=True)
class Extension:
    """A `loan.extended`: requested on `on`, for `months`, with its reason."""

    on: date
    months: int
    reason: str


def subsidised_extension(extension: Extension, params: Parameters) -> int:
    """The months an extension adds to the subsidised term: an epidemic extension (展期) of at
    most `loan.extension_max_months` requested on or before `loan.extension_window_until` adds
    its months; any other extension (reason other, late, or longer) adds none."""
    on = extension.on
    if extension.reason != EPIDEMIC:
        return 0
    if on > params.day("loan.extension_window_until", on):
        return 0
    if extension.months > int(params.get("loan.extension_max_months", on)):
        return 0
    return extension.months


def subsidised_months(extensions: Iterable[Extension], params: Parameters) -> int:
    """All the subsidised extension months of a loan, together at most `loan.extension_max_months`
    (the extension rule is about the loan, not about each request)."""
    added = 0
    for extension in sorted(extensions, key=lambda e: e.on):
        cap = int(params.get("loan.extension_max_months", extension.on))
        added = min(cap, added + subsidised_extension(extension, params))
    return added


def term_end(loan: Loan, extension_months: int = 0) -> date:
    """The first day after the subsidised term: the grant date plus the term and the subsidised
    extension months (the term is [granted_on, term_end))."""
    return add_months(loan.granted_on, loan.term_months + extension_months)


# -- the subsidy of one interest period -----------------------------------------------------------
@dataclass(frozen=True)
class InterestPeriod:
    """A `loan.interest_charged`: the interest of [from_, to] (both days included)."""

    period: str
    from_: date
    to: date
    interest: int

    @property
    def days(self) -> int:
        return (self.to - self.from_).days + 1


def subsidised_bp(rate_bp: int, lpr_bp: int, on: date, params: Parameters) -> int:
    """The part of the rate the subsidy pays, in basis points: the rate up to LPR +
    `loan.rate_cap_over_lpr_bp`, less what the borrower bears (LPR − `loan.borrower_bp_below_lpr`,
    not below 0); never negative."""
    cap = lpr_bp + int(params.get("loan.rate_cap_over_lpr_bp", on))
    borne = max(0, lpr_bp - int(params.get("loan.borrower_bp_below_lpr", on)))
    return max(0, min(rate_bp, cap) - borne)


def days_inside_term(period: InterestPeriod, loan: Loan, ends: date) -> int:
    """The days of the period inside the subsidised term [granted_on, ends)."""
    first = max(period.from_, loan.granted_on)
    last = min(period.to, ends - timedelta(days=1))
    return max(0, (last - first).days + 1)


def period_subsidy(period: InterestPeriod, loan: Loan, ends: date, params: Parameters, defaulted_on: date | None = None) -> int:
    """The subsidy of one reported interest period:
    `floor(interest × subsidised_bp / rate × days inside the term / days of the period)`, one
    floor at the end (LPR 385, rate 485, interest 121,250 → 62,500). A period wholly after the
    term pays nothing, and so does one ending after the default date. Parameters are those in
    force on the period's first day."""
    if loan.rate_bp <= 0 or period.days <= 0:
        return 0
    if defaulted_on is not None and period.to > defaulted_on:
        return 0
    inside = days_inside_term(period, loan, ends)
    if inside == 0:
        return 0
    bp = subsidised_bp(loan.rate_bp, loan.lpr_bp, period.from_, params)
    return (period.interest * bp * inside) // (loan.rate_bp * period.days)


RULE_SUBSIDY = ("§2 创业担保贷款贴息: the interest above LPR − loan.borrower_bp_below_lpr, for a rate of at most "
                "LPR + loan.rate_cap_over_lpr_bp, pro rata by the days inside the subsidised term")
RULE_DEFAULTED = "POLICY.md K13: no subsidy for interest periods ending after the default date"
RULE_GUARANTEE_CLAIM = "§2 担保基金代偿: a defaulted guaranteed loan is reviewed for the guarantee fund's claim"
GUARANTEE_CLAIM_TASK = "guarantee_claim"


def interest_period(data: Mapping[str, Any]) -> InterestPeriod:
    """From the (validated) `data` of a `loan.interest_charged`."""
    return InterestPeriod(period=str(data["period"]), from_=as_date(data["from"]), to=as_date(data["to"]),
                          interest=int(data["interest"]))


def term_paid_out(period: InterestPeriod, ends: date) -> bool:
    """The period reaches the last day of the subsidised term: once it is paid, the case is
    `completed` (POLICY.md: the subsidised term over and its last period paid)."""
    return period.to >= ends - timedelta(days=1)


def holds_last_day(period: InterestPeriod, ends: date) -> bool:
    """The period holds the last day of the subsidised term (it is the term's last period): once
    it is paid the case is `completed` (POLICY.md K13). A period wholly after the term is not:
    reported before an earlier period of the term, it must not complete the case unpaid."""
    last = ends - timedelta(days=1)
    return period.from_ <= last <= period.to


def owed(
    loan: Loan,
    reported: Mapping[str, tuple[InterestPeriod, date]],
    extensions: Iterable[Extension],
    defaulted_on: date | None,
    params: Parameters,
) -> list[Owed]:
    """What the loan's subsidy owes on the facts known now: for each interest period the bank
    reported (`reported`: period → (the period, the day its report arrived)), its subsidy, paid
    to the bank on the day of the report. A later extension lengthens the term (a straddling
    period pays more), a default after a period was paid makes it owed nothing: the ledger
    reconciles to this, so both are corrections, never edits."""
    ends = term_end(loan, subsidised_months(extensions, params))
    return [
        Owed(
            program=PROGRAM,
            period=name,
            amount=period_subsidy(period, loan, ends, params, defaulted_on),
            fund=str(FUND),
            payee=payee(loan.bank_id),
            due_on=received,
            rule=RULE_DEFAULTED if defaulted_on is not None and period.to > defaulted_on else RULE_SUBSIDY,
        )
        for name, (period, received) in sorted(reported.items())
    ]
