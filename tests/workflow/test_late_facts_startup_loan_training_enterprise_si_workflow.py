"""POLICY.md part 2 "late facts across topics" for K13 startup_loan_interest, K14
vocational_training_subsidy and K15 enterprise_si_subsidy, through the intake as in production:
a case that decided without a fact (the enterprise's registration, the person's registration,
the K12 fact that makes the person difficult to employ) and receives it within
`intake.late_fact_days` (30) of the decision is judged again as if it had come first, and pays
what fell due with the original dates; later than that, or a fact that does not fix the reason,
leaves it rejected; a final rejection does not listen.

Amounts by hand from the shipped defaults: K13 LPR 385 bp, rate 485 bp → 250/485 of the
interest (121,250 → 62,500 fen), loan.enterprise_max 300,000,000 fen, loan.enterprise_sizes
micro/small; K14 training.subsidy_by_level junior 100,000 fen; K15 the employer share paid.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

import app.simulate
from streams.intake import Outcome
from tests.workflow.harness import World, at, event_key, registered, world

LOAN = "loan_interest_subsidy"
FUND = "inclusive_finance_fund"
GRANTED = date(2020, 3, 10)  # K13's decision day; the late-fact window ends with 2020-04-09
FAR = date(2045, 1, 1)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def rows(payments: list[Any]) -> list[tuple[str, str, str, int, date, str]]:
    return [(p.program, p.period, p.entry, p.amount, p.due_on, p.payee)
            for p in sorted(payments, key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))]


async def listening(w: World, key: str) -> list[str]:
    return sorted(c.case_id for c in await w.store.open_cases([key]) if c.listening)


# -- K13 ---------------------------------------------------------------------------------------
async def grant(w: World, loan: str, borrower: str, *, principal: int = 200_000_000, kind: str = "small_enterprise") -> Outcome:
    subject = f"{'person' if kind == 'individual' else 'enterprise'}/{borrower}"
    data = {"loan_id": loan, "bank_id": "B1", "borrower": borrower, "borrower_kind": kind, "city": "2101",
            "principal": principal, "rate_bp": 485, "lpr_bp": 385, "granted_on": GRANTED.isoformat(),
            "term_months": 24, "groups": []}
    return await w.send("loan.granted", data, GRANTED, subject=subject)


async def enterprise_registered(w: World, enterprise: str, day: date, size: str = "small") -> Outcome:
    return await w.send("enterprise.registered", {"enterprise_id": enterprise, "city": "2101", "industry": "catering",
                                                  "size": size}, day, subject=f"enterprise/{enterprise}")


async def interest(w: World, loan: str, period: str, start: date, end: date, day: date, borrower: str) -> Outcome:
    return await w.send("loan.interest_charged", {"loan_id": loan, "period": period, "from": start.isoformat(),
                                                  "to": end.isoformat(), "interest": 121_250}, day, subject=f"enterprise/{borrower}")


async def test_k13_an_enterprise_registration_learnt_within_late_fact_days_reopens_the_loan_with_its_original_dates(env: WorkflowEnvironment) -> None:
    """A loan rejected for want of the enterprise's registration ("no registration on file") takes
    it 26 days after the decision: it opens as of the grant date, and the bank's report that
    reached it while rejected is paid with its own date (the day of the report)."""
    async with world(env, date(2020, 3, 9)) as w:
        await grant(w, "LF1", "EL1")
        case = "loan/B1/LF1"
        assert w.status(case) == "rejected"
        held = await interest(w, "LF1", "2020-Q1", GRANTED, date(2020, 3, 31), date(2020, 4, 1), "EL1")
        assert held.status == "applied" and case in held.detail, held
        assert (w.status(case), w.payments(case)) == ("rejected", [])
        late = await enterprise_registered(w, "EL1", date(2020, 4, 5))
        assert late.status == "applied" and case in late.detail, late
        assert w.status(case) == "active"
        assert (w.store.cases[case].opened_on, w.store.cases[case].closed_on) == (GRANTED, None)
        await interest(w, "LF1", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), date(2020, 7, 2), "EL1")
        assert rows(w.payments(case)) == [
            (LOAN, "2020-Q1", "payment", 62_500, date(2020, 4, 1), "bank/B1"),
            (LOAN, "2020-Q2", "payment", 62_500, date(2020, 7, 2), "bank/B1"),
        ]
        view = await w.view(case)
        assert any(t.what.startswith("reopened") and t.event == event_key(late) for t in view.timeline)


async def test_k13_a_registration_after_the_window_or_of_another_size_leaves_the_loan_rejected(env: WorkflowEnvironment) -> None:
    """After `intake.late_fact_days` the decision stands; a registration within it that is not
    micro or small does not fix the reason."""
    async with world(env, date(2020, 3, 9)) as w:
        await grant(w, "LF2", "EL2")
        await grant(w, "LF3", "EL3")
        medium = await enterprise_registered(w, "EL3", date(2020, 4, 5), size="medium")
        assert "loan/B1/LF3" in medium.detail, medium  # reached it, and the decision stands
        too_late = await enterprise_registered(w, "EL2", date(2020, 4, 15))  # 36 days after the decision
        assert too_late.status == "ignored", too_late
        await interest(w, "LF2", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), date(2020, 7, 2), "EL2")
        await interest(w, "LF3", "2020-Q2", date(2020, 4, 1), date(2020, 6, 30), date(2020, 7, 2), "EL3")
        assert (w.status("loan/B1/LF2"), w.status("loan/B1/LF3")) == ("rejected", "rejected")
        assert w.payments("loan/B1/LF2") == w.payments("loan/B1/LF3") == []
        assert await listening(w, "enterprise/EL2") == await listening(w, "enterprise/EL3") == []


async def test_k13_a_final_rejection_does_not_listen(env: WorkflowEnvironment) -> None:
    """Over `loan.enterprise_max` (a registration would not change it), or an individual outside
    the startup groups (vetted on the grant itself): final, the case takes no late fact."""
    async with world(env, date(2020, 3, 9)) as w:
        await grant(w, "LF4", "EL4", principal=300_000_001)
        await grant(w, "LF5", "PL5", principal=10_000_000, kind="individual")
        assert (w.status("loan/B1/LF4"), w.status("loan/B1/LF5")) == ("rejected", "rejected")
        assert await listening(w, "loan/LF4") == await listening(w, "loan/LF5") == []
        late = await enterprise_registered(w, "EL4", date(2020, 3, 20))
        assert late.status == "ignored", late
        assert w.status("loan/B1/LF4") == "rejected" and w.payments("loan/B1/LF4") == []


# -- K14 ---------------------------------------------------------------------------------------
STARTS, ENDS = date(2020, 3, 2), date(2020, 3, 20)  # K14's decision day 03-02: the window ends with 04-01
TRAINING = "vocational_training_subsidy"


async def enrol(w: World, enrolment: str, person: str, occupation: str = "welder") -> Outcome:
    data = {"enrolment_id": enrolment, "person_id": person, "provider_id": "TP1", "city": "2101", "occupation": occupation,
            "level": "junior", "mode": "onsite", "starts_on": STARTS.isoformat(), "ends_on": ENDS.isoformat(), "groups": []}
    return await w.send("training.enrolled", data, STARTS)


async def complete(w: World, enrolment: str, person: str, on: date = ENDS) -> Outcome:
    return await w.send("training.completed", {"enrolment_id": enrolment, "person_id": person, "on": on.isoformat(),
                                               "certificate_level": "junior"}, on)


async def unemployed(w: World, person: str, registered_on: date, day: date) -> Outcome:
    return await w.send("unemployment.registered", {"person_id": person, "city": "2101", "registered_on": registered_on.isoformat(),
                                                    "birth_date": "1980-01-01", "retirement_date": "2045-01-01"}, day)


async def test_k14_a_registration_dated_before_the_start_learnt_within_late_fact_days_reopens_the_enrolment(env: WorkflowEnvironment) -> None:
    """An enrolment rejected as in no eligible group takes the registration (dated 02-01, before
    the start) 23 days after the decision; the completion that reached it while rejected is paid
    with its own date."""
    async with world(env, date(2020, 2, 1)) as w:
        await enrol(w, "ENL1", "TL1")
        case = "training/ENL1"
        assert w.status(case) == "rejected"
        held = await complete(w, "ENL1", "TL1")
        assert case in held.detail, held
        late = await unemployed(w, "TL1", date(2020, 2, 1), date(2020, 3, 25))
        assert late.status == "applied" and case in late.detail, late
        await w.advance_to_day(date(2020, 3, 27))
        assert rows(w.payments(case)) == [(TRAINING, "once", "payment", 100_000, ENDS, "person/TL1")]
        assert w.status(case) == "paid"
        view = await w.view(case)
        assert any(t.what.startswith("reopened") and t.event == event_key(late) for t in view.timeline)


async def test_k14_a_registration_after_the_window_or_dated_after_the_start_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 2, 1)) as w:
        await enrol(w, "ENL2", "TL2")
        await enrol(w, "ENL3", "TL3")
        after_start = await unemployed(w, "TL3", date(2020, 3, 10), date(2020, 3, 12))  # registered after the start
        assert "training/ENL3" in after_start.detail, after_start
        employee = await w.send("employment.registered", {"person_id": "TL3", "city": "2101", "on": "2020-02-10",
                                                          "kind": "employee"}, date(2020, 3, 13))
        assert "training/ENL3" not in employee.detail, employee  # employed, not flexible: no group
        await unemployed(w, "TL2", date(2020, 2, 1), date(2020, 4, 5))  # 34 days after the decision
        await complete(w, "ENL2", "TL2", date(2020, 4, 6))
        await complete(w, "ENL3", "TL3", date(2020, 4, 6))
        assert (w.status("training/ENL2"), w.status("training/ENL3")) == ("rejected", "rejected")
        assert w.payments("training/ENL2") == w.payments("training/ENL3") == []


async def test_k14_a_rejection_by_the_persons_limits_is_final_and_does_not_listen(env: WorkflowEnvironment) -> None:
    """A completion refused by 同一职业同一等级不得重复享受 is decided with every fact: no window."""
    async with world(env, date(2020, 2, 1)) as w:
        await unemployed(w, "TL4", date(2020, 2, 1), date(2020, 2, 1))
        await enrol(w, "ENL4", "TL4")
        await enrol(w, "ENL5", "TL4")
        await complete(w, "ENL4", "TL4")
        await complete(w, "ENL5", "TL4", date(2020, 3, 21))
        assert (w.status("training/ENL4"), w.status("training/ENL5")) == ("paid", "rejected")
        assert "training/ENL5" not in await listening(w, "person/TL4")
        again = await unemployed(w, "TL4", date(2020, 2, 1), date(2020, 3, 25))
        assert "training/ENL5" not in again.detail, again
        assert w.status("training/ENL5") == "rejected" and w.payments("training/ENL5") == []


# -- K15 ---------------------------------------------------------------------------------------
SIGNED = date(2020, 3, 5)  # K15's decision day; the window ends with 2020-04-04


async def hire(h: World, e: str, p: str) -> str:
    await h.send("unemployment.registered", registered(p, date(2020, 1, 6), FAR, []), at(date(2020, 1, 6)))
    data = {"person_id": p, "employer_id": e, "signed_on": SIGNED.isoformat(), "starts_on": SIGNED.isoformat(), "term_months": 24}
    await h.send("contract.signed", data, at(SIGNED), subject=f"person/{p}", source="lc/2101")
    return f"enterprise_si/{e}/{p}/{SIGNED.isoformat()}"


async def pay_in(h: World, e: str, p: str, month: str, on: date) -> Outcome:
    data = {"person_id": p, "month": month, "employer_id": e, "base": 300000, "employer_amount": 50000,
            "employee_amount": 20000, "insurances": ["pension", "medical"]}
    return await h.send("contribution.paid", data, at(on), subject=f"person/{p}", source="si/2101")


async def dibao(h: World, p: str, from_month: str, on: date) -> Outcome:
    return await h.send("dibao.granted", {"person_id": p, "household_id": f"H-{p}", "city": "2101", "monthly_amount": 60000,
                                          "from_month": from_month}, at(on))


async def test_k15_a_k12_fact_learnt_within_late_fact_days_reopens_the_hire_and_pays_from_the_original_dates(env: WorkflowEnvironment) -> None:
    """A hire rejected as not difficult to employ takes the 低保 grant (from January, so on the day
    before signing) 15 days after the decision: the contribution stored meanwhile is paid with
    its own date, and the months after it as they come."""
    async with world(env, date(2020, 1, 1)) as h:
        case = await hire(h, "EF1", "QL1")
        assert h.status(case) == "rejected"
        await pay_in(h, "EF1", "QL1", "2020-03", date(2020, 3, 15))
        late = await dibao(h, "QL1", "2020-01", date(2020, 3, 20))
        assert late.status == "applied" and case in late.detail, late
        assert h.status(case) == "active"
        assert (h.record(case).opened_on, h.record(case).closed_on) == (SIGNED, None)
        await pay_in(h, "EF1", "QL1", "2020-04", date(2020, 4, 10))
        assert rows(h.payments(case)) == [
            ("enterprise_si", "2020-03", "payment", 50000, date(2020, 3, 15), "enterprise/EF1"),
            ("enterprise_si", "2020-04", "payment", 50000, date(2020, 4, 10), "enterprise/EF1"),
        ]
        view = await h.view(case)
        assert any(t.what.startswith("reopened") and t.event == event_key(late) for t in view.timeline)
        assert "dibao_household" in view.details["difficult_categories"]


async def test_k15_a_k12_fact_after_the_window_or_dated_after_signing_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        too_late = await hire(h, "EF2", "QL2")
        after_signing = await hire(h, "EF3", "QL3")
        await pay_in(h, "EF2", "QL2", "2020-03", date(2020, 3, 15))
        await pay_in(h, "EF3", "QL3", "2020-03", date(2020, 3, 15))
        later = await dibao(h, "QL3", "2020-04", date(2020, 3, 20))  # from April: not on the day before signing
        assert after_signing in later.detail, later
        await dibao(h, "QL2", "2020-01", date(2020, 4, 10))  # 36 days after the decision
        await h.advance_to_day(date(2020, 5, 1))
        assert (h.status(too_late), h.status(after_signing)) == ("rejected", "rejected")
        assert h.payments(too_late) == h.payments(after_signing) == []
        assert await listening(h, "person/QL2") == await listening(h, "person/QL3") == []


# -- the scenarios -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["k13_late_fact", "k14_late_fact", "k15_late_fact"])
async def test_a_late_fact_scenario_matches_the_hand_derived_expectation(name: str) -> None:
    """tests/scenarios/<name>.jsonl through `simulate` (its "_how" derives every row): one case
    reopened by a fact within `intake.late_fact_days`, paid with the original dates, and one
    whose fact came after the window, left rejected."""
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / f"{name}.jsonl", date.fromisoformat(expected["until"]))
    for part in ("cases", "payments", "corrections", "tasks", "alerts", "dead_letters"):
        assert result[part] == expected[part], part
