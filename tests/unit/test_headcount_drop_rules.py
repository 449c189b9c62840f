"""M2 headcount_drop (§23 社保缴纳大数据比对, §3): the pure rules of policy/headcount_drop.py and
the headcounts the store counts from the stored contribution facts (MemoryStore here; PgStore
answers the same statement in tests/e2e/test_headcount_drop_store.py), each test named after
the POLICY.md rule it guards."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any

import pytest

from activities.memory_store import MemoryStore
from contracts.events import CloudEvent, parse_event
from policy import headcount_drop
from policy.pack import load_pack
from testkit.events import cloud_event, line

PARAMS = load_pack().parameters("2101")


def contribution(person: str, month: str, employer: str | None = "E1", n: int = 0) -> CloudEvent:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 400000, "employer_amount": 64000,
                            "employee_amount": 32000, "insurances": ["pension"]}
    if employer is not None:
        data["employer_id"] = employer
    return parse_event(line(cloud_event(id=f"c-{person}-{month}-{employer}-{n}", source="si/2101", type="contribution.paid",
                                        subject=f"person/{person}", on=datetime.fromisoformat(f"{month}-15T10:00:00+08:00"),
                                        data=data)))


async def fill(store: MemoryStore, month: str, persons: int, enterprise: str = "E1") -> list[headcount_drop.Comparison]:
    """A batch of `persons` contributions of `month` stored, then its comparisons asked for and
    recorded as judged (what streams/headcount_monitor.py does for a batch)."""
    events = [contribution(f"P{i}", month, enterprise) for i in range(persons)]
    await store.store_subject_facts([(e, [f"person/{e.data['person_id']}", f"enterprise/{enterprise}"]) for e in events])
    found = await store.headcount_comparisons(headcount_drop.arrivals((enterprise, month) for _ in events))
    await store.mark_headcount_judged([(c.enterprise_id, c.month) for c in found])
    return found


def test_m2_pack_ships_drop_ratio_drop_min_and_drop_plan_days() -> None:
    """POLICY.md table: `monitoring.drop_ratio` / `drop_min` / `drop_plan_days` 20% / 20 persons / 90."""
    assert PARAMS.ratio("monitoring.drop_ratio") == Fraction(1, 5)
    assert (PARAMS.get("monitoring.drop_min"), PARAMS.get("monitoring.drop_plan_days")) == (20, 90)


async def test_m2_headcount_is_the_distinct_persons_with_a_contribution_for_the_month() -> None:
    """An enterprise's insured headcount for a month = the distinct persons with a
    `contribution.paid` from that employer for that month."""
    store = MemoryStore()
    events = [contribution(p, "2020-03", "E1", n) for n, p in enumerate(("P1", "P2", "P1", "P3", "P2"))]
    events += [contribution("P1", "2020-03", "E2"), contribution("P4", "2020-03", None)]  # another employer; own
    await store.store_subject_facts([(e, []) for e in events])
    comparisons = await store.headcount_comparisons(headcount_drop.arrivals([("E1", "2020-04"), ("E2", "2020-04")]))
    assert [(c.enterprise_id, c.headcount) for c in comparisons] == [("E1", 3), ("E2", 1)]


async def test_m2_the_first_contribution_of_m_plus_1_compares_m_minus_1_and_m() -> None:
    """When the first contribution of month M+1 from an enterprise arrives, months M−1 and M are compared"""
    store = MemoryStore()
    assert [c for c in await fill(store, "2020-03", 100) if c.previous_headcount or c.headcount] == []
    assert await fill(store, "2020-04", 70) == [headcount_drop.Comparison("E1", "2020-02", 0, "2020-03", 100)]  # no February: no drop
    assert await fill(store, "2020-05", 5) == [headcount_drop.Comparison("E1", "2020-03", 100, "2020-04", 70)]


async def test_m2_a_month_without_contributions_has_a_headcount_of_0() -> None:
    store = MemoryStore()
    await fill(store, "2020-03", 30)
    assert await fill(store, "2020-05", 1) == [headcount_drop.Comparison("E1", "2020-03", 30, "2020-04", 0)]


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


async def test_m2_once_per_enterprise_and_month() -> None:
    """Once per enterprise and month."""
    store = MemoryStore()
    await fill(store, "2020-03", 100)
    await fill(store, "2020-04", 50)
    [comparison] = await fill(store, "2020-05", 1)
    assert comparison.month == "2020-04" and headcount_drop.should_alert(comparison, [], PARAMS)
    assert await fill(store, "2020-05", 40) == []  # later contributions of M+1 compare nothing again
    # Not yet recorded as judged (a crash before `mark_headcount_judged`): asked again, compared again.
    again = MemoryStore()
    await fill(again, "2020-03", 100)
    await fill(again, "2020-04", 50)
    events = [contribution("P0", "2020-05")]
    await again.store_subject_facts([(e, []) for e in events])
    first = await again.headcount_comparisons(headcount_drop.arrivals([("E1", "2020-05")]))
    assert await again.headcount_comparisons(headcount_drop.arrivals([("E1", "2020-05")])) == first == [comparison]


async def test_m2_months_older_than_three_are_dropped_and_late_contributions_for_them_ignored() -> None:
    """with bounded state: per enterprise and month a distinct count, months older than three
    dropped. On stored facts (docs/ARCHITECTURE.md): a comparison is made only while M+1 is the
    enterprise's newest month, so a late contribution of an older month compares nothing."""
    store = MemoryStore()
    for month in ("2020-01", "2020-02", "2020-04"):  # no March
        await fill(store, month, 10)
    # A first, late contribution of March: April is newer, so February vs March is not judged.
    assert await fill(store, "2020-03", 1) == []
    # The same months brought in one batch (M+1 and M+2 together) are both compared, in order.
    both = MemoryStore()
    await fill(both, "2020-01", 30)
    await fill(both, "2020-02", 30)
    events = [contribution(f"P{i}", month) for month in ("2020-03", "2020-04") for i in range(5)]
    await both.store_subject_facts([(e, []) for e in events])
    assert await both.headcount_comparisons(headcount_drop.arrivals([("E1", "2020-03"), ("E1", "2020-04")])) == [
        headcount_drop.Comparison("E1", "2020-01", 30, "2020-02", 30), headcount_drop.Comparison("E1", "2020-02", 30, "2020-03", 5)]


def test_m2_arrivals_are_the_distinct_enterprise_months_sorted() -> None:
    assert headcount_drop.arrivals([("E2", "2020-04"), ("E1", "2020-05"), ("E2", "2020-04")]) == [
        headcount_drop.Arrival("E1", "2020-05"), headcount_drop.Arrival("E2", "2020-04")]
    arrival = headcount_drop.Arrival("E1", "2020-01")
    assert (arrival.month, arrival.previous_month) == ("2019-12", "2019-11")
