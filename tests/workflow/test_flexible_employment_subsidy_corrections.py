"""K4 corrections on Temporal's time-skipping server (POLICY.md part 2 "What a case owes, and
corrections"): a case states what it owes per period month from the contributions known, and a
corrected contribution report, a stable-employment contract dated in the past or a backdated
`flexible.ratio` adds rows to its ledger, never edits one.

Amounts by hand from the shipped defaults: flexible.ratio 2/3 of all the person paid for the month
(60000 + 24000 = 84000 → 56000), recovery.max_deduction_ratio 50/100. Each test asserts the exact
rows and that, for every period month, the original plus its corrections is what the facts known
now give.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio.testing import WorkflowEnvironment

from contracts import kinds
from streams.intake import Outcome
from tests.workflow.harness import World, at, event_key, registered, scenario_of_kind, world

KIND = kinds.FLEXIBLE_EMPLOYMENT_SUBSIDY
FAR = date(2045, 1, 1)


async def apply(h: World, person: str, on: date, categories: list[str] | None = None) -> str:
    await h.send("unemployment.registered", registered(person, date(2020, 3, 2), FAR, categories or ["disabled"]), at(date(2020, 3, 2)))
    data = {"program": "flexible_employment_si", "applicant": person, "on": on.isoformat(), "details": {}}
    await h.send("application.submitted", data, at(on), subject=f"person/{person}")
    return kinds.flexible_employment_case_id(person, on)


async def contribution(h: World, person: str, month: str, on: date, employer_amount: int = 60000, employee_amount: int = 24000) -> Outcome:
    data: dict[str, Any] = {"person_id": person, "month": month, "base": 300000, "employer_amount": employer_amount,
                            "employee_amount": employee_amount, "insurances": ["pension", "medical"]}
    return await h.send("contribution.paid", data, at(on), subject=f"person/{person}", source="si/2101")


async def paid_then_employed(h: World, person: str, employer: str) -> str:
    """Applied 05-20, May's and June's contributions paid, a stable contract from 07-10 (the case
    closes `employed` that day)."""
    case = await apply(h, person, date(2020, 5, 20))
    await contribution(h, person, "2020-05", date(2020, 5, 25))
    await contribution(h, person, "2020-06", date(2020, 6, 20))
    data = {"person_id": person, "employer_id": employer, "signed_on": "2020-07-10", "starts_on": "2020-07-10", "term_months": 12}
    await h.send("contract.signed", data, at(date(2020, 7, 10)), subject=f"person/{person}", source="lc/2101")
    return case


async def test_k4_corrected_report_makes_arrears_or_an_overpayment_and_an_earlier_one_never_replaces_it(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        case = await apply(h, "F21", date(2020, 5, 20))
        await contribution(h, "F21", "2020-05", date(2020, 5, 25))
        await contribution(h, "F21", "2020-06", date(2020, 6, 20))
        # Corrected reports: May up to 90000 (owed 60000), June down to 42000 (owed 28000).
        up = event_key(await contribution(h, "F21", "2020-05", date(2020, 7, 10), 66000, 24000))
        down = event_key(await contribution(h, "F21", "2020-06", date(2020, 7, 12), 30000, 12000))
        await contribution(h, "F21", "2020-07", date(2020, 7, 20))
        # A report for July dated before the one that stands, delivered after it: it replaces nothing.
        await contribution(h, "F21", "2020-07", date(2020, 7, 15), 1, 1)
        await h.advance_to_day(date(2020, 7, 31))
        assert h.rows(case, ("payment",)) == [
            ("2020-05", "payment", 56000, date(2020, 5, 25), None, None),
            ("2020-06", "payment", 56000, date(2020, 6, 20), None, None),
            ("2020-07", "payment", 56000, date(2020, 7, 20), None, None),
        ]
        assert h.rows(case) == [
            ("2020-05", "arrears", 4000, date(2020, 7, 10), "2020-05", up),
            ("2020-06", "overpayment", 28000, date(2020, 7, 12), "2020-06", down),
            ("2020-07", "deduction", 28000, date(2020, 7, 20), "2020-06", down),
        ]
        assert h.worth_by_period(case) == {"2020-05": 60000, "2020-06": 28000, "2020-07": 56000}
        view = await h.view(case)
        assert view.paid_fen == 3 * 56000 + 4000 - 28000
        assert any("corrected report for 2020-06: 42000 fen (was 84000)" in t.what for t in view.timeline)
        assert h.status(case) == "active" and h.tasks(case) == []


async def test_k4_stable_contract_dated_in_the_past_overpays_the_months_after_it(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        case = await apply(h, "F22", date(2020, 5, 20))
        for month, day in (("2020-05", date(2020, 5, 25)), ("2020-06", date(2020, 6, 20)), ("2020-07", date(2020, 7, 20)),
                           ("2020-08", date(2020, 8, 20))):
            await contribution(h, "F22", month, day)
        # Known on 08-25: a 12-month contract signed 06-20, starting 07-01. July and August began
        # on or after it and are owed nothing; with nothing more to pay the case raises a task.
        data = {"person_id": "F22", "employer_id": "E900", "signed_on": "2020-06-20", "starts_on": "2020-07-01", "term_months": 12}
        hired = event_key(await h.send("contract.signed", data, at(date(2020, 8, 25)), subject="person/F22", source="lc/2101"))
        assert h.rows(case) == [
            ("2020-07", "overpayment", 56000, date(2020, 8, 25), "2020-07", hired),
            ("2020-08", "overpayment", 56000, date(2020, 8, 25), "2020-08", hired),
        ]
        assert h.worth_by_period(case) == {"2020-05": 56000, "2020-06": 56000, "2020-07": 0, "2020-08": 0}
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 7, 1))
        assert [(t["kind"], t["state"], t["details"]["amount"], t["details"]["periods"]) for t in h.tasks(case)] == [
            ("overpayment_recovery", "open", 112000, ["2020-07", "2020-08"])
        ]


async def test_k4_backdated_ratio_change_pays_arrears_for_the_months_since(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 3, 1)) as h:
        case = await apply(h, "F23", date(2020, 5, 20))
        for month, day in (("2020-05", date(2020, 5, 25)), ("2020-06", date(2020, 6, 20)), ("2020-07", date(2020, 7, 20))):
            await contribution(h, "F23", month, day)
        # flexible.ratio 3/4 from 06-01, announced 08-10: June and July owed 63000, paid 56000.
        change = event_key(await h.parameter("flexible.ratio", [3, 4], effective=date(2020, 6, 1), day=date(2020, 8, 10)))
        await contribution(h, "F23", "2020-08", date(2020, 8, 20))
        assert h.rows(case) == [
            ("2020-06", "arrears", 7000, date(2020, 8, 10), "2020-06", change),
            ("2020-07", "arrears", 7000, date(2020, 8, 10), "2020-07", change),
        ]
        assert h.rows(case, ("payment",))[-1] == ("2020-08", "payment", 63000, date(2020, 8, 20), None, None)
        assert h.worth_by_period(case) == {"2020-05": 56000, "2020-06": 63000, "2020-07": 63000, "2020-08": 63000}


async def test_k4_facts_still_correct_a_case_within_the_correction_days_after_it_closed(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: facts still correct a case up to ledger.correction_days after it closed
    (patch k4-late-facts-correct; before it, the listening case noted the change and corrected
    nothing)."""
    async with world(env, date(2020, 3, 1)) as h:
        case = await paid_then_employed(h, "F24", "E901")
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 7, 10))
        # flexible.ratio 3/4 from 06-01, announced 08-10, after the case closed: June owed 63000, paid 56000.
        change = event_key(await h.parameter("flexible.ratio", [3, 4], effective=date(2020, 6, 1), day=date(2020, 8, 10)))
        assert h.rows(case) == [("2020-06", "arrears", 7000, date(2020, 8, 10), "2020-06", change)]
        assert h.worth_by_period(case) == {"2020-05": 56000, "2020-06": 63000}
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 7, 10))
        assert h.tasks(case) == []


async def test_k4_corrected_report_still_corrects_a_case_within_the_correction_days_after_it_closed(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a corrected contribution report (a second `contribution.paid` for the
    same person and month replaces the first) reaching a closed case in its window corrects it as
    it corrects an open one: the route signals listening cases too, not only parameter changes."""
    async with world(env, date(2020, 3, 1)) as h:
        case = await paid_then_employed(h, "F25", "E902")
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 7, 10))
        # June reported again on 08-05 with 30000 + 12000: owed 28000, paid 56000. Nothing more
        # to deduct from: a recovery task for the rest.
        down = event_key(await contribution(h, "F25", "2020-06", date(2020, 8, 5), employer_amount=30000, employee_amount=12000))
        assert h.rows(case) == [("2020-06", "overpayment", 28000, date(2020, 8, 5), "2020-06", down)]
        assert h.worth_by_period(case) == {"2020-05": 56000, "2020-06": 28000}
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 7, 10))
        assert [(t["kind"], t["state"], t["details"]["amount"]) for t in h.tasks(case)] == [("overpayment_recovery", "open", 28000)]


async def test_k4_stable_contract_dated_before_it_closed_still_corrects_a_closed_case(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a stable contract known only after the case closed (on another one),
    dated before months it paid, still overpays those months within the correction window."""
    async with world(env, date(2020, 3, 1)) as h:
        case = await apply(h, "F26", date(2020, 5, 20))
        for month, day in (("2020-05", date(2020, 5, 25)), ("2020-06", date(2020, 6, 20)), ("2020-07", date(2020, 7, 20))):
            await contribution(h, "F26", month, day)
        later = {"person_id": "F26", "employer_id": "E903", "signed_on": "2020-08-10", "starts_on": "2020-08-10", "term_months": 12}
        await h.send("contract.signed", later, at(date(2020, 8, 10)), subject="person/F26", source="lc/2101")
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 8, 10))
        # Known on 08-20: employed with E904 from 06-15 already; July comes after it.
        earlier = {"person_id": "F26", "employer_id": "E904", "signed_on": "2020-06-15", "starts_on": "2020-06-15", "term_months": 12}
        signed = event_key(await h.send("contract.signed", earlier, at(date(2020, 8, 20)), subject="person/F26", source="lc/2101"))
        assert h.rows(case) == [("2020-07", "overpayment", 56000, date(2020, 8, 20), "2020-07", signed)]
        assert (h.status(case), h.record(case).closed_on) == ("employed", date(2020, 8, 10))


async def test_k4_corrections_scenario_matches_hand_derived_expectation() -> None:
    """tests/scenarios/k4_corrections.jsonl through `simulate`: a corrected report up and down, a
    stable contract known late, a backdated flexible.ratio (the expected file's "_how")."""
    got, expected = await scenario_of_kind("k4_corrections", KIND)
    assert got == {k: expected[k] for k in ("cases", "payments", "tasks", "dead_letters")}
