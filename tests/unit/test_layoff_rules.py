"""K8 layoff_plan (经济性裁员, §3, §21): each rule of POLICY.md K8 as a pure function, and its
routes. Parameters are the shipped ones: layoff.notice_days 30, layoff.obligations_days 30,
layoff.mass_threshold_persons 50, layoff.mass_threshold_ratio 10/100."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from contracts.case_index import OpenCase
from contracts.events import CloudEvent
from policy import layoff
from policy.pack import load_pack
from streams.routing import Reject, SignalCase, StartCase, route

PACK = load_pack()
P = PACK.parameters("2101")
D = date(2020, 4, 1)


def event(type_: str, data: dict[str, Any], enterprise: str = "E1") -> CloudEvent:
    return CloudEvent(
        specversion="1.0", id=f"{type_}-1", source="hr/2101", type=type_, subject=f"enterprise/{enterprise}",
        time=datetime(2020, 4, 1, 1, tzinfo=timezone.utc), data=data,
    )


# -- §3 30-day notice ------------------------------------------------------------------------
def test_layoff_may_take_effect_30_days_after_the_union_notice_not_earlier() -> None:
    notified = date(2020, 4, 1)
    assert layoff.earliest_effective_day(notified, P) == date(2020, 5, 1)
    assert not layoff.is_premature(date(2020, 5, 1), notified, P)  # day 30: in time
    assert layoff.is_premature(date(2020, 4, 30), notified, P)  # day 29: premature
    assert not layoff.is_premature(date(2020, 6, 1), notified, P)


def test_layoff_executed_without_any_union_notice_is_premature() -> None:
    assert layoff.is_premature(date(2020, 12, 31), None, P)


def test_notice_days_are_a_dated_parameter() -> None:
    changed = P.with_change("layoff.notice_days", 45, date(2020, 1, 1))
    assert layoff.is_premature(date(2020, 5, 1), date(2020, 4, 1), changed)
    assert not layoff.is_premature(date(2020, 5, 16), date(2020, 4, 1), changed)


# -- §21 mass threshold ----------------------------------------------------------------------
def test_mass_threshold_persons_boundary_is_at_50() -> None:
    # A headcount large enough that the ratio does not decide.
    assert layoff.is_mass_layoff(50, 10_000, D, P)
    assert not layoff.is_mass_layoff(49, 10_000, D, P)


def test_mass_threshold_ratio_boundary_is_at_10_percent_of_insured_headcount() -> None:
    assert layoff.is_mass_layoff(30, 300, D, P)  # exactly 10 %
    assert not layoff.is_mass_layoff(29, 300, D, P)  # 9.67 %
    assert layoff.is_mass_layoff(3, 29, D, P)  # 10.3 %
    assert not layoff.is_mass_layoff(2, 21, D, P)  # 9.5 %


def test_mass_threshold_ratio_needs_a_headcount() -> None:
    assert not layoff.is_mass_layoff(1, 0, D, P)


def test_mass_alert_id_comes_from_the_case_so_replays_raise_it_once() -> None:
    assert layoff.mass_alert_id("layoff/E1/2020-04-01") == "mass_unemployment/layoff/E1/2020-04-01"


# -- obligations deadline --------------------------------------------------------------------
def test_obligations_deadline_is_30_days_after_execution_and_overdue_the_day_after() -> None:
    due = layoff.obligations_deadline(date(2020, 5, 1), P)
    assert due == date(2020, 5, 31)
    assert not layoff.is_overdue(date(2020, 5, 31), due)  # settled on the deadline: in time
    assert layoff.is_overdue(date(2020, 6, 1), due)


# -- routes ----------------------------------------------------------------------------------
PLAN = {"enterprise_id": "E1", "city": "2102", "filed_on": "2020-04-01", "planned_count": 60, "insured_headcount": 1000}


def test_plan_filed_opens_the_enterprise_case_keyed_by_enterprise_and_filing_day() -> None:
    (cmd,) = route(event("layoff.plan_filed", PLAN), [], PACK)
    assert cmd == StartCase(kind="layoff_plan", case_id="layoff/E1/2020-04-01", city="2102", keys=["enterprise/E1"])


def test_second_plan_while_one_is_open_is_rejected() -> None:
    open_ = [OpenCase("layoff/E1/2020-03-01", "layoff_plan", "enterprise/E1")]
    (cmd,) = route(event("layoff.plan_filed", PLAN), open_, PACK)
    assert isinstance(cmd, Reject) and "already has an open layoff plan layoff/E1/2020-03-01" in cmd.reason


def test_layoff_events_reach_the_open_plan_of_the_enterprise() -> None:
    open_ = [OpenCase("layoff/E1/2020-04-01", "layoff_plan", "enterprise/E1")]
    for type_, data in (
        ("layoff.union_notified", {"enterprise_id": "E1", "on": "2020-04-02"}),
        ("layoff.executed", {"enterprise_id": "E1", "on": "2020-05-02", "person_ids": ["P1"]}),
        ("layoff.obligations_settled", {"enterprise_id": "E1", "on": "2020-05-20"}),
    ):
        assert route(event(type_, data), open_, PACK) == [SignalCase("layoff/E1/2020-04-01")]


def test_layoff_event_without_a_plan_on_file_is_rejected_with_the_reason() -> None:
    (cmd,) = route(event("layoff.executed", {"enterprise_id": "E9", "on": "2020-05-02", "person_ids": []}, "E9"), [], PACK)
    assert cmd == Reject("layoff.executed: no layoff plan on file for enterprise/E9")
