"""The contribution-driven schedule shared by K4 and K15 (policy/contribution_schedule.py): the
report that stands per month, what each month owes, and the state carried before reports were
compared (POLICY.md part 2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from itertools import permutations

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events import ContractSigned
from policy import enterprise_si, flexible
from policy.calendar import SHANGHAI
from policy.contribution_schedule import Report, contribution_owed, months_worth, next_due, take_report
from policy.corrections import LedgerEntry, reconcile
from policy.pack import load_pack
from policy.subsidy_period import Period
from workflows.enterprise_si_subsidy import EnterpriseSiSubsidyWorkflow
from workflows.flexible_employment_subsidy import FlexibleEmploymentSubsidyWorkflow

D = date


def moment(day: int, hour: int = 10) -> datetime:
    return datetime(2020, 5, day, hour, tzinfo=SHANGHAI)


def test_a_later_report_replaces_the_one_that_stands_and_the_month_keeps_its_first_day() -> None:
    first = take_report(None, 84000, moment(25), "si/2101#1")
    assert first == Report(84000, D(2020, 5, 25), moment(25), "si/2101#1")
    later = take_report(first, 90000, moment(28), "si/2101#2")
    assert later == Report(90000, D(2020, 5, 25), moment(28), "si/2101#2")
    # A report dated before the one that stands, delivered after it, replaces nothing.
    assert take_report(later, 1, moment(26), "si/2101#3") == Report(90000, D(2020, 5, 25), moment(28), "si/2101#2")
    # A month carried before reports were compared (no time): any report replaces it.
    assert take_report(Report(84000, D(2020, 5, 25)), 42000, moment(27), "si/2101#4").amount == 42000


reports = st.lists(
    st.tuples(st.integers(0, 200000), st.integers(1, 31), st.integers(0, 23), st.integers(1, 50)), min_size=1, max_size=6,
    unique_by=lambda r: r[3],  # one event id, one report (a redelivery is dropped before a case sees it)
)


@settings(max_examples=200, deadline=None)
@given(reports)
def test_the_report_that_stands_does_not_depend_on_the_order_of_delivery(given_reports: list[tuple[int, int, int, int]]) -> None:
    def stands(order: list[tuple[int, int, int, int]]) -> Report:
        known = None
        for amount, day, hour, n in order:
            known = take_report(known, amount, moment(day, hour), f"si/2101#{n}")
        assert known is not None
        return known

    in_order = stands(given_reports)
    for shuffled in list(permutations(given_reports))[:24]:
        assert stands(list(shuffled)) == in_order


def test_owed_states_each_reported_month_and_zero_for_a_stopped_or_excluded_one() -> None:
    months = ["2020-05", "2020-06", "2020-07"]
    known = {m: Report(100, D(2020, 6, 20)) for m in ("2020-04", "2020-05", "2020-07", "2020-09")}
    owed = contribution_owed(
        program="p", payee="person/X", fund="f", months=months, reports=known, stops_on=D(2020, 7, 1), not_before=D(2020, 5, 20),
        amount=lambda m, r: r.amount * 2, rule=lambda m, r: f"rule {m}", stopped_rule="stopped", excluded={"2020-09": "exempt"},
    )
    assert [(o.period, o.amount, o.due_on, o.rule) for o in owed] == [
        ("2020-05", 200, D(2020, 6, 20), "rule 2020-05"),  # 2020-04 is before the period: not stated
        ("2020-07", 0, D(2020, 7, 1), "stopped"),
        ("2020-09", 0, D(2020, 9, 1), "exempt"),
    ]
    paid = [LedgerEntry("p", "2020-05", "payment", 200, "f", "person/X", D(2020, 6, 20), "rule 2020-05")]
    assert next_due(owed, paid) is None and next_due(owed, []) == D(2020, 6, 20)
    paid.append(LedgerEntry("p", "2020-07", "payment", 200, "f", "person/X", D(2020, 7, 1), "r"))
    rows = reconcile(owed, paid, D(2020, 8, 1), Fraction(1, 2), "lc#1")
    assert [(r.period, r.entry, r.amount, r.rule, r.cause) for r in rows] == [("2020-07", "overpayment", 200, "stopped", "lc#1")]
    assert months_worth(paid + rows, "p") == {"2020-05": 200, "2020-07": 0}


def test_k4_owes_the_ratio_in_force_on_each_month_of_what_was_paid() -> None:
    params = load_pack().parameters("2101").with_change("flexible.ratio", [3, 4], D(2020, 6, 1))
    period = Period(start=D(2020, 5, 1), end=D(2023, 5, 1), months=36)
    known = {m: Report(84000, D(2020, 7, 20)) for m in ("2020-05", "2020-06", "2020-07")}
    owed = flexible.owed_by_month(payee="person/F", period=period, reports=known, employed_from=D(2020, 7, 1),
                            applied_on=D(2020, 5, 20), params=params)
    assert [(o.period, o.amount, o.rule) for o in owed] == [
        ("2020-05", 56000, "§13/§16: 2/3 of the 84000 fen contributed for 2020-05"),
        ("2020-06", 63000, "§13/§16: 3/4 of the 84000 fen contributed for 2020-06"),
        ("2020-07", 0, flexible.RULE_NOT_OWED_AFTER_EMPLOYMENT),
    ]


def test_k15_owes_counted_months_up_to_the_separation_month_and_nothing_for_exempted_ones() -> None:
    contract = ContractSigned.model_validate({"person_id": "Q", "employer_id": "X", "signed_on": "2020-03-05",
                                              "starts_on": "2020-03-05", "term_months": 24})
    exempt = {"2020-04"}
    counted = enterprise_si.counted_months(contract.starts_on, 36, exempt)
    known = {m: Report(50000, D(2020, 6, 20)) for m in ("2020-03", "2020-04", "2020-05", "2020-06")}
    owed = enterprise_si.owed_by_month(contract=contract, counted=counted, exempt=exempt, reports=known, separated_on=D(2020, 5, 31))
    assert [(o.period, o.amount, o.payee) for o in owed] == [
        ("2020-03", 50000, "enterprise/X"), ("2020-05", 50000, "enterprise/X"), ("2020-06", 0, "enterprise/X"),
        ("2020-04", 0, "enterprise/X"),
    ]
    assert [o.rule for o in owed][1:] == [enterprise_si.share_rule(contract, "2020-05", 50000, 2), enterprise_si.RULE_SEPARATED, enterprise_si.RULE_EXEMPTED]


def test_contributions_carried_before_reports_were_compared_restore_as_reports() -> None:
    """K4 and K15 carried `contributions` as month → [fen, received]; such a payload restores."""
    for workflow_class in (FlexibleEmploymentSubsidyWorkflow, EnterpriseSiSubsidyWorkflow):
        payload = workflow_class().carry()
        payload["contributions"] = {"2020-05": [84000, "2020-05-25"]}
        for name in ("reconciles", "cause"):
            del payload[name]
        after = workflow_class()
        after.restore(payload)
        assert after.st.contributions == {"2020-05": Report(84000, D(2020, 5, 25))}
        assert after.st.reconciles is False  # an old case keeps paying the old way
        again = workflow_class()
        after.st.contributions["2020-06"] = Report(1, D(2020, 6, 2), moment(2) + timedelta(days=31), "si#9")
        again.restore(after.carry())
        assert again.st.contributions == after.st.contributions
