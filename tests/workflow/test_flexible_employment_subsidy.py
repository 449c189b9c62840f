"""K4 flexible_employment_subsidy on Temporal's time-skipping server, started as production
starts it (Intake → routing → CaseGateway), with time driven by `env.sleep`.

Expected amounts are worked out by hand from POLICY.md K4 and the shipped parameters
(flexible.ratio 2/3, flexible.months 36, extension 12 months for periods whose last day is in
2020-01-01..2020-12-31), rounding down to the fen."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from contracts.cases import CaseEvent
from tests.workflow.harness import at, registered, world

KIND = kinds.FLEXIBLE_EMPLOYMENT_SUBSIDY
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FAR = date(2045, 1, 1)


def application(person: str, on: date) -> dict[str, Any]:
    return {"program": "flexible_employment_si", "applicant": person, "on": on.isoformat(), "details": {}}


def own_contribution(person: str, month: str, employer_amount: int = 60000, employee_amount: int = 24000, employer_id: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "person_id": person,
        "month": month,
        "base": 300000,
        "employer_amount": employer_amount,
        "employee_amount": employee_amount,
        "insurances": ["pension", "medical"],
    }
    if employer_id:
        data["employer_id"] = employer_id
    return data


def contract(person: str, signed_on: date, starts_on: date, term_months: int | None) -> dict[str, Any]:
    return {
        "person_id": person,
        "employer_id": "E900",
        "signed_on": signed_on.isoformat(),
        "starts_on": starts_on.isoformat(),
        "term_months": term_months,
    }


async def test_k4_rejected_unless_difficult_to_employ(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F01", date(2020, 3, 2), FAR, []), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F01", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F01")
        await h.advance_to_day(date(2020, 5, 21))
        case = "flexible/F01/2020-05-20"
        assert h.status(case) == "rejected"
        assert h.record(case).closed_on == date(2020, 5, 20)
        assert h.payments(case) == []
        view = await h.view(case)
        assert "not difficult to employ" in view.timeline[-1].what or "not difficult to employ" in (view.timeline[-1].rule or "")


async def test_k4_difficult_through_a_dibao_grant_to_another_household_member(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F11", date(2020, 3, 2), FAR, []), at(date(2020, 3, 2)))
        members = [
            {"person_id": "F11", "working_age": True, "able_to_work": True, "employed": False},
            {"person_id": "F11B", "working_age": True, "able_to_work": True, "employed": True},
        ]
        await h.send("household.updated", {"household_id": "H11", "members": members, "business_income": False}, at(date(2020, 3, 3)),
                     subject="person/F11", source="ca/2101")
        # The 低保 grant is made to the other member: stored under the household's key.
        grant = {"person_id": "F11B", "household_id": "H11", "city": "2101", "monthly_amount": 60000, "from_month": "2020-03"}
        await h.send("dibao.granted", grant, at(date(2020, 3, 4)), subject="person/F11B", source="ca/2101")
        await h.send("application.submitted", application("F11", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F11")
        case = "flexible/F11/2020-05-20"
        assert h.status(case) == "active"
        assert (await h.view(case)).details["difficult_categories"] == ["dibao_household"]


async def test_k4_pays_two_thirds_of_own_contribution_once_per_period_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F02", date(2020, 3, 2), FAR, ["dibao_household"]), at(date(2020, 3, 2)))
        # A contribution before the application, for a month before the period: not subsidised.
        await h.send("contribution.paid", own_contribution("F02", "2020-04"), at(date(2020, 4, 25)), subject="person/F02")
        await h.send("application.submitted", application("F02", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F02")
        case = "flexible/F02/2020-05-20"
        assert h.status(case) == "active"
        assert (await h.view(case)).details["period"]["start"] == "2020-05-01"
        await h.send("contribution.paid", own_contribution("F02", "2020-04"), at(date(2020, 5, 21)), subject="person/F02", source="si/2101")
        await h.send("contribution.paid", own_contribution("F02", "2020-05"), at(date(2020, 5, 25)), subject="person/F02")
        # The same month again (a second payment record): counted once; the later report stands
        # (POLICY.md part 2: a corrected report replaces the earlier one).
        await h.send("contribution.paid", own_contribution("F02", "2020-05", 1, 1), at(date(2020, 5, 28)), subject="person/F02")
        # An employer's contribution is not the person's own.
        await h.send("contribution.paid", own_contribution("F02", "2020-06", employer_id="E1"), at(date(2020, 6, 25)), subject="person/F02")
        # July: nothing paid. August: paid, with cents that round down: 2/3 × 84001 = 56000.67.
        await h.send("contribution.paid", own_contribution("F02", "2020-08", 60000, 24001), at(date(2020, 8, 20)), subject="person/F02")
        await h.advance_to_day(date(2020, 9, 30))
        paid = [(p.period, p.amount, p.due_on, p.fund, p.payee) for p in h.payments(case) if p.entry == "payment"]
        assert paid == [
            ("2020-05", 56000, date(2020, 5, 25), "employment_subsidy_fund", "person/F02"),
            ("2020-08", 56000, date(2020, 8, 20), "employment_subsidy_fund", "person/F02"),
        ]
        # 2020-05 is now worth 2/3 × 2 = 1 fen: overpaid 55999 the day the later report came,
        # recovered from August's payment, at most half of it.
        corrections = [(p.period, p.entry, p.amount, p.due_on, p.corrects) for p in h.payments(case) if p.entry != "payment"]
        assert corrections == [
            ("2020-05", "overpayment", 55999, date(2020, 5, 28), "2020-05"),
            ("2020-08", "deduction", 28000, date(2020, 8, 20), "2020-05"),
        ]
        assert h.status(case) == "active"


async def test_k4_contribution_paid_before_the_application_counts_for_its_period_month(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F10", date(2020, 3, 2), FAR, ["disabled"]), at(date(2020, 3, 2)))
        # May's contribution is paid on 5 May, the application comes on 20 May: the period
        # starts on 1 May, so May is subsidised; April is before the period.
        await h.send("contribution.paid", own_contribution("F10", "2020-04"), at(date(2020, 4, 6)), subject="person/F10", source="si/2101")
        await h.send("contribution.paid", own_contribution("F10", "2020-05"), at(date(2020, 5, 5)), subject="person/F10", source="si/2101")
        await h.send("application.submitted", application("F10", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F10")
        case = "flexible/F10/2020-05-20"
        assert [(p.period, p.amount, p.due_on) for p in h.payments(case)] == [("2020-05", 56000, date(2020, 5, 20))]


async def test_k4_late_contribution_is_paid_while_the_case_is_open(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F03", date(2020, 3, 2), FAR, ["disabled"]), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F03", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F03")
        await h.send("contribution.paid", own_contribution("F03", "2020-06", 30000, 15000), at(date(2020, 9, 10)), subject="person/F03")
        # Prepaid: the month paid for has not begun yet; paid when it begins.
        await h.send("contribution.paid", own_contribution("F03", "2020-11", 30000, 15000), at(date(2020, 9, 12)), subject="person/F03")
        await h.advance_to_day(date(2020, 10, 31))
        case = "flexible/F03/2020-05-20"
        assert [(p.period, p.amount, p.due_on) for p in h.payments(case)] == [("2020-06", 30000, date(2020, 9, 10))]
        await h.advance_to_day(date(2020, 11, 1))
        assert [(p.period, p.due_on) for p in h.payments(case)][-1] == ("2020-11", date(2020, 11, 1))


async def test_k4_stable_employment_ends_the_case_employed(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F04", date(2020, 3, 2), FAR, ["single_parent"]), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F04", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F04")
        await h.send("contribution.paid", own_contribution("F04", "2020-05"), at(date(2020, 5, 25)), subject="person/F04")
        case = "flexible/F04/2020-05-20"
        # An 11-month contract is not stable employment: the case runs on.
        await h.send("contract.signed", contract("F04", date(2020, 6, 3), date(2020, 6, 3), 11), at(date(2020, 6, 3)), subject="person/F04")
        assert h.status(case) == "active"
        # A 12-month contract starting on 1 August ends the case that day; July is still paid.
        await h.send("contract.signed", contract("F04", date(2020, 7, 10), date(2020, 8, 1), 12), at(date(2020, 7, 10)), subject="person/F04")
        assert h.status(case) == "active"
        await h.send("contribution.paid", own_contribution("F04", "2020-07"), at(date(2020, 7, 25)), subject="person/F04")
        await h.advance_to_day(date(2020, 8, 2))
        assert h.status(case) == "employed"
        assert h.record(case).closed_on == date(2020, 8, 1)
        assert [p.period for p in h.payments(case)] == ["2020-05", "2020-07"]


async def test_k4_open_ended_contract_is_stable_employment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        await h.send("unemployment.registered", registered("F05", date(2020, 3, 2), FAR, ["disabled"]), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F05", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F05")
        await h.send("contract.signed", contract("F05", date(2020, 6, 8), date(2020, 6, 8), None), at(date(2020, 6, 8)), subject="person/F05")
        case = "flexible/F05/2020-05-20"
        assert h.status(case) == "employed" and h.record(case).closed_on == date(2020, 6, 8)


async def test_k4_completed_at_period_end_outside_the_extension_window(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1), history_limit=80) as h:
        await h.send("unemployment.registered", registered("F06", date(2020, 3, 2), FAR, ["disabled"]), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F06", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F06")
        await h.send("contribution.paid", own_contribution("F06", "2023-04"), at(date(2023, 4, 20)), subject="person/F06")
        await h.send("contribution.paid", own_contribution("F06", "2023-05"), at(date(2023, 4, 21)), subject="person/F06")
        await h.advance_to_day(date(2023, 5, 2))
        case = "flexible/F06/2020-05-20"
        # [2020-05-01, 2023-05-01): last day 2023-04-30, outside 2020 → completed, no extension.
        assert h.status(case) == "completed"
        assert h.record(case).closed_on == date(2023, 5, 1)
        assert [p.period for p in h.payments(case)] == ["2023-04"]


async def test_k4_extended_once_when_the_period_ends_in_the_window(env: WorkflowEnvironment) -> None:
    # Applied 2017-06-10: [2017-06-01, 2020-06-01), last day 2020-05-31 in the 2020 window →
    # extended once by 12 months to 2021-05-31, then completed on 2021-06-01. A low history
    # limit makes the case continue-as-new several times on the way; its state must survive.
    async with world(env, date(2017, 3, 1), history_limit=40) as h:
        await h.send("unemployment.registered", registered("F07", date(2017, 3, 2), FAR, ["martyr_family"]), at(date(2017, 3, 2)))
        await h.send("application.submitted", application("F07", date(2017, 6, 10)), at(date(2017, 6, 10)), subject="person/F07")
        case = "flexible/F07/2017-06-10"
        months = ["2017-06", "2018-06", "2019-06", "2020-05", "2020-06", "2021-05"]
        for month in months:
            year, mon = map(int, month.split("-"))
            await h.send("contribution.paid", own_contribution("F07", month, 30000, 12000), at(date(year, mon, 15)), subject="person/F07")
        await h.advance_to_day(date(2020, 6, 2))
        view = await h.view(case)
        assert view.status == "active"
        assert view.details["period"]["extended"] is True and view.details["period"]["last_day"] == "2021-05-31"
        assert view.details["generation"] >= 1
        await h.advance_to_day(date(2021, 6, 2))
        assert h.status(case) == "completed"
        assert h.record(case).closed_on == date(2021, 6, 1)
        # 2/3 × 42000 = 28000 for each month paid; the extension months are paid too.
        assert [(p.period, p.amount) for p in h.payments(case)] == [(m, 28000) for m in months]
        assert any(o["type"] == "case.extended" for o in h.store.outbox if o["subject"] == case)


async def test_k4_period_runs_until_retirement_and_is_not_extended(env: WorkflowEnvironment) -> None:
    async with world(env, date(2018, 3, 1)) as h:
        # Retirement 2020-09-15 is within 5 years of the start 2018-05-01: the period runs to it.
        await h.send("unemployment.registered", registered("F08", date(2018, 3, 2), date(2020, 9, 15), []), at(date(2018, 3, 2)))
        await h.send("application.submitted", application("F08", date(2018, 5, 3)), at(date(2018, 5, 3)), subject="person/F08")
        await h.send("contribution.paid", own_contribution("F08", "2020-09", 30000, 0), at(date(2020, 9, 5)), subject="person/F08")
        await h.advance_to_day(date(2020, 9, 16))
        case = "flexible/F08/2018-05-03"
        assert h.status(case) == "completed"
        assert h.record(case).closed_on == date(2020, 9, 15)
        assert [(p.period, p.amount) for p in h.payments(case)] == [("2020-09", 20000)]


async def test_k4_continue_as_new_keeps_seen_events(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1), history_limit=30) as h:
        await h.send("unemployment.registered", registered("F09", date(2020, 3, 2), FAR, ["disabled"]), at(date(2020, 3, 2)))
        await h.send("application.submitted", application("F09", date(2020, 5, 20)), at(date(2020, 5, 20)), subject="person/F09")
        case = "flexible/F09/2020-05-20"
        for n in range(5, 13):
            await h.send("contribution.paid", own_contribution("F09", f"2020-{n:02d}"), at(date(2020, n, 21)), subject="person/F09")
        view = await h.view(case)
        assert view.details["generation"] >= 1
        assert view.details["months_paid"] == 8
        # Redeliver the first contribution straight to the workflow (past the intake's inbox):
        # the carried `seen` set drops it, so no "another contribution" note appears.
        first = next(d for d in h.sent if d["type"] == "contribution.paid" and d["data"]["month"] == "2020-05")
        await h.handle(case).signal("event", CaseEvent.model_validate(first))
        await h.advance_to_day(date(2021, 1, 2))
        after = await h.view(case)
        assert after.events_seen == view.events_seen
        assert not any("another contribution" in t.what for t in after.timeline)
        assert len(h.payments(case)) == 8


async def test_k4_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k4_flexible.jsonl through `simulate`; the expected file was derived by
    hand (see the comment block in tests/scenarios/k4_flexible.expected.json's "_how")."""
    expected = json.loads((SCENARIOS / "k4_flexible.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k4_flexible.jsonl", date.fromisoformat(expected["until"]))
    # Other kinds react to the same events (a registration opens a follow-up case, ...): only
    # this kind's cases and payments are compared.
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert [(p["case_id"], p["period"], p["amount"], p["fund"], p["due_on"]) for p in result["payments"] if p["kind"] == KIND] == [
        tuple(p) for p in expected["payments"]
    ]
    assert result["dead_letters"] == expected["dead_letters"]
