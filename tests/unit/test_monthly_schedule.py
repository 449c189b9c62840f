"""The shared monthly benefit schedule, K2's and K3's statements of what they owe, and the ledger
and reconciling state a case carries across continue-as-new (POLICY.md part 2)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from policy import unemployment
from policy.corrections import LedgerEntry, Owed, reconcile
from policy.monthly_schedule import month_number, month_period, month_start, monthly_owed
from policy.pack import load_pack
from workflows.dibao_taper import DibaoTaperWorkflow
from workflows.unemployment_assistance import UnemploymentAssistanceWorkflow
from workflows.unemployment_insurance import UnemploymentInsuranceWorkflow

D = date


def test_monthly_owed_names_each_month_and_defaults_due_to_its_start() -> None:
    rows = monthly_owed(program="p", payee="person/X", fund="f", first_day=D(2020, 1, 31), months=[1, 2, 3],
                        amount=lambda n, start: 100 * n, rule=lambda n, start: f"rule {n}")
    assert rows == [
        Owed("p", "month-1", 100, "f", "person/X", D(2020, 1, 31), "rule 1"),
        Owed("p", "month-2", 200, "f", "person/X", D(2020, 2, 29), "rule 2"),
        Owed("p", "month-3", 300, "f", "person/X", D(2020, 3, 31), "rule 3"),
    ]
    assert month_start(D(2020, 1, 31), 2) == D(2020, 2, 29)
    assert month_number(month_period(17)) == 17


def test_k2_months_due_stop_at_reemployment_retirement_and_entitlement() -> None:
    claim = D(2020, 3, 15)
    assert unemployment.months_due(D(2020, 6, 20), claim, D(2045, 1, 1), None, 12, False) == [1, 2, 3, 4]
    assert unemployment.months_due(D(2020, 6, 20), claim, D(2045, 1, 1), D(2020, 5, 1), 12, False) == [1, 2]
    assert unemployment.months_due(D(2020, 6, 20), claim, D(2020, 5, 15), None, 12, False) == [1, 2]
    assert unemployment.months_due(D(2021, 6, 20), claim, D(2045, 1, 1), None, 12, False) == list(range(1, 13))


def test_k2_owed_by_month_reconciles_a_backdated_benefit_change_into_arrears() -> None:
    changed = load_pack().parameters("2101").with_change("ui.monthly_benefit", 160000, D(2020, 4, 1))
    owed = unemployment.owed_by_month(payee="person/X", claim_on=D(2020, 3, 2), months=[1, 2, 3], entitlement=12,
                            params=changed, declared_on=None, lifted_on=None, benefit_rule="b",
                            continuation_rule="c", uplift_rule="u")
    assert [(o.program, o.period, o.amount) for o in owed] == [
        (unemployment.PROGRAM_BENEFIT, "month-1", 150000), (unemployment.PROGRAM_BENEFIT, "month-2", 160000),
        (unemployment.PROGRAM_BENEFIT, "month-3", 160000),
        (unemployment.PROGRAM_UPLIFT, "month-1", 0), (unemployment.PROGRAM_UPLIFT, "month-2", 0), (unemployment.PROGRAM_UPLIFT, "month-3", 0),
    ]
    paid = [LedgerEntry(unemployment.PROGRAM_BENEFIT, f"month-{n}", "payment", 150000, "ui_fund", "person/X", d, "b")
            for n, d in ((1, D(2020, 3, 2)), (2, D(2020, 4, 2)), (3, D(2020, 5, 2)))]
    rows = reconcile(owed, paid, D(2020, 5, 10), Fraction(1, 2), "test#1")
    assert [(r.period, r.entry, r.amount, r.seq, r.corrects, r.cause) for r in rows] == [
        ("month-2", "arrears", 10000, 1, "month-2", "test#1"),
        ("month-3", "arrears", 10000, 1, "month-3", "test#1"),
    ]


def test_a_payload_carried_before_corrections_restores_as_nothing_written_through_reconcile() -> None:
    before = UnemploymentInsuranceWorkflow()
    payload = before.carry()
    for name in ("ledger", "reconciles", "cause"):
        del payload[name]
    after = UnemploymentInsuranceWorkflow()
    after.restore(payload)
    assert after.ledger == []
    assert after.st.reconciles is False  # an old case keeps paying the old way

    row = LedgerEntry("p", "month-1", "overpayment", 500, "ui_fund", "person/X", D(2020, 5, 10), "r", 1, "month-1", "e#1")
    before.ledger = [row]
    again = UnemploymentInsuranceWorkflow()
    again.restore(before.carry())
    assert again.ledger == [row]


def test_k3_months_due_are_those_started_by_today_up_to_the_reemployment_month() -> None:
    opened = D(2020, 4, 1)
    assert unemployment.assistance_months_due(D(2020, 7, 10), opened, 6, None) == [1, 2, 3, 4]
    assert unemployment.assistance_months_due(D(2020, 7, 10), opened, 6, D(2020, 5, 10)) == [1, 2]
    assert unemployment.assistance_months_due(D(2020, 7, 10), opened, 6, D(2020, 6, 1)) == [1, 2, 3]  # starts that day
    assert unemployment.assistance_months_due(D(2021, 1, 1), opened, 6, None) == [1, 2, 3, 4, 5, 6]


def test_k3_assistance_owed_follows_a_backdated_ratio_change_from_its_effective_date() -> None:
    changed = load_pack().parameters("2101").with_change("ua.ratio", [70, 100], D(2020, 5, 1))
    owed = unemployment.assistance_owed(payee="person/X", opened_on=D(2020, 4, 1), months=[1, 2], params=changed, rule="r")
    assert owed == [
        Owed(unemployment.PROGRAM_ASSISTANCE, "month-1", 120000, "ui_fund", "person/X", D(2020, 4, 1), "r"),
        Owed(unemployment.PROGRAM_ASSISTANCE, "month-2", 105000, "ui_fund", "person/X", D(2020, 5, 1), "r"),
    ]


@pytest.mark.parametrize("workflow_class", [UnemploymentAssistanceWorkflow, DibaoTaperWorkflow])
def test_k3_and_k10_payloads_carried_before_corrections_keep_paying_the_old_way(workflow_class: type) -> None:
    payload = workflow_class().carry()
    for name in ("ledger", "reconciles", "cause"):
        del payload[name]
    after = workflow_class()
    after.restore(payload)
    assert (after.ledger, after.st.reconciles, after.st.cause) == ([], False, None)
