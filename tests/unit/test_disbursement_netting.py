"""Netting of late deductions (policy/disbursement.net_late_deductions): a deduction written after
its payment was instructed nets against the payee's next keys of the same fund, at most the
recovery ratio of each, oldest first, and what it has left waits for the next key."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from policy import disbursement as rules

HALF = Fraction(50, 100)


def due(key: str, amount: int, payee: str = "person/P1", fund: str = "employment_subsidy_fund",
        deducted: tuple[rules.Netting, ...] = ()) -> rules.Due:
    return rules.Due(ledger_key=key, case_id="internship/P1/U1", payee=payee, fund=fund, city="2101",
                     amount=amount, due_on=date(2020, 6, 1), deducted=deducted)


def late(key: str, remaining: int, payee: str = "person/P1", fund: str = "employment_subsidy_fund") -> rules.OpenDeduction:
    return rules.OpenDeduction(deduction_key=key, payee=payee, fund=fund, remaining=remaining)


def test_a_late_deduction_takes_at_most_the_ratio_of_the_next_key_and_both_amounts_are_recorded() -> None:
    netted = rules.net_late_deductions(due("k2", 120000), [late("d1", 90000)], HALF)
    assert (netted.amount, netted.gross, netted.deducted) == (60000, 120000, (rules.Netting("d1", 60000),))
    left = rules.less_netted([late("d1", 90000)], netted)
    assert left == [late("d1", 30000)]  # waits for the next key
    after = rules.net_late_deductions(due("k3", 120000), left, HALF)
    assert (after.amount, after.deducted) == (90000, (rules.Netting("d1", 30000),))
    assert rules.less_netted(left, after) == []  # taken in full, once: 60000 + 30000


def test_the_ratio_caps_all_late_deductions_together_oldest_first() -> None:
    netted = rules.net_late_deductions(due("k2", 10001), [late("d1", 3000), late("d2", 9000)], HALF)
    # floor(10001 / 2) = 5000 fen: never more than the ratio, rounding against the deduction.
    assert netted.deducted == (rules.Netting("d1", 3000), rules.Netting("d2", 2000))
    assert netted.amount == 5001


def test_a_deduction_of_another_payee_or_fund_is_not_netted() -> None:
    others = [late("d1", 5000, payee="person/P2"), late("d2", 5000, fund="ui_fund")]
    assert rules.net_late_deductions(due("k2", 120000), others, HALF) == due("k2", 120000)


def test_late_deductions_add_to_the_deductions_of_the_rows_own_payment() -> None:
    own = (rules.Netting("own", 20000),)
    netted = rules.net_late_deductions(due("k2", 100000, deducted=own), [late("d1", 80000)], HALF)
    assert netted.deducted == (*own, rules.Netting("d1", 50000))
    assert (netted.amount, netted.gross) == (50000, 120000)
