"""POLICY.md part 2, "What a case owes, and corrections": `policy.corrections.reconcile`, each
test named after the rule it guards."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from policy.corrections import LedgerEntry, Owed, outstanding, reconcile, worth

HALF = Fraction(1, 2)
PAYEE = "person/P1"
FUND = "ui_fund"


def owed(period: int, amount: int, fund: str = FUND, payee: str = PAYEE, program: str = "ui_benefit") -> Owed:
    return Owed(program, f"month-{period}", amount, fund, payee, date(2020, period, 28), f"rule of month {period}")


def apply(ledger: list[LedgerEntry], schedule: list[Owed], today: date, cause: str = "src#e1") -> list[LedgerEntry]:
    new = reconcile(schedule, ledger, today, HALF, cause)
    ledger.extend(new)
    return new


def test_a_due_period_never_paid_gets_its_original_payment_row() -> None:
    new = apply([], [owed(1, 150000), owed(2, 150000)], date(2020, 1, 31))
    assert [(r.period, r.entry, r.amount, r.seq, r.corrects) for r in new] == [("month-1", "payment", 150000, 0, None)]


def test_periods_not_yet_due_are_left_alone() -> None:
    assert apply([], [owed(3, 150000)], date(2020, 3, 27)) == []


def test_paid_less_than_owed_becomes_an_arrears_row_for_the_difference_due_at_once_same_fund() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000)], date(2020, 2, 1))
    new = apply(ledger, [owed(1, 170000)], date(2020, 5, 6), cause="policy/21#uplift")
    assert [(r.entry, r.amount, r.fund, r.due_on, r.corrects, r.cause) for r in new] == [
        ("arrears", 20000, FUND, date(2020, 5, 6), "month-1", "policy/21#uplift")]


def test_paid_more_than_owed_becomes_an_overpayment_row_a_receivable() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    # A re-employment dated 2020-02-01, reported late: month 2 is owed nothing.
    new = apply(ledger, [owed(1, 150000), owed(2, 0)], date(2020, 3, 10), cause="reg/2101#reemployed")
    assert [(r.period, r.entry, r.amount, r.corrects) for r in new] == [("month-2", "overpayment", 150000, "month-2")]
    assert outstanding(ledger) == {(PAYEE, FUND): 150000}


def test_a_period_no_longer_owed_at_all_is_overpaid_by_what_it_was_worth() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    new = apply(ledger, [owed(1, 150000)], date(2020, 3, 10))  # eligibility removed from month 2
    assert [(r.period, r.entry, r.amount) for r in new] == [("month-2", "overpayment", 150000)]


def test_overpayment_is_recovered_from_the_same_payees_later_payments_at_most_the_ratio_of_each() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    schedule = [owed(1, 150000), owed(2, 0), owed(3, 100000), owed(4, 100000), owed(5, 100000)]
    apply(ledger, schedule, date(2020, 3, 10))
    third = apply(ledger, schedule, date(2020, 3, 31))
    assert [(r.period, r.entry, r.amount, r.corrects) for r in third] == [
        ("month-3", "payment", 100000, None), ("month-3", "deduction", 50000, "month-2")]
    apply(ledger, schedule, date(2020, 4, 30))
    fifth = apply(ledger, schedule, date(2020, 5, 31))
    assert [(r.entry, r.amount) for r in fifth] == [("payment", 100000), ("deduction", 50000)]
    assert outstanding(ledger) == {}
    assert sum(r.amount for r in ledger if r.entry == "deduction") == 150000


def test_deductions_only_from_the_same_payee_and_the_same_fund() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000)], date(2020, 2, 1))
    schedule = [owed(1, 0), owed(2, 100000, fund="local_fund"), owed(3, 100000, payee="person/P2")]
    new = apply(ledger, schedule, date(2020, 3, 31))
    assert [r.entry for r in new] == ["overpayment", "payment", "payment"]
    assert outstanding(ledger) == {(PAYEE, FUND): 150000}  # left for a supervisor task


def test_a_deduction_names_the_event_that_made_the_period_it_recovers_overpaid() -> None:
    """POLICY.md part 2 "each correction names the period it corrects, the rule, and the event
    that caused it": a deduction taken from a plain payment (no cause of its own) or from arrears
    of another cause names the overpayment's event, not the payment's."""
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    apply(ledger, [owed(1, 150000), owed(2, 0), owed(3, 100000)], date(2020, 3, 10), cause="reg/2101#reemployed")
    from_payment = apply(ledger, [owed(1, 150000), owed(2, 0), owed(3, 100000)], date(2020, 3, 31), cause="unrelated#e9")
    assert [(r.period, r.entry, r.amount, r.corrects, r.cause) for r in from_payment] == [
        ("month-3", "payment", 100000, None, None), ("month-3", "deduction", 50000, "month-2", "reg/2101#reemployed")]
    from_arrears = apply(ledger, [owed(1, 170000), owed(2, 0), owed(3, 100000)], date(2020, 4, 2), cause="policy/21#uplift")
    assert [(r.period, r.entry, r.amount, r.corrects, r.cause) for r in from_arrears] == [
        ("month-1", "arrears", 20000, "month-1", "policy/21#uplift"),
        ("month-1", "deduction", 10000, "month-2", "reg/2101#reemployed")]


def test_a_deduction_spanning_two_overpayments_of_a_period_names_each_cause_oldest_first() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000)], date(2020, 2, 1))
    apply(ledger, [owed(1, 140000)], date(2020, 2, 5), cause="param#cut")  # overpaid by 10000
    apply(ledger, [owed(1, 100000)], date(2020, 2, 6), cause="reg#interruption")  # by 40000 more
    new = apply(ledger, [owed(1, 100000), owed(2, 100000)], date(2020, 2, 28))
    assert [(r.period, r.entry, r.amount, r.seq, r.corrects, r.cause) for r in new] == [
        ("month-2", "payment", 100000, 0, None, None),
        ("month-2", "deduction", 10000, 1, "month-1", "param#cut"),
        ("month-2", "deduction", 40000, 2, "month-1", "reg#interruption")]
    later = apply(ledger, [owed(1, 100000), owed(2, 100000), owed(3, 20000)], date(2020, 3, 28))
    assert outstanding(ledger) == {}
    assert [(r.entry, r.amount, r.cause) for r in later] == [("payment", 20000, None)]


def test_an_overpayment_repaid_or_written_off_is_not_deducted_again_oldest_first() -> None:
    """An `overpayment_recovery` task decided repaid / written off settles what it covered
    outside deduction: later payments carry deductions only for what is still outstanding."""
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    apply(ledger, [owed(1, 100000), owed(2, 100000)], date(2020, 3, 5), cause="param#cut")  # 2 x 50000
    settled = {(PAYEE, FUND): 60000}  # month-1's 50000 and 10000 of month-2's
    assert outstanding(ledger, settled) == {(PAYEE, FUND): 40000}
    new = reconcile([owed(1, 100000), owed(2, 100000), owed(3, 100000)], ledger, date(2020, 3, 31), HALF, None,
                    settled=settled)
    assert [(r.period, r.entry, r.amount, r.corrects, r.cause) for r in new] == [
        ("month-3", "payment", 100000, None, None), ("month-3", "deduction", 40000, "month-2", "param#cut")]
    ledger.extend(new)
    assert outstanding(ledger, settled) == {}
    assert reconcile([owed(1, 100000), owed(2, 100000), owed(3, 100000), owed(4, 100000)], ledger, date(2020, 4, 30),
                     HALF, None, settled={(PAYEE, FUND): 100000}) == [
        LedgerEntry("ui_benefit", "month-4", "payment", 100000, FUND, PAYEE, date(2020, 4, 28), "rule of month 4")]


def test_each_correction_names_the_period_it_corrects_the_rule_and_the_event() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000)], date(2020, 2, 1))
    (row,) = apply(ledger, [owed(1, 100000)], date(2020, 2, 5), cause="si/2101#late-interruption")
    assert (row.corrects, row.rule, row.cause) == ("month-1", "rule of month 1", "si/2101#late-interruption")


def test_the_original_row_is_never_changed_and_a_second_correction_gets_the_next_seq() -> None:
    ledger: list[LedgerEntry] = []
    apply(ledger, [owed(1, 150000)], date(2020, 2, 1))
    original = ledger[0]
    apply(ledger, [owed(1, 170000)], date(2020, 2, 5))
    apply(ledger, [owed(1, 190000)], date(2020, 2, 6))
    assert ledger[0] == original
    assert [(r.entry, r.seq, r.amount) for r in ledger[1:]] == [("arrears", 1, 20000), ("arrears", 2, 20000)]
    keys = [(r.program, r.period, r.entry, r.seq) for r in ledger]
    assert len(keys) == len(set(keys))


def test_reconciling_again_with_no_new_fact_writes_nothing() -> None:
    ledger: list[LedgerEntry] = []
    schedule = [owed(1, 150000), owed(2, 0), owed(3, 100000)]
    apply(ledger, [owed(1, 150000), owed(2, 150000)], date(2020, 3, 1))
    apply(ledger, schedule, date(2020, 3, 31))
    assert reconcile(schedule, ledger, date(2020, 3, 31), HALF) == []


# For every (case, program, period): the original row plus its corrections = what the facts known
# now give — whatever the facts did on the way, and however the recovery went.
schedules = st.lists(st.lists(st.integers(min_value=0, max_value=200000), min_size=6, max_size=6), min_size=1, max_size=6)
days = st.lists(st.integers(min_value=1, max_value=6), min_size=6, max_size=6)


@settings(max_examples=300, deadline=None)
@given(schedules, days, st.sampled_from([Fraction(1, 2), Fraction(1, 3), Fraction(1, 1)]))
def test_original_row_plus_corrections_equals_what_the_facts_known_now_give(
    amounts_seq: list[list[int]], months: list[int], ratio: Fraction,
) -> None:
    ledger: list[LedgerEntry] = []
    steps = list(zip(amounts_seq, sorted(months), strict=False))  # as many steps as schedules
    for amounts, month in steps:
        schedule = [owed(p, a) for p, a in enumerate(amounts, start=1)]
        ledger.extend(reconcile(schedule, ledger, date(2020, month, 28), ratio, "e"))
        assert reconcile(schedule, ledger, date(2020, month, 28), ratio, "e") == []
    final, last_month = steps[-1]
    due = {o.key: o.amount for o in (owed(p, a) for p, a in enumerate(final, start=1)) if o.due_on <= date(2020, last_month, 28)}
    so_far = worth(ledger)
    assert {k: so_far.get(k, 0) for k in set(due) | set(so_far)} == {k: due.get(k, 0) for k in set(due) | set(so_far)}
    assert all(r.amount > 0 for r in ledger)
    # Deductions never exceed the ratio of the rows they are taken from, nor what was overpaid.
    taken: dict[tuple[str, str], int] = {}
    room: dict[tuple[str, str], int] = {}
    for r in ledger:
        if r.entry == "deduction":
            taken[r.key] = taken.get(r.key, 0) + r.amount
        elif r.entry in ("payment", "arrears"):
            room[r.key] = room.get(r.key, 0) + int(r.amount * ratio)
    assert all(amount <= room.get(key, 0) for key, amount in taken.items())
    overpaid = sum(r.amount for r in ledger if r.entry == "overpayment")
    recovered = sum(r.amount for r in ledger if r.entry == "deduction")
    assert recovered <= overpaid
    assert outstanding(ledger).get((PAYEE, FUND), 0) == overpaid - recovered
