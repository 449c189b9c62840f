"""K15 enterprise_si_subsidy on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway): the person's registration first, then the contract.

By hand from POLICY.md K15 with the shipped parameters (enterprise_si.months 36, one settle month):
counted months from the month of starts_on, exempted months skipped, each counted month's
employer share paid, closing on the first day after the last payable month + 1 month."""

from __future__ import annotations

import json
from datetime import date, datetime
from itertools import count
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from contracts import kinds
from contracts.cases import CaseEvent
from streams.intake import Outcome
from tests.workflow.harness import World, at, registered, world

KIND = kinds.ENTERPRISE_SI_SUBSIDY
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FAR = date(2045, 1, 1)
_ids = count(1)
SENT: list[dict[str, Any]] = []


async def send(h: World, type_: str, data: dict[str, Any], subject: str, when: datetime, source: str = "si/2101") -> Outcome:
    outcome = await h.send(type_, data, when, subject=subject, source=source)
    SENT.append(h.sent[-1])
    return outcome


async def hire(h: World, e: str, p: str, signed: date, starts: date, categories: list[str], term: int | None = 24) -> str:
    await h.send("unemployment.registered", registered(p, date(2020, 1, 6), FAR, categories), at(date(2020, 1, 6)))
    data = {"person_id": p, "employer_id": e, "signed_on": signed.isoformat(), "starts_on": starts.isoformat(), "term_months": term}
    await send(h, "contract.signed", data, f"person/{p}", at(signed), "lc/2101")
    return f"enterprise_si/{e}/{p}/{signed.isoformat()}"


async def pay_in(h: World, e: str, p: str, month: str, on: date, employer: int = 50000) -> None:
    data = {"person_id": p, "month": month, "employer_id": e, "base": 300000, "employer_amount": employer,
            "employee_amount": 20000, "insurances": ["pension", "medical"]}
    await send(h, "contribution.paid", data, f"person/{p}", at(on))


async def exempt(h: World, e: str, from_month: str, to_month: str, on: date) -> None:
    await send(h, "si.fee_exemption", {"enterprise_id": e, "from_month": from_month, "to_month": to_month}, f"enterprise/{e}", at(on))


async def test_k15_rejected_unless_difficult_to_employ(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X0", "Q0", date(2020, 3, 5), date(2020, 3, 5), [])
        assert h.status(case) == "rejected" and h.record(case).closed_on == date(2020, 3, 5)


async def test_k15_exemption_postpones_the_period_even_when_it_arrives_mid_case(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1), history_limit=30) as h:
        await exempt(h, "X1", "2020-04", "2020-05", date(2020, 2, 1))  # known before the hire
        case = await hire(h, "X1", "Q1", date(2020, 3, 5), date(2020, 3, 5), ["disabled"])
        assert h.status(case) == "active"
        await pay_in(h, "X1", "Q1", "2020-03", date(2020, 3, 20))
        await pay_in(h, "X1", "Q1", "2020-04", date(2020, 4, 20), employer=0)  # exempted: not paid
        await pay_in(h, "X1", "Q1", "2020-06", date(2020, 6, 20))
        assert [p.period for p in h.payments(case)] == ["2020-03", "2020-06"]
        # Reported later: 2020-06 (already paid: no longer counted, overpaid the day the case reads
        # the exemption, when July's contribution falls due) .. 2020-07 (skipped); the overpayment
        # is recovered from later payments, at most half of each (POLICY.md part 2).
        await exempt(h, "X1", "2020-06", "2020-07", date(2020, 7, 10))
        await pay_in(h, "X1", "Q1", "2020-07", date(2020, 7, 20))
        await pay_in(h, "X1", "Q1", "2020-08", date(2020, 8, 20))
        ledger = [(p.period, p.entry, p.amount, p.due_on, p.corrects) for p in h.payments(case)]
        assert ledger == [
            ("2020-03", "payment", 50000, date(2020, 3, 20), None),
            ("2020-06", "payment", 50000, date(2020, 6, 20), None),
            ("2020-06", "overpayment", 50000, date(2020, 7, 20), "2020-06"),
            ("2020-08", "payment", 50000, date(2020, 8, 20), None),
            ("2020-08", "deduction", 25000, date(2020, 8, 20), "2020-06"),
        ]
        exemption = next(d for d in SENT if d["type"] == "si.fee_exemption" and d["data"]["from_month"] == "2020-06")
        assert h.payments(case)[2].cause == f"{exemption['source']}#{exemption['id']}"
        view = await h.view(case)
        assert any("not counted, the period is postponed" in t.what for t in view.timeline)
        # 36 counted months: 2020-03, then 35 from 2020-08 → 2023-06; closed 2023-08-01.
        assert view.details["last_month"] == "2023-06"
        await pay_in(h, "X1", "Q1", "2023-05", date(2023, 6, 5))
        await pay_in(h, "X1", "Q1", "2023-06", date(2023, 7, 5))
        await h.advance_to_day(date(2023, 7, 31))
        assert h.status(case) == "active"
        await h.advance_to_day(date(2023, 8, 1))
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2023, 8, 1)
        assert [(p.period, p.entry) for p in h.payments(case)][-3:] == [
            ("2023-05", "payment"), ("2023-05", "deduction"), ("2023-06", "payment")]
        # Recovered in full from 2020-08 and 2023-05: no overpayment_recovery task.
        assert h.payments(case)[-2].amount == 25000 and h.tasks(case) == []
        assert all(p.payee == "enterprise/X1" and p.fund == "employment_subsidy_fund" for p in h.payments(case))
        # The case continued as new on the way (low history limit) and kept its state.
        assert (await h.view(case)).details["generation"] > 0


async def test_k15_separation_ends_the_case_months_after_it_not_paid(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "X2", "Q2", date(2020, 5, 10), date(2020, 6, 1), ["single_parent"], term=None)
        await pay_in(h, "X2", "Q2", "2020-06", date(2020, 6, 25), employer=41000)
        await send(h, "contract.terminated", {"person_id": "Q2", "employer_id": "X2", "on": "2020-07-15"}, "person/Q2", at(date(2020, 7, 15)), "lc/2101")
        await pay_in(h, "X2", "Q2", "2020-07", date(2020, 8, 5), employer=20000)
        await pay_in(h, "X2", "Q2", "2020-08", date(2020, 8, 20))
        await h.advance_to_day(date(2020, 9, 2))
        assert h.status(case) == "ended" and h.record(case).closed_on == date(2020, 9, 1)
        assert [(p.period, p.amount, p.due_on) for p in h.payments(case)] == [
            ("2020-06", 41000, date(2020, 6, 25)), ("2020-07", 20000, date(2020, 8, 5))]


async def test_k15_contribution_stored_before_the_contract_arrived_is_paid(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        await h.send("unemployment.registered", registered("Q4", date(2020, 1, 6), FAR, ["disabled"]), at(date(2020, 1, 6)))
        # The contribution (si.contributions) is handled before the contract (labor.contracts).
        await pay_in(h, "X4", "Q4", "2020-03", date(2020, 3, 20))
        data = {"person_id": "Q4", "employer_id": "X4", "signed_on": "2020-03-05", "starts_on": "2020-03-05", "term_months": 12}
        await send(h, "contract.signed", data, "person/Q4", at(date(2020, 3, 25)), "lc/2101")
        case = "enterprise_si/X4/Q4/2020-03-05"
        await h.advance_to_day(date(2020, 3, 26))
        assert [(p.period, p.amount, p.due_on) for p in h.payments(case)] == [("2020-03", 50000, date(2020, 3, 20))]


async def test_k15_continue_as_new_keeps_seen_ids_and_payments_over_36_months(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1), history_limit=40) as h:
        case = await hire(h, "X3", "Q3", date(2020, 1, 10), date(2020, 2, 1), ["disabled"])
        months = [f"{2020 + (i + 1) // 12}-{(i + 1) % 12 + 1:02d}" for i in range(36)]
        assert (months[0], months[-1]) == ("2020-02", "2023-01")
        for i, month in enumerate(months):
            year, mon = map(int, month.split("-"))
            await pay_in(h, "X3", "Q3", month, date(year, mon, 15), employer=30000 + i)
        view = await h.view(case)
        assert view.details["generation"] > 0 and view.details["months_paid"] == 36
        # A redelivery of the first contribution after continue-as-new is dropped (seen ids carried).
        first = next(d for d in SENT if d["type"] == "contribution.paid" and d["data"]["person_id"] == "Q3")
        await h.handle(case).signal("event", CaseEvent.model_validate(first))
        await h.settle()
        assert (await h.view(case)).events_seen == view.events_seen
        await h.advance_to_day(date(2023, 3, 2))
        assert h.status(case) == "completed" and h.record(case).closed_on == date(2023, 3, 1)
        paid = h.payments(case)
        assert [p.period for p in paid] == months and sum(p.amount for p in paid) == 36 * 30000 + sum(range(36))


async def test_k15_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k15_enterprise_si.jsonl through `simulate`; the expected file was derived
    by hand (its "_how" says how)."""
    expected = json.loads((SCENARIOS / "k15_enterprise_si.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k15_enterprise_si.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == KIND] == expected["cases"]
    assert [
        [p["case_id"], p["payee"], p["period"], p["amount"], p["fund"], p["due_on"]] for p in result["payments"] if p["kind"] == KIND
    ] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
