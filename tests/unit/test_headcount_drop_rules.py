"""M2 headcount_drop (§23 社保缴纳大数据比对, §3): the pure rules and the bounded state of
policy/headcount_drop.py, each test named after the POLICY.md rule it guards."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from policy import headcount_drop
from policy.pack import load_pack

PARAMS = load_pack().parameters("2101")


def fill(state: headcount_drop.HeadcountState, month: str, persons: int, enterprise: str = "E1") -> list[headcount_drop.Comparison]:
    found = [state.add(enterprise, month, f"P{i}") for i in range(persons)]
    return [c for c in found if c is not None]


def test_m2_pack_ships_drop_ratio_drop_min_and_drop_plan_days() -> None:
    """POLICY.md table: `monitoring.drop_ratio` / `drop_min` / `drop_plan_days` 20% / 20 persons / 90."""
    assert PARAMS.ratio("monitoring.drop_ratio") == Fraction(1, 5)
    assert (PARAMS.get("monitoring.drop_min"), PARAMS.get("monitoring.drop_plan_days")) == (20, 90)


def test_m2_headcount_is_the_distinct_persons_with_a_contribution_for_the_month() -> None:
    """An enterprise's insured headcount for a month = the distinct persons with a
    `contribution.paid` from that employer for that month."""
    state = headcount_drop.HeadcountState()
    for person in ("P1", "P2", "P1", "P3", "P2"):
        state.add("E1", "2020-03", person)
    state.add("E2", "2020-03", "P1")
    assert (state.headcount("E1", "2020-03"), state.headcount("E2", "2020-03")) == (3, 1)


def test_m2_the_first_contribution_of_m_plus_1_compares_m_minus_1_and_m() -> None:
    """When the first contribution of month M+1 from an enterprise arrives, months M−1 and M are compared"""
    state = headcount_drop.HeadcountState()
    assert fill(state, "2020-03", 100) == []
    assert fill(state, "2020-04", 70) == []  # no February: no baseline to drop from
    assert fill(state, "2020-05", 5) == [headcount_drop.Comparison("E1", "2020-03", 100, "2020-04", 70)]


def test_m2_a_month_without_contributions_has_a_headcount_of_0() -> None:
    state = headcount_drop.HeadcountState()
    fill(state, "2020-03", 30)
    assert fill(state, "2020-05", 1) == [headcount_drop.Comparison("E1", "2020-03", 30, "2020-04", 0)]


@pytest.mark.parametrize(("before", "after", "drop"), [
    (100, 80, True),    # exactly 20% and 20 persons
    (100, 81, False),   # 19%
    (99, 79, True),     # 79 ≤ 79.2, 20 persons
    (50, 30, True),
    (50, 31, False),    # 38% but 19 persons
    (0, 0, False),
])
def test_m2_a_drop_of_drop_ratio_and_at_least_drop_min_persons(before: int, after: int, drop: bool) -> None:
    """if headcount(M) ≤ headcount(M−1) × (1 − `monitoring.drop_ratio`) and the drop is at least
    `monitoring.drop_min` persons"""
    assert headcount_drop.is_drop(headcount_drop.Comparison("E1", "2020-03", before, "2020-04", after), PARAMS) is drop


@pytest.mark.parametrize(("filed_on", "explained"), [
    (date(2020, 4, 30), True),   # the end of month M
    (date(2020, 1, 31), True),   # 90 days before it
    (date(2020, 1, 30), False),
    (date(2020, 5, 1), False),   # after the end of M: not before it
])
def test_m2_no_alert_when_a_layoff_plan_was_filed_within_drop_plan_days_before_the_end_of_m(filed_on: date, explained: bool) -> None:
    """and no K8 layoff plan of the enterprise was filed within `monitoring.drop_plan_days` before
    the end of month M, a `headcount_drop` alert is raised"""
    comparison = headcount_drop.Comparison("E1", "2020-03", 100, "2020-04", 50)
    assert headcount_drop.explained_by_layoff_plan("2020-04", [filed_on], PARAMS) is explained
    assert headcount_drop.should_alert(comparison, [filed_on], PARAMS) is not explained
    assert headcount_drop.should_alert(comparison, [], PARAMS)


def test_m2_once_per_enterprise_and_month() -> None:
    """Once per enterprise and month."""
    state = headcount_drop.HeadcountState()
    fill(state, "2020-03", 100)
    fill(state, "2020-04", 50)
    [comparison] = fill(state, "2020-05", 1)
    assert comparison.month == "2020-04" and headcount_drop.should_alert(comparison, [], PARAMS)
    assert fill(state, "2020-05", 40) == []  # later contributions of M+1 compare nothing again

    remembered = headcount_drop.HeadcountState()
    fill(remembered, "2020-03", 100)
    fill(remembered, "2020-04", 50)
    remembered.mark_alerted("E1", "2020-04")  # e.g. the alert was raised before a restart
    assert fill(remembered, "2020-05", 1) == []


def test_m2_months_older_than_three_are_dropped_and_late_contributions_for_them_ignored() -> None:
    """with bounded state: per enterprise and month a distinct count, months older than three dropped."""
    state = headcount_drop.HeadcountState()
    for month in ("2020-01", "2020-02", "2020-03", "2020-04"):
        fill(state, month, 10)
    assert state.months("E1") == ["2020-02", "2020-03", "2020-04"]
    assert state.add("E1", "2020-01", "P99") is None
    assert state.months("E1") == ["2020-02", "2020-03", "2020-04"] and state.size == 30


def test_m2_state_size_for_100000_contributions_over_3_months_is_bounded() -> None:
    """The issue: show the state size for 100,000 contributions over 3 months. 500 enterprises of
    about 67 persons for 3 months hold one entry per distinct (enterprise, month, person); a fourth
    month drops the first, so the state does not grow with the stream."""
    state = headcount_drop.HeadcountState()
    months = ["2020-03", "2020-04", "2020-05", "2020-06"]
    contributions = 0
    for month in months[:3]:
        for n in range(33_334):
            if contributions == 100_000:
                break
            state.add(f"E{n % 500}", month, f"P{n}")
            contributions += 1
    assert contributions == 100_000
    assert state.size == 100_000  # every contribution here is a distinct (enterprise, month, person)
    for n in range(33_334):
        state.add(f"E{n % 500}", months[3], f"P{n}")
    assert state.size == 33_333 + 33_333 + 33_334  # 2020-04, 2020-05, 2020-06
    assert all(state.months(f"E{e}") == months[1:] for e in range(500))
