"""K9 unemployed_followup on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway), time driven by `env.sleep` (tests/workflow/harness.py).

Dates are worked out by hand from POLICY.md K9 with the shipped parameters: month n of a
registration on R is [R + (n-1) months, R + n months), its follow-up falls due at R + n months
and escalates followup.grace_days = 7 days later; long-term unemployed from R + 6 months;
劳动预备制 for the willing under 20 in 2020; K12 参照 after 12 months with 2 referrals.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from contracts.cases import CaseEvent, TaskDecision, TaskRecord
from policy.calendar import add_months
from tests.workflow.harness import World, at, world

KIND = kinds.UNEMPLOYED_FOLLOWUP
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def registration(person: str, on: date, categories: list[str] | None = None, birth: str = "1985-01-01", willing: bool | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_id": person,
        "city": "2101",
        "registered_on": on.isoformat(),
        "birth_date": birth,
        "retirement_date": "2045-01-01",
        "categories": categories or [],
    }
    if willing is not None:
        data["willing_training"] = willing
    return data


async def register(h: World, person: str, on: date, **kw: Any) -> str:
    await h.send("unemployment.registered", registration(person, on, **kw), at(on), subject=f"person/{person}", source="ru/2101")
    return kinds.followup_case_id(person, on)


async def follow_up(h: World, person: str, on: date, reported: date | None = None) -> None:
    await h.send("followup.recorded", {"person_id": person, "on": on.isoformat(), "channel": "phone"}, at(reported or on))


async def refer(h: World, person: str, on: date, outcome: str = "not_hired") -> None:
    await h.send("referral.recorded", {"person_id": person, "on": on.isoformat(), "employer_id": "E1", "outcome": outcome}, at(on))


def escalations(h: World, case: str) -> list[tuple[str, str]]:
    return sorted((t["due_on"], t["state"]) for t in h.tasks(case) if t["kind"] == "followup_escalation")


def lifecycle(h: World, case: str, change: str) -> list[dict[str, Any]]:
    return [e for e in h.store.outbox if e["subject"] == case and e["type"] == f"case.{change}"]


async def test_k9_followup_in_the_month_completes_it_and_a_missing_one_escalates_after_grace_days(env: WorkflowEnvironment) -> None:
    # R = 2020-01-15: month 1 [01-15, 02-15) has a contact; month 2 [02-15, 03-15) has none →
    # due 03-15, escalated on 03-22 (7 days later), not before.
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K901", date(2020, 1, 15))
        await follow_up(h, "K901", date(2020, 1, 20))
        await h.advance_to_day(date(2020, 3, 21))
        assert escalations(h, case) == []
        await h.advance_to_day(date(2020, 3, 22))
        assert escalations(h, case) == [("2020-03-15", "open")]
        task = next(t for t in h.tasks(case) if t["kind"] == "followup_escalation")
        assert task["details"]["registered_month"] == 2 and task["details"]["escalated_on"] == "2020-03-22"
        view = await h.view(case)
        assert view.details["followed_months"] == [1] and view.details["escalated_months"] == [2]
        assert h.status(case) == "active"


async def test_k9_followup_reported_late_withdraws_the_escalation(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K902", date(2020, 1, 15))
        await h.advance_to_day(date(2020, 2, 23))
        assert escalations(h, case) == [("2020-02-15", "open")]
        # The contact was made on 02-10 (in month 1) and reported on 02-25.
        await follow_up(h, "K902", date(2020, 2, 10), reported=date(2020, 2, 25))
        assert escalations(h, case) == [("2020-02-15", "withdrawn")]


async def test_k9_contact_in_the_grace_days_belongs_to_the_next_month(env: WorkflowEnvironment) -> None:
    # The grace days tolerate late reports, not late contacts: a contact on 02-18 lies in month 2.
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K903", date(2020, 1, 15))
        await follow_up(h, "K903", date(2020, 2, 18))
        await h.advance_to_day(date(2020, 2, 23))
        assert escalations(h, case) == [("2020-02-15", "open")]
        await h.advance_to_day(date(2020, 3, 23))
        assert escalations(h, case) == [("2020-02-15", "open")]  # month 2 was followed up
        assert (await h.view(case)).details["followed_months"] == [2]


async def test_k9_escalation_acknowledged_by_a_supervisor(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K904", date(2020, 1, 15))
        await h.advance_to_day(date(2020, 2, 23))
        task = next(t for t in h.tasks(case) if t["kind"] == "followup_escalation")
        result = await h.decide(case, TaskDecision(task_id=task["task_id"], decided_by="supervisor-2101", decision={"action": "visit"}))
        assert isinstance(result, TaskRecord) and result.state == "decided"
        assert h.tasks(case)[0]["state"] == "decided"
        assert h.status(case) == "active"


async def test_k9_closes_on_deregistration(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K905", date(2020, 1, 15))
        await h.advance_to_day(date(2020, 2, 23))
        await h.send("unemployment.deregistered", {"person_id": "K905", "on": "2020-03-01", "reason": "moved"}, at(date(2020, 3, 1)))
        assert h.status(case) == "closed" and h.record(case).closed_on == date(2020, 3, 1)
        # Nobody can act on the escalation of a registration that ended.
        assert escalations(h, case) == [("2020-02-15", "withdrawn")]


async def test_k9_closes_on_employment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K906", date(2020, 1, 15))
        data = {"person_id": "K906", "city": "2101", "on": "2020-02-10", "kind": "employee", "employer_id": "E5"}
        await h.send("employment.registered", data, at(date(2020, 2, 10)), subject="person/K906", source="re/2101")
        assert h.status(case) == "closed" and h.record(case).closed_on == date(2020, 2, 10)
        assert escalations(h, case) == []


async def test_k9_new_registration_supersedes_the_open_one(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        first = await register(h, "K907", date(2020, 1, 15))
        second = await register(h, "K907", date(2020, 4, 1))
        assert h.status(first) == "closed" and h.record(first).closed_on == date(2020, 4, 1)
        assert h.status(second) == "active"


async def test_k9_long_term_unemployed_mark_after_six_registered_months(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 15)) as h:
        case = await register(h, "K908", date(2020, 1, 15))
        await h.advance_to_day(date(2020, 7, 14))
        assert h.record(case).summary["long_term_unemployed"] is False
        await h.advance_to_day(date(2020, 7, 15))
        summary = h.record(case).summary
        assert summary["long_term_unemployed"] is True and summary["long_term_unemployed_since"] == "2020-07-15"
        assert [e["data"]["on"] for e in lifecycle(h, case, "marked")] == ["2020-07-15"]


async def test_k9_training_notice_for_a_willing_registrant_under_20_in_2020(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 10)) as h:
        case = await register(h, "K909", date(2020, 3, 10), birth="2001-06-01", willing=True)
        notices = lifecycle(h, case, "notice")
        # The lifecycle event says when; the read model and the timeline say why.
        assert [n["data"]["on"] for n in notices] == ["2020-03-10"]
        assert h.record(case).summary["training_notice_on"] == "2020-03-10"
        assert any("劳动预备制" in t.what for t in (await h.view(case)).timeline)
        unwilling = await register(h, "K910", date(2020, 3, 10), birth="2001-06-01")
        too_old = await register(h, "K911", date(2020, 3, 10), birth="2000-03-10", willing=True)
        await h.advance_to_day(date(2020, 3, 12))
        assert lifecycle(h, unwilling, "notice") == [] and lifecycle(h, too_old, "notice") == []


async def test_k9_training_notice_when_the_window_opens_for_an_earlier_registration(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 11, 1)) as h:
        case = await register(h, "K912", date(2019, 11, 1), birth="2000-03-01", willing=True)
        await h.advance_to_day(date(2019, 12, 31))
        assert lifecycle(h, case, "notice") == []
        await h.advance_to_day(date(2020, 1, 1))
        assert h.record(case).summary["training_notice_on"] == "2020-01-01"


async def test_k9_treated_as_marked_when_a_referral_brings_the_count_to_two_after_12_months(env: WorkflowEnvironment) -> None:
    # Registered 2020-01-10, land expropriated; referrals 2020-02-01 and 2021-02-01 (not hired):
    # 12 months on 2021-01-10 with 1 referral → not yet; the 2nd referral on 2021-02-01 → 参照.
    async with world(env, date(2020, 1, 10)) as h:
        case = await register(h, "K913", date(2020, 1, 10), categories=["land_expropriated"])
        await refer(h, "K913", date(2020, 2, 1))
        await refer(h, "K913", date(2020, 3, 1), outcome="hired")  # led to a job: not counted
        await h.advance_to_day(date(2021, 1, 11))
        assert h.record(case).summary["treated_as"] == {}
        await refer(h, "K913", date(2021, 2, 1), outcome="declined")
        summary = h.record(case).summary
        assert summary["treated_as"] == {"land_expropriated": "2021-02-01"}
        assert summary["difficult_categories"] == ["treated_as:land_expropriated"]


async def test_k9_treated_as_marked_at_12_months_when_referrals_came_earlier(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 10)) as h:
        case = await register(h, "K914", date(2020, 1, 10), categories=["veteran"])
        await refer(h, "K914", date(2020, 2, 1))
        await refer(h, "K914", date(2020, 5, 1))
        await h.advance_to_day(date(2021, 1, 9))
        assert h.record(case).summary["treated_as"] == {}
        await h.advance_to_day(date(2021, 1, 10))
        assert h.record(case).summary["treated_as"] == {"veteran": "2021-01-10"}
        assert any("参照" in t.what for t in (await h.view(case)).timeline)


async def test_k9_runs_for_years_across_continue_as_new_keeping_its_state(env: WorkflowEnvironment) -> None:
    # 30 months with a contact every month but months 3 and 20: two escalations, no more, no
    # fewer, although the history is cut every ~40 events.
    async with world(env, date(2020, 1, 15), history_limit=40) as h:
        case = await register(h, "K915", date(2020, 1, 15), categories=["model_worker"])
        for n in range(1, 31):
            if n in (3, 20):
                continue
            await follow_up(h, "K915", add_months(date(2020, 1, 20), n - 1))
            if n in (2, 5):
                await refer(h, "K915", add_months(date(2020, 1, 25), n - 1))
        await h.advance_to_day(date(2022, 7, 25))
        summary = h.record(case).summary
        assert summary["generation"] >= 2
        assert escalations(h, case) == [("2020-04-15", "open"), ("2021-09-15", "open")]
        assert summary["followed_months"] == [n for n in range(1, 31) if n not in (3, 20)]
        assert summary["long_term_unemployed_since"] == "2020-07-15"
        assert summary["treated_as"] == {"model_worker": "2021-01-15"}
        assert summary["referrals"] == 2
        # A redelivered event (same source and id) after continue-as-new has no effect.
        first = h.sent[1]
        assert first["type"] == "followup.recorded"
        await h.handle(case).signal(
            "event",
            CaseEvent(source=first["source"], id=first["id"], type=first["type"], subject=first["subject"], time=first["time"], data=first["data"]),
        )
        await h.settle()
        view = await h.view(case)
        assert view.events_seen == len(h.sent)
        assert sum(1 for t in view.timeline if t.event == f"{first['source']}#{first['id']}") <= 1


async def test_k9_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k9_followup.jsonl through `simulate`; the expected file was derived by
    hand from POLICY.md K9 (see its "_how")."""
    expected = json.loads((SCENARIOS / "k9_followup.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k9_followup.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    case_ids = {c["case_id"] for c in expected["cases"]}
    assert [t for t in result["tasks"] if t["case_id"] in case_ids] == expected["tasks"]
    assert [p for p in result["payments"] if p["kind"] == KIND] == []
    assert result["dead_letters"] == expected["dead_letters"]
