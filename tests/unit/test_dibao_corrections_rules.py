"""What a K10 taper owes (POLICY.md part 2): the months at the amount the person received when
employed, and which later grant restates that amount."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from policy import dibao
from policy.corrections import LedgerEntry, Owed, reconcile

D = date
EMPLOYED = D(2020, 3, 10)


def test_taper_owed_is_the_amount_on_the_first_of_each_month_after_the_employment_month() -> None:
    assert dibao.taper_owed(payee="person/X", employed_on=EMPLOYED, months=3, amount=60000, rule="r") == [
        Owed(dibao.PROGRAM, f"2020-0{m}", 60000, "dibao_fund", "person/X", D(2020, m, 1), "r") for m in (4, 5, 6)
    ]


def test_a_grant_covering_the_employment_restates_the_amount_a_later_one_does_not() -> None:
    assert dibao.restates_amount("2020-01", "2020-01", EMPLOYED)  # the same grant sent again
    assert dibao.restates_amount("2020-03", "2020-01", EMPLOYED)  # from the employment's month
    assert not dibao.restates_amount("2020-04", "2020-01", EMPLOYED)  # from after it
    assert not dibao.restates_amount("2019-12", "2020-01", EMPLOYED)  # older than the grant paid


def test_a_restated_amount_reconciles_the_months_paid_into_arrears() -> None:
    owed = dibao.taper_owed(payee="person/X", employed_on=EMPLOYED, months=6, amount=70000, rule="r")
    paid = [LedgerEntry(dibao.PROGRAM, f"2020-0{m}", "payment", 60000, "dibao_fund", "person/X", D(2020, m, 1), "r")
            for m in (4, 5)]
    rows = reconcile(owed, paid, D(2020, 5, 10), Fraction(1, 2), "ca#9")
    assert [(r.period, r.entry, r.amount, r.due_on, r.corrects, r.cause) for r in rows] == [
        ("2020-04", "arrears", 10000, D(2020, 5, 10), "2020-04", "ca#9"),
        ("2020-05", "arrears", 10000, D(2020, 5, 10), "2020-05", "ca#9"),
    ]
