"""K13 startup_loan_interest (§2, §13, §15): the pure rules of policy/startup_loan.py, each test
named after the POLICY.md rule it guards (the sentence in its docstring)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from policy import startup_loan
from policy.funds import Fund
from policy.pack import load_pack

PARAMS = load_pack().parameters("2101")
GRANTED = date(2020, 4, 1)


def loan(**changes: object) -> startup_loan.Loan:
    base = startup_loan.Loan(
        loan_id="L1", bank_id="B1", borrower="P1", borrower_kind=startup_loan.INDIVIDUAL, principal=10_000_000,
        rate_bp=485, lpr_bp=385, granted_on=GRANTED, term_months=24, groups=("graduate",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def period(start: date, end: date, interest: int = 121_250, name: str = "2020-Q2") -> startup_loan.InterestPeriod:
    return startup_loan.InterestPeriod(name, start, end, interest)


def test_k13_pack_ships_the_loan_parameters_of_policy_md() -> None:
    """POLICY.md table: loan.individual_max / loan.enterprise_max 20,000,000 / 300,000,000 fen;
    max_term_months 36; max_subsidized_loans 3; 150 / 150 bp; extension 12 months until 2020-12-31."""
    assert PARAMS.get("loan.individual_max") == 20_000_000 and PARAMS.get("loan.enterprise_max") == 300_000_000
    assert PARAMS.get("loan.max_term_months") == 36 and PARAMS.get("loan.max_subsidized_loans") == 3
    assert PARAMS.get("loan.borrower_bp_below_lpr") == 150 and PARAMS.get("loan.rate_cap_over_lpr_bp") == 150
    assert PARAMS.get("loan.extension_max_months") == 12 and PARAMS.day("loan.extension_window_until") == date(2020, 12, 31)


# -- eligibility --------------------------------------------------------------------------------
@pytest.mark.parametrize("group", ["registered_unemployed", "graduate", "migrant_worker", "returnee", "veteran",
                                   "difficult_to_employ", "disabled", "poverty_registered", "platform_worker"])
def test_k13_an_individual_in_a_startup_group_is_eligible(group: str) -> None:
    """an individual in a startup group (registered unemployed, graduate, returnee or migrant
    worker, veteran, difficult to employ (K12), disabled, poverty-registered, or a platform worker
    buying the tools of the trade, §13)"""
    assert startup_loan.borrower_ineligibility(loan(groups=(group,)), None, PARAMS) is None


def test_k13_an_individual_in_no_startup_group_is_rejected() -> None:
    reason = startup_loan.borrower_ineligibility(loan(groups=()), None, PARAMS)
    assert reason is not None and "no startup group" in reason


@pytest.mark.parametrize(("principal", "eligible"), [(20_000_000, True), (20_000_001, False)])
def test_k13_an_individual_principal_at_most_loan_individual_max(principal: int, eligible: bool) -> None:
    """principal ≤ `loan.individual_max`"""
    reason = startup_loan.borrower_ineligibility(loan(principal=principal), None, PARAMS)
    assert (reason is None) is eligible
    if not eligible:
        assert "loan.individual_max" in str(reason)


@pytest.mark.parametrize(("size", "eligible"), [("micro", True), ("small", True), ("medium", False), ("large", False), (None, False)])
def test_k13_a_micro_or_small_enterprise_by_its_registration(size: str | None, eligible: bool) -> None:
    """or a micro or small enterprise (its registration)"""
    enterprise = loan(borrower="E1", borrower_kind=startup_loan.SMALL_ENTERPRISE, groups=(), principal=100_000_000)
    reason = startup_loan.borrower_ineligibility(enterprise, size, PARAMS)
    assert (reason is None) is eligible
    if size is None:
        assert "no registration on file" in str(reason)


@pytest.mark.parametrize(("principal", "eligible"), [(300_000_000, True), (300_000_001, False)])
def test_k13_an_enterprise_principal_at_most_loan_enterprise_max(principal: int, eligible: bool) -> None:
    """principal ≤ `loan.enterprise_max`"""
    enterprise = loan(borrower="E1", borrower_kind=startup_loan.SMALL_ENTERPRISE, groups=(), principal=principal)
    assert (startup_loan.borrower_ineligibility(enterprise, "small", PARAMS) is None) is eligible


@pytest.mark.parametrize(("term", "eligible"), [(36, True), (37, False)])
def test_k13_term_at_most_loan_max_term_months(term: int, eligible: bool) -> None:
    """term ≤ `loan.max_term_months`"""
    assert (startup_loan.borrower_ineligibility(loan(term_months=term), None, PARAMS) is None) is eligible


@pytest.mark.parametrize(("earlier", "refused"), [
    ([], False),
    (["completed", "active"], False),
    (["completed", "active", "repaid"], True),
    (["rejected", "rejected", "rejected", "completed", "defaulted"], False),
    (["defaulted", "repaid", "rejected", "active"], True),
])
def test_k13_fewer_than_max_subsidized_loans_earlier_loans_not_rejected(earlier: list[str], refused: bool) -> None:
    """fewer than `loan.max_subsidized_loans` earlier loans of the same borrower that were not
    rejected (累计次数不得超过3次; concurrent grants must never exceed it)."""
    reason = startup_loan.loan_limit_refusal(earlier, GRANTED, PARAMS)
    assert (reason is not None) is refused
    if refused:
        assert "loan.max_subsidized_loans 3" in str(reason)


# -- the subsidy ----------------------------------------------------------------------------------
def test_k13_worked_example_lpr_385_rate_485_interest_121250_pays_62500() -> None:
    """Worked example: LPR 385 bp, rate 485 bp, interest 121,250 fen → floor(121250 × 250 / 485) = 62,500 fen."""
    assert startup_loan.subsidised_bp(485, 385, GRANTED, PARAMS) == 250
    ends = startup_loan.term_end(loan())
    assert startup_loan.period_subsidy(period(date(2020, 4, 1), date(2020, 6, 30)), loan(), ends, PARAMS) == 62_500


@pytest.mark.parametrize(("rate", "lpr", "bp"), [
    (600, 385, 300),   # the rate above LPR + 150 is not subsidised: min(600, 535) − 235
    (535, 385, 300),
    (385, 385, 150),
    (235, 385, 0),     # the borrower bears all of it
    (200, 385, 0),     # never negative
    (300, 100, 250),   # LPR − 150 below 0 counts as 0: min(300, 250) − 0
])
def test_k13_subsidy_pays_the_rate_above_lpr_minus_150_up_to_lpr_plus_cap(rate: int, lpr: int, bp: int) -> None:
    """The borrower bears interest up to a rate of LPR − `loan.borrower_bp_below_lpr`; the subsidy
    pays the rest, for a rate of at most LPR + `loan.rate_cap_over_lpr_bp`:
    `subsidy = floor(interest × (min(rate, LPR + cap) − max(0, LPR − 150)) / rate)`."""
    assert startup_loan.subsidised_bp(rate, lpr, GRANTED, PARAMS) == bp


def test_k13_subsidy_is_floored_to_the_fen() -> None:
    """Money is an integer number of fen; rounding down to the fen."""
    ends = startup_loan.term_end(loan())
    # 100001 × 250 / 485 = 51546.9…
    assert startup_loan.period_subsidy(period(date(2020, 4, 1), date(2020, 6, 30), 100_001), loan(), ends, PARAMS) == 51_546


def test_k13_a_period_running_past_the_term_is_paid_pro_rata_by_days_inside_it() -> None:
    """A period that runs past the end of the subsidised term is paid pro rata by days inside it (floor)."""
    short = loan(term_months=2)  # term [2020-04-01, 2020-06-01): 61 of the quarter's 91 days
    ends = startup_loan.term_end(short)
    assert ends == date(2020, 6, 1)
    assert startup_loan.period_subsidy(period(date(2020, 4, 1), date(2020, 6, 30)), short, ends, PARAMS) == 121_250 * 250 * 61 // (485 * 91)


def test_k13_a_period_wholly_after_the_term_pays_nothing() -> None:
    """a period wholly after it pays nothing."""
    short = loan(term_months=2)
    ends = startup_loan.term_end(short)
    assert startup_loan.period_subsidy(period(date(2020, 7, 1), date(2020, 9, 30), name="2020-Q3"), short, ends, PARAMS) == 0


def test_k13_paid_to_the_lending_bank_from_inclusive_finance_fund() -> None:
    """Paid to the lending bank (`bank/<id>`), program `loan_interest_subsidy`, period `YYYY-Qn`,
    fund `inclusive_finance_fund`."""
    assert startup_loan.payee("B1") == "bank/B1"
    assert (startup_loan.PROGRAM, startup_loan.FUND) == ("loan_interest_subsidy", Fund.INCLUSIVE_FINANCE)


# -- extension, completion, default ---------------------------------------------------------------
def test_k13_an_epidemic_extension_requested_in_time_lengthens_the_subsidised_term() -> None:
    """With reason `epidemic`, requested on or before `loan.extension_window_until`, the subsidised
    term grows by those months"""
    months = startup_loan.subsidised_months([startup_loan.Extension(date(2020, 12, 31), 6, startup_loan.EPIDEMIC)], PARAMS)
    assert months == 6
    assert startup_loan.term_end(loan(), months) == date(2022, 10, 1)


@pytest.mark.parametrize("extension", [
    startup_loan.Extension(date(2020, 6, 1), 6, "other"),
    startup_loan.Extension(date(2021, 1, 1), 6, startup_loan.EPIDEMIC),
    startup_loan.Extension(date(2020, 6, 1), 13, startup_loan.EPIDEMIC),
])
def test_k13_any_other_extension_is_not_subsidised(extension: startup_loan.Extension) -> None:
    """any other extension is noted and not subsidised (months ≤ `loan.extension_max_months`)."""
    assert startup_loan.subsidised_months([extension], PARAMS) == 0


def test_k13_extensions_together_add_at_most_extension_max_months() -> None:
    extensions = [startup_loan.Extension(date(2020, 5, 1), 8, startup_loan.EPIDEMIC), startup_loan.Extension(date(2020, 9, 1), 8, startup_loan.EPIDEMIC)]
    assert startup_loan.subsidised_months(extensions, PARAMS) == 12


def test_k13_the_subsidised_term_over_and_its_last_period_paid_completes() -> None:
    """the subsidised term over and its last period paid → `completed`"""
    ends = startup_loan.term_end(loan(term_months=3))  # 2020-07-01
    assert startup_loan.term_paid_out(period(date(2020, 4, 1), date(2020, 6, 30)), ends)
    assert not startup_loan.term_paid_out(period(date(2020, 4, 1), date(2020, 6, 29)), ends)


def test_k13_no_subsidy_for_periods_ending_after_the_default_date() -> None:
    """`loan.defaulted` → `defaulted`: no subsidy for periods ending after the default date"""
    ends = startup_loan.term_end(loan())
    q2 = period(date(2020, 4, 1), date(2020, 6, 30))
    assert startup_loan.period_subsidy(q2, loan(), ends, PARAMS, defaulted_on=date(2020, 6, 29)) == 0
    assert startup_loan.period_subsidy(q2, loan(), ends, PARAMS, defaulted_on=date(2020, 6, 30)) == 62_500


def test_k13_parameters_are_those_in_force_on_the_period_start() -> None:
    """POLICY.md: a case uses the value in force on the date of each payment's period start."""
    changed = PARAMS.with_change("loan.rate_cap_over_lpr_bp", 50, date(2020, 7, 1))
    ends = startup_loan.term_end(loan())
    assert startup_loan.period_subsidy(period(date(2020, 4, 1), date(2020, 6, 30)), loan(), ends, changed) == 62_500
    q3 = period(date(2020, 7, 1), date(2020, 9, 29), name="2020-Q3")  # 91 days like Q2
    # min(485, 435) − 235 = 200 bp
    assert startup_loan.period_subsidy(q3, loan(), ends, changed) == 121_250 * 200 // 485


def test_k13_loan_from_the_event_data() -> None:
    data = {"loan_id": "L1", "bank_id": "B1", "borrower": "E1", "borrower_kind": "small_enterprise", "city": "2101",
            "principal": 5, "rate_bp": 485, "lpr_bp": 385, "granted_on": "2020-04-01", "term_months": 12}
    parsed = startup_loan.Loan.from_data(data)
    assert parsed.granted_on == GRANTED and parsed.groups == () and parsed.borrower_subject == "enterprise/E1"


@pytest.mark.parametrize(("kind", "size", "principal", "term", "waits"), [
    (startup_loan.SMALL_ENTERPRISE, None, 200_000_000, 24, True),  # no registration on file: it may still come
    (startup_loan.SMALL_ENTERPRISE, "medium", 200_000_000, 24, False),  # registered, not small: decided with the fact
    (startup_loan.SMALL_ENTERPRISE, None, 300_000_001, 24, False),  # over loan.enterprise_max whatever the registration
    (startup_loan.SMALL_ENTERPRISE, None, 200_000_000, 37, False),  # over loan.max_term_months
    (startup_loan.INDIVIDUAL, None, 10_000_000, 24, False),  # the startup groups come vetted on the grant
])
def test_k13_only_a_missing_registration_is_a_decision_taken_without_a_fact(
        kind: str, size: str | None, principal: int, term: int, waits: bool) -> None:
    """POLICY.md part 2 "late facts across topics": "for an enterprise not on file"."""
    borrower = loan(borrower_kind=kind, principal=principal, term_months=term, groups=())
    assert startup_loan.borrower_ineligibility(borrower, size, PARAMS) is not None
    assert startup_loan.awaits_registration(borrower, size, PARAMS) is waits
