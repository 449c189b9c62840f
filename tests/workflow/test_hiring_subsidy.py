"""K6 hiring_subsidy on Temporal's time-skipping server, started as production starts it
(Intake → routing → CaseGateway), with time driven by `env.sleep`.

Expected dates and amounts are worked out by hand from POLICY.md K6 and the shipped parameters
(hiring.epidemic_per_hire 100000, hiring.agency_per_hire 20000, hiring.si_months 3, application by
L + 3 months, hiring.si_wait_months 12). A K6a case judges at the start of the day after its last
day to apply (L + 3 months), so that day is its closing date when nothing came in time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app import simulate
from tests.workflow.harness import (
    at,
    contract_terminated,
    employer_contribution,
    enterprise,
    epidemic_declared,
    epidemic_lifted,
    hire,
    hiring_application,
    unemployed,
    world,
)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
S = date(2020, 1, 25)


async def test_k6a_deadline_unknown_until_the_lift_then_aimed_at_l_plus_3_months(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "A1", "E1", date(2020, 2, 10))
        case = "hiring/epidemic/E1/A1"
        view = await h.view(case)
        assert view.status == "active" and view.next_deadline is None and view.details["deadline"] is None
        # Months pass with no lift: no timer, the case just waits.
        await h.advance_to_day(date(2020, 5, 1))
        assert h.status(case) == "active"
        await epidemic_lifted(h, date(2020, 5, 15))
        assert (await h.view(case)).next_deadline == date(2020, 8, 16)
        assert h.record(case).next_deadline == date(2020, 8, 16)
        await h.advance_to_day(date(2020, 8, 15))
        assert h.status(case) == "active"
        await h.advance_to_day(date(2020, 8, 17))
        assert h.status(case) == "not_qualified"
        assert h.record(case).closed_on == date(2020, 8, 16)
        assert h.payments(case) == []
        view = await h.view(case)
        assert view.timeline[-1].rule == (
            "§10: by L + 3 months = 2020-08-15 no application was made and E1 had not paid the contribution for A1"
        )


async def test_k6a_a_corrected_lift_re_aims_the_deadline(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "B1", "E1", date(2020, 3, 2))
        await hire(h, "B2", "E1", date(2020, 3, 3))
        await epidemic_lifted(h, date(2020, 6, 30))
        assert (await h.view("hiring/epidemic/E1/B1")).next_deadline == date(2020, 10, 1)
        # The lift date is corrected: the same timers, re-aimed (not restarted cases).
        await epidemic_lifted(h, date(2020, 5, 15), when=date(2020, 7, 5))
        for case in ("hiring/epidemic/E1/B1", "hiring/epidemic/E1/B2"):
            assert (await h.view(case)).next_deadline == date(2020, 8, 16)
        await employer_contribution(h, "B1", "E1", "2020-03", date(2020, 7, 10))
        await hiring_application(h, "E1", date(2020, 8, 15), ["B1"])
        await h.advance_to_day(date(2020, 10, 2))
        assert [(p.payee, p.amount, p.due_on) for p in h.payments("hiring/epidemic/E1/B1")] == [("enterprise/E1", 100000, date(2020, 8, 15))]
        assert h.status("hiring/epidemic/E1/B1") == "paid"
        assert h.status("hiring/epidemic/E1/B2") == "not_qualified"
        assert h.record("hiring/epidemic/E1/B2").closed_on == date(2020, 8, 16)


async def test_k6a_application_after_l_plus_3_months_is_not_qualified(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "C1", "E1", date(2020, 3, 2))
        await epidemic_lifted(h, date(2020, 6, 30))
        await hiring_application(h, "E1", date(2020, 7, 20), ["C1"])
        case = "hiring/epidemic/E1/C1"
        assert h.status(case) == "active"  # in time so far; the contribution is missing
        # L corrected to 2020-04-10: the last day to apply was 2020-07-10.
        await epidemic_lifted(h, date(2020, 4, 10), when=date(2020, 7, 25))
        await employer_contribution(h, "C1", "E1", "2020-03", date(2020, 7, 26))
        assert h.status(case) == "not_qualified"
        assert h.record(case).closed_on == date(2020, 7, 20)
        view = await h.view(case)
        assert "applied on 2020-07-20, after L + 3 months = 2020-07-10" in (view.timeline[-1].rule or "")
        assert h.payments(case) == []


async def test_k6a_hire_outside_the_epidemic_period_is_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 10)) as h:
        await enterprise(h, "E1", True, date(2020, 1, 10))
        await hire(h, "D1", "E1", date(2020, 1, 15))
        await epidemic_declared(h, S)
        case = "hiring/epidemic/E1/D1"
        assert h.status(case) == "rejected"
        assert "before the epidemic was declared on 2020-01-25" in ((await h.view(case)).timeline[-1].rule or "")


async def test_k6a_contribution_before_the_case_started_and_registration_after_the_contract(env: WorkflowEnvironment) -> None:
    """The employer's registration arrives after the contract (no case opens then); the
    contribution is paid before any case exists; the application opens the case, which reads
    the stored contract, registration and contribution."""
    async with world(env, date(2020, 1, 20)) as h:
        await epidemic_declared(h, S)
        await hire(h, "F1", "E3", date(2020, 3, 5), 36, agency="A9")
        await employer_contribution(h, "F1", "E3", "2020-03", date(2020, 4, 8))
        await enterprise(h, "E3", True, date(2020, 4, 9))
        assert "hiring/epidemic/E3/F1" not in h.store.cases
        await hiring_application(h, "E3", date(2020, 4, 20), ["F1", "F9"])
        case = "hiring/epidemic/E3/F1"
        assert h.status(case) == "paid"
        assert [(p.payee, p.program, p.amount, p.due_on) for p in h.payments(case)] == [
            ("agency/A9", "hiring_agency", 20000, date(2020, 4, 20)),
            ("enterprise/E3", "hiring_epidemic", 100000, date(2020, 4, 20)),
        ]
        # F9 has no contract with E3 on record: rejected with the reason.
        assert h.status("hiring/epidemic/E3/F9") == "rejected"
        assert "no contract between E3 and F9" in ((await h.view("hiring/epidemic/E3/F9")).timeline[-1].rule or "")


async def test_k6a_agency_cap_reached_pays_the_enterprise_but_not_the_agency(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 1)) as h:
        change = {"city": "2101", "name": "hiring.agency_cap", "value": 25000, "effective_on": "2020-01-01"}
        await h.send("policy.parameter.changed", change, at(date(2020, 1, 2)), subject="city/2101", source="gov/2101")
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        for n, person in enumerate(("G1", "G2", "G3")):
            await hire(h, person, "E1", date(2020, 2, 10 + n), agency="A1")
            await employer_contribution(h, person, "E1", "2020-02", date(2020, 3, 5 + n))
            await hiring_application(h, "E1", date(2020, 4, 1 + n), [person])
        agency = [(p.case_id, p.amount) for p in h.store.ledger.values() if p.payee == "agency/A1"]
        assert sorted(agency) == [("hiring/epidemic/E1/G1", 20000), ("hiring/epidemic/E1/G2", 5000)]
        for person in ("G1", "G2", "G3"):
            assert h.status(f"hiring/epidemic/E1/{person}") == "paid"
            assert [p.amount for p in h.payments(f"hiring/epidemic/E1/{person}") if p.payee == "enterprise/E1"] == [100000]
        view = await h.view("hiring/epidemic/E1/G3")
        assert view.details["agency_paid"] == 0
        assert any("agency cap reached" in t.what for t in view.timeline)


async def test_k6b_contract_terminated_before_si_months_is_not_qualified(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 11, 1)) as h:
        await unemployed(h, "H1", date(2019, 11, 10))
        await hire(h, "H1", "E2", date(2020, 5, 10), starts_on=date(2020, 5, 11))
        case = "hiring/priority/E2/H1"
        assert (await h.view(case)).details["priority_groups"] == ["long_term_unemployed"]
        await employer_contribution(h, "H1", "E2", "2020-05", date(2020, 6, 5))
        await employer_contribution(h, "H1", "E2", "2020-06", date(2020, 7, 5))
        await contract_terminated(h, "H1", "E2", date(2020, 7, 20))
        # The third month paid after the contract ended does not revive the case.
        await employer_contribution(h, "H1", "E2", "2020-07", date(2020, 8, 5))
        assert h.status(case) == "not_qualified"
        assert h.record(case).closed_on == date(2020, 7, 20)
        assert h.payments(case) == []


async def test_k6b_pays_the_employer_share_of_si_months_once(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 6, 1)) as h:
        await hire(h, "J1", "E2", date(2020, 7, 1), None, graduation_year=2020)
        case = "hiring/priority/E2/J1"
        assert (await h.view(case)).details["priority_groups"] == ["graduating_year_graduate"]
        await employer_contribution(h, "J1", "E2", "2020-06", date(2020, 7, 3), 99999)  # before the start month
        await employer_contribution(h, "J1", "E2", "2020-07", date(2020, 8, 5), 50000)
        await employer_contribution(h, "J1", "E2", "2020-08", date(2020, 9, 5), 51000)
        await employer_contribution(h, "J1", "E2", "2020-09", date(2020, 10, 5), 52000)
        assert [(p.payee, p.program, p.period, p.amount, p.due_on) for p in h.payments(case)] == [
            ("enterprise/E2", "hiring_priority", "once", 153000, date(2020, 10, 5))
        ]
        assert h.status(case) == "paid"


async def test_k6_duplicate_pair_is_one_case_and_one_payment(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "K1", "E1", date(2020, 2, 10))
        # A second contract for the same pair while the case runs: the same case.
        await hire(h, "K1", "E1", date(2020, 2, 20), 24)
        case = "hiring/epidemic/E1/K1"
        assert [c for c in h.store.cases if c.startswith("hiring/")] == [case]
        await employer_contribution(h, "K1", "E1", "2020-02", date(2020, 3, 5))
        await hiring_application(h, "E1", date(2020, 4, 1), ["K1"])
        await hiring_application(h, "E1", date(2020, 4, 2), ["K1"])
        # After the payment: a third contract, and a third application, reach the same case, closed
        # and listening for corrections (ledger.correction_days): neither pays again.
        again = await hire(h, "K1", "E1", date(2020, 5, 1))
        assert again.status == "applied" and case in again.detail
        assert (await hiring_application(h, "E1", date(2020, 5, 2), ["K1"])).status == "applied"
        assert h.status(case) == "paid"
        assert [(p.payee, p.amount) for p in h.payments(case)] == [("enterprise/E1", 100000)]


async def test_k6a_continues_as_new_and_keeps_its_state(env: WorkflowEnvironment) -> None:
    """A K6a case waits for months while L is unknown; with a low history limit it continues as
    new and keeps what it had (seen ids, contribution, deadline)."""
    async with world(env, date(2020, 1, 20), history_limit=30) as h:
        await enterprise(h, "E1", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "M1", "E1", date(2020, 2, 10))
        case = "hiring/epidemic/E1/M1"
        first = await employer_contribution(h, "M1", "E1", "2020-02", date(2020, 3, 5))
        assert first.status == "applied"
        for month in range(3, 10):
            await employer_contribution(h, "M1", "E1", f"2020-{month:02d}", date(2020, month + 1, 5))
        view = await h.view(case)
        assert view.details["generation"] >= 1
        assert view.details["contribution"] == "2020-02"
        # The first contribution redelivered to the case after continue-as-new: dropped by `seen`.
        seen = view.events_seen
        assert h.sent[3]["type"] == "contribution.paid" and h.sent[3]["data"]["month"] == "2020-02"
        await h.handle(case).signal("event", _case_event(h.sent[3]))
        await h.settle()
        assert (await h.view(case)).events_seen == seen
        await epidemic_lifted(h, date(2020, 11, 1))
        assert (await h.view(case)).next_deadline == date(2021, 2, 2)
        await hiring_application(h, "E1", date(2020, 12, 1), ["M1"])
        assert h.status(case) == "paid"
        assert [(p.amount, p.due_on) for p in h.payments(case)] == [(100000, date(2020, 12, 1))]


def _case_event(doc: dict) -> object:
    from contracts.cases import CaseEvent

    return CaseEvent(source=doc["source"], id=doc["id"], type=doc["type"], subject=doc["subject"], time=doc["time"], data=doc["data"])


async def test_simulate_k6_hiring_matches_the_hand_derived_expectation() -> None:
    """POLICY.md K6 end to end through intake, routing and the workflows (how each figure follows
    from the rules: the `_how` of tests/scenarios/k6_hiring.expected.json). Only hiring_subsidy
    cases and payments are compared: the same registrations and contracts open other kinds'
    cases (K9, K15), which their own scenarios check."""
    expected = json.loads((SCENARIOS / "k6_hiring.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k6_hiring.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == "hiring_subsidy"] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] == "hiring_subsidy"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
