"""K5 public_welfare_post on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway), with time driven by `env.sleep`.

Expected amounts are worked out by hand from POLICY.md K5 and the shipped parameters:
each completed month pays welfare_post.post_subsidy 165000 + welfare_post.si_subsidy 60000
fen (two ledger rows, "month-N"), due on the month's completion day D + N months."""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from contracts.cases import TaskDecision
from policy.calendar import add_months
from tests.workflow.harness import World, at, registered, world

KIND = kinds.PUBLIC_WELFARE_POST
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FAR = date(2045, 1, 1)
POST, SI = 165000, 60000


def placed(person: str, post: str, starts_on: date, kind: str = "regular", months: int | None = None, categories: list[str] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"person_id": person, "post_id": post, "city": "2101", "kind": kind, "starts_on": starts_on.isoformat()}
    if months is not None:
        data["months"] = months
    if categories:
        data["categories"] = categories
    return data


def case_of(person: str, post: str, starts_on: date) -> str:
    return kinds.welfare_post_case_id(person, post, starts_on)


def months_paid(h: World, case: str) -> list[int]:
    """Month numbers paid, checking that each has both rows at the shipped amounts."""
    rows = h.payments(case)
    by_month: dict[int, dict[str, int]] = {}
    for p in rows:
        by_month.setdefault(int(p.period.removeprefix("month-")), {})[p.program] = p.amount
    for n, programs in by_month.items():
        assert programs == {"welfare_post_subsidy": POST, "welfare_post_si_subsidy": SI}, n
    return sorted(by_month)


async def register(h: World, person: str, categories: list[str], retirement: date = FAR, on: date = date(2020, 1, 2)) -> None:
    await h.send("unemployment.registered", registered(person, on, retirement, categories), at(on))


async def test_k5_rejected_unless_difficult_to_employ(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W01", [])
        start = date(2020, 3, 16)
        await h.send("welfare_post.placed", placed("W01", "POST1", start), at(start), subject="person/W01")
        case = case_of("W01", "POST1", start)
        assert h.status(case) == "rejected" and h.record(case).closed_on == start
        assert h.payments(case) == []


async def test_k5_pays_each_completed_month_and_ends_when_the_person_leaves(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W02", ["dibao_household"])
        start = date(2020, 3, 16)
        await h.send("welfare_post.placed", placed("W02", "POST2", start), at(start), subject="person/W02")
        case = case_of("W02", "POST2", start)
        await h.advance_to_day(date(2020, 4, 15))
        assert months_paid(h, case) == []
        await h.advance_to_day(date(2020, 4, 16))
        assert months_paid(h, case) == [1]
        assert {p.due_on for p in h.payments(case)} == {date(2020, 4, 16)}
        # Leaving on 2020-07-01: months 1..3 completed (4/16, 5/16, 6/16), the part month is not.
        await h.send("welfare_post.left", {"person_id": "W02", "post_id": "POST2", "on": "2020-07-01"}, at(date(2020, 7, 1)))
        assert h.status(case) == "ended" and h.record(case).closed_on == date(2020, 7, 1)
        assert months_paid(h, case) == [1, 2, 3]
        assert {p.fund for p in h.payments(case)} == {"employment_subsidy_fund"}
        assert h.record(case).summary["placement_number"] == 1


async def test_k5_leaving_reported_late_ends_on_its_own_date(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W12", ["disabled"])
        start = date(2020, 3, 16)
        await h.send("welfare_post.placed", placed("W12", "POST12", start), at(start), subject="person/W12")
        case = case_of("W12", "POST12", start)
        await h.advance_to_day(date(2020, 7, 20))
        assert months_paid(h, case) == [1, 2, 3, 4]
        # Left on 2020-06-01, reported on 2020-07-20: the case ends on the leaving date; month 3
        # and 4 were paid before the report, which the case records (the ledger only adds).
        await h.send("welfare_post.left", {"person_id": "W12", "post_id": "POST12", "on": "2020-06-01"}, at(date(2020, 7, 20)))
        assert h.status(case) == "ended" and h.record(case).closed_on == date(2020, 6, 1)
        assert h.record(case).summary["paid_past_end"] == 2


async def test_k5_stable_employment_ends_the_placement(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W03", ["disabled"])
        start = date(2020, 3, 1)
        await h.send("welfare_post.placed", placed("W03", "POST3", start), at(start), subject="person/W03")
        case = case_of("W03", "POST3", start)
        contract = {"person_id": "W03", "employer_id": "E7", "signed_on": "2020-05-20", "starts_on": "2020-06-10", "term_months": None}
        await h.send("contract.signed", contract, at(date(2020, 5, 20)), subject="person/W03")
        assert h.status(case) == "active"
        await h.advance_to_day(date(2020, 6, 11))
        assert h.status(case) == "ended" and h.record(case).closed_on == date(2020, 6, 10)
        assert months_paid(h, case) == [1, 2, 3]


async def test_k5_temporary_post_completes_without_extension(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W04", ["single_parent"])
        start = date(2020, 6, 1)
        await h.send("welfare_post.placed", placed("W04", "T4", start, "temporary", 4), at(start), subject="person/W04")
        case = case_of("W04", "T4", start)
        await h.advance_to_day(date(2020, 10, 2))
        # [2020-06-01, 2020-10-01): last day in the window, but a temporary post is not extended.
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2020, 10, 1)
        assert months_paid(h, case) == [1, 2, 3, 4]


async def test_k5_regular_48_months_extended_once_across_continue_as_new(env: WorkflowEnvironment) -> None:
    # Regular post from 2017-06-01: [2017-06-01, 2020-06-01), last day 2020-05-31 in the 2020
    # window → extended once by 12 months to 2021-05-31; 48 completed months, 96 ledger rows.
    async with world(env, date(2017, 1, 1), history_limit=60) as h:
        await register(h, "W05", ["zero_employment_household"], on=date(2017, 1, 3))
        start = date(2017, 6, 1)
        await h.send("welfare_post.placed", placed("W05", "POST5", start), at(start), subject="person/W05")
        case = case_of("W05", "POST5", start)
        await h.advance_to_day(date(2020, 6, 2))
        view = await h.view(case)
        assert view.details["period"]["extended"] is True and view.details["period"]["last_day"] == "2021-05-31"
        assert months_paid(h, case) == list(range(1, 37))
        await h.advance_to_day(date(2021, 6, 2))
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2021, 6, 1)
        assert months_paid(h, case) == list(range(1, 49))
        assert [p.due_on for p in h.payments(case) if p.program == "welfare_post_subsidy"] == [add_months(start, n) for n in range(1, 49)]
        assert h.record(case).summary["generation"] >= 2
        assert sum(p.amount for p in h.payments(case)) == 48 * (POST + SI)


async def test_k5_regular_period_not_extended_outside_the_window(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W06", ["disabled"])
        start = date(2021, 1, 1)
        await h.send("welfare_post.placed", placed("W06", "POST6", start), at(start), subject="person/W06")
        case = case_of("W06", "POST6", start)
        await h.advance_to_day(date(2024, 1, 2))
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2024, 1, 1)
        assert months_paid(h, case) == list(range(1, 37))


async def _two_earlier_placements(h: World, person: str, categories: list[str]) -> None:
    """Two temporary placements of 3 months in 2020 (completed), so the next one is the 3rd."""
    await register(h, person, categories)
    for post, start in (("T1", date(2020, 1, 6)), ("T2", date(2020, 4, 13))):
        await h.send("welfare_post.placed", placed(person, post, start, "temporary", 3), at(start), subject=f"person/{person}")
        await h.advance_to_day(add_months(start, 3) + timedelta(days=1))
        assert h.status(case_of(person, post, start)) == "completed"


async def test_k5_renewed_placement_paid_from_local_fund_unless_section_17_group(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await _two_earlier_placements(h, "W07", ["dibao_household"])
        first, second = case_of("W07", "T1", date(2020, 1, 6)), case_of("W07", "T2", date(2020, 4, 13))
        assert {p.fund for p in h.payments(first)} == {"employment_subsidy_fund"}
        assert {p.fund for p in h.payments(second)} == {"local_fund"}
        assert h.record(second).summary["placement_number"] == 2
        assert "renewed placement" in h.record(second).summary["fund_reason"]


async def test_k5_renewed_placement_of_zero_employment_household_member_from_employment_fund(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W08", ["dibao_household"])
        start1, start2 = date(2020, 1, 6), date(2020, 5, 4)
        await h.send("welfare_post.placed", placed("W08", "T1", start1, "temporary", 3), at(start1), subject="person/W08")
        await h.advance_to_day(date(2020, 4, 7))
        # The second placement states the zero-employment household (§17: 就业补助资金 列支).
        await h.send("welfare_post.placed", placed("W08", "T2", start2, "temporary", 3, ["zero_employment_household"]), at(start2), subject="person/W08")
        await h.advance_to_day(date(2020, 8, 5))
        second = case_of("W08", "T2", start2)
        assert h.status(second) == "completed"
        assert {p.fund for p in h.payments(second)} == {"employment_subsidy_fund"}
        assert "zero_employment_household" in h.record(second).summary["fund_reason"]


async def test_k5_placement_beyond_max_held_for_supervisor_then_approved(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await _two_earlier_placements(h, "W09", ["dibao_household"])
        start = date(2020, 8, 3)
        await h.send("welfare_post.placed", placed("W09", "T3", start, "temporary", 3), at(start), subject="person/W09")
        case = case_of("W09", "T3", start)
        tasks = h.tasks(case)
        assert [(t["kind"], t["state"]) for t in tasks] == [("extra_placement", "open")]
        # Nothing is paid while the placement waits for the decision.
        await h.advance_to_day(date(2020, 9, 10))
        assert h.payments(case) == [] and h.status(case) == "active"
        # A decision must say approve true/false and why.
        with pytest.raises(WorkflowUpdateFailedError):
            await h.decide(case, TaskDecision(task_id=tasks[0]["task_id"], decided_by="sup-1", decision={"approve": True}))
        with pytest.raises(WorkflowUpdateFailedError):
            await h.decide(case, TaskDecision(task_id=tasks[0]["task_id"], decided_by="sup-1", decision={"approve": "yes", "reason": "x"}))
        decided = await h.decide(
            case, TaskDecision(task_id=tasks[0]["task_id"], decided_by="sup-1", decision={"approve": True, "reason": "no other job for him"})
        )
        assert decided.state == "decided"
        # The month completed while waiting (9/3) is caught up on approval, the rest on time.
        assert months_paid(h, case) == [1]
        await h.advance_to_day(date(2020, 11, 4))
        assert h.status(case) == "completed" and months_paid(h, case) == [1, 2, 3]
        assert h.record(case).summary["placement_number"] == 3
        assert {p.fund for p in h.payments(case)} == {"local_fund"}


async def test_k5_placement_beyond_max_denied_is_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await _two_earlier_placements(h, "W10", ["dibao_household"])
        start = date(2020, 8, 3)
        await h.send("welfare_post.placed", placed("W10", "T3", start, "temporary", 3), at(start), subject="person/W10")
        case = case_of("W10", "T3", start)
        task = h.tasks(case)[0]
        await h.advance_to_day(date(2020, 8, 10))
        await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="sup-2", decision={"approve": False, "reason": "limit of 2"}))
        assert h.status(case) == "rejected" and h.record(case).closed_on == date(2020, 8, 10)
        assert h.payments(case) == []
        # A rejected placement is not a placement: the next one is no. 3 again (held again).
        start4 = date(2020, 9, 7)
        await h.send("welfare_post.placed", placed("W10", "T4", start4, "temporary", 3), at(start4), subject="person/W10")
        assert h.record(case_of("W10", "T4", start4)).summary["placement_number"] == 3


async def test_k5_until_retirement_when_within_5_years(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await register(h, "W11", [], retirement=date(2020, 9, 20))
        start = date(2020, 3, 2)
        await h.send("welfare_post.placed", placed("W11", "POST11", start), at(start), subject="person/W11")
        case = case_of("W11", "POST11", start)
        await h.advance_to_day(date(2020, 9, 21))
        # Six months completed by 9/2; the part month to retirement is not; no extension.
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2020, 9, 20)
        assert months_paid(h, case) == [1, 2, 3, 4, 5, 6]


async def test_k5_scenario_matches_hand_derived_expectation_in_seconds() -> None:
    """tests/scenarios/k5_welfare_posts.jsonl through `simulate` (includes a 48-month regular
    placement); the expected file was derived by hand (its "_how" says how)."""
    expected = json.loads((SCENARIOS / "k5_welfare_posts.expected.json").read_text(encoding="utf-8"))
    began = time.monotonic()
    result = await simulate.simulate(SCENARIOS / "k5_welfare_posts.jsonl", date.fromisoformat(expected["until"]))
    elapsed = time.monotonic() - began
    # Other kinds react to the same events (a registration opens a follow-up case, ...): only
    # this kind's cases, payments and tasks are compared.
    mine = {c["case_id"] for c in result["cases"] if c["kind"] == KIND}
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert sorted(
        (p["case_id"], p["program"], p["period"], p["amount"], p["fund"], p["due_on"]) for p in result["payments"] if p["kind"] == KIND
    ) == sorted(ledger_rows(expected["paid"]))
    assert [(t["case_id"], t["kind"], t["state"]) for t in result["tasks"] if t["case_id"] in mine] == [tuple(t) for t in expected["tasks"]]
    assert result["dead_letters"] == expected["dead_letters"]
    assert elapsed < 60, f"simulate took {elapsed:.1f} s"


def ledger_rows(paid: list[dict[str, Any]]) -> list[tuple[str, str, str, int, str, str]]:
    """Expand the expected file's "months 1..N from D" into ledger rows (two per month)."""
    rows = []
    for case in paid:
        start = date.fromisoformat(case["starts_on"])
        for n in range(1, case["months"] + 1):
            due = add_months(start, n).isoformat()
            rows.append((case["case_id"], "welfare_post_subsidy", f"month-{n}", POST, case["fund"], due))
            rows.append((case["case_id"], "welfare_post_si_subsidy", f"month-{n}", SI, case["fund"], due))
    return rows
