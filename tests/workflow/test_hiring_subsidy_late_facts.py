"""K6 late facts across topics (POLICY.md part 2) on Temporal's time-skipping server, through the
intake: a hire rejected (or, for K6b, never opened) for want of a fact on another topic — the
employer's registration showing epidemic supplies, the contract between the pair, the person's
unemployment registration — that receives it within `intake.late_fact_days` (30) of the decision
is judged again as if it had come first and pays with the original dates; a fact after the
window, a fact that does not fix the reason, and a final rejection leave it as it was.

Amounts by hand from the shipped defaults: hiring.epidemic_per_hire 100000, K6b the employer
share of hiring.si_months 3 months; K6a due on the later of the application and the contribution,
K6b on the day the third month was paid.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from app import simulate
from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, employer_contribution, enterprise, epidemic_declared, hire, hiring_application, world

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
S = date(2020, 1, 25)
APPLIED = date(2020, 4, 20)


def rows(h: World, case: str) -> list[tuple[str, str, str, int, date, str]]:
    return [(p.payee, p.program, p.period, p.amount, p.due_on, p.entry) for p in sorted(h.payments(case), key=lambda p: (p.due_on, p.program))]


def registration(e: str, supplies: bool | None) -> dict[str, Any]:
    data: dict[str, Any] = {"enterprise_id": e, "city": "2101", "industry": "manufacturing", "size": "medium"}
    if supplies is not None:
        data["epidemic_supplies"] = supplies
    return data


def unemployed(person: str, registered_on: date) -> dict[str, Any]:
    return {"person_id": person, "city": "2101", "registered_on": registered_on.isoformat(), "birth_date": "1990-01-01",
            "retirement_date": "2050-01-01"}


async def rejected_for_the_registration(h: World, person: str, employer: str) -> str:
    """A hire in the epidemic period, the contribution paid, an application on 04-20 — but the
    employer's registration has not reached the intake: rejected, listening for it."""
    await epidemic_declared(h, S)
    await hire(h, person, employer, date(2020, 3, 5))
    await employer_contribution(h, person, employer, "2020-03", date(2020, 4, 8))
    await hiring_application(h, employer, APPLIED, [person])
    case = f"hiring/epidemic/{employer}/{person}"
    view = await h.view(case)  # the query waits for the case's first workflow task
    assert view.status == "rejected" and "is not registered as producing" in (view.timeline[-1].rule or "")
    assert h.status(case) == "rejected" and h.record(case).closed_on == APPLIED
    return case


async def test_k6a_employer_registration_within_the_window_reopens_and_pays_with_the_original_dates(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        case = await rejected_for_the_registration(h, "G1", "E41")
        # The registration reaches the intake on 05-10, 20 days after the decision.
        cause = await send_to_closed(h, case, "enterprise.registered", registration("E41", True), "enterprise/E41", at(date(2020, 5, 10)), "mr/2101")
        await h.advance_to_day(date(2020, 5, 11))  # reopened behind business time, it lets the burst in first
        assert h.status(case) == "paid" and h.record(case).closed_on == APPLIED
        # Due on the later of the application (04-20) and the contribution (04-08), as if the
        # registration had come first.
        assert rows(h, case) == [("enterprise/E41", "hiring_epidemic", "once", 100000, APPLIED, "payment")]
        assert any(t.what.startswith("reopened") and t.event == cause for t in (await h.view(case)).timeline)


async def test_k6a_employer_registration_after_the_window_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        case = await rejected_for_the_registration(h, "G2", "E42")
        # intake.late_fact_days 30 after 04-20: the window ended with 05-20.
        late = await h.send("enterprise.registered", registration("E42", True), at(date(2020, 5, 22)), subject="enterprise/E42", source="mr/2101")
        assert case not in late.detail, late
        assert h.status(case) == "rejected" and h.payments(case) == []
        assert [c for c in await h.store.open_cases(["person/G2", "enterprise/E42"]) if c.case_id == case] == []


async def test_k6a_a_registration_without_epidemic_supplies_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        case = await rejected_for_the_registration(h, "G3", "E43")
        await send_to_closed(h, case, "enterprise.registered", registration("E43", None), "enterprise/E43", at(date(2020, 5, 1)), "mr/2101")
        assert h.status(case) == "rejected" and h.payments(case) == []
        # Re-registered on 05-12 as making epidemic supplies, still within the window: paid.
        await send_to_closed(h, case, "enterprise.registered", registration("E43", True), "enterprise/E43", at(date(2020, 5, 12)), "mr/2101")
        await h.advance_to_day(date(2020, 5, 13))
        assert h.status(case) == "paid"
        assert rows(h, case) == [("enterprise/E43", "hiring_epidemic", "once", 100000, APPLIED, "payment")]


async def test_k6a_an_application_before_the_contract_reopens_when_the_contract_comes(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E44", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hiring_application(h, "E44", APPLIED, ["G4"])
        case = "hiring/epidemic/E44/G4"
        assert h.status(case) == "rejected"
        assert "no contract between E44 and G4" in ((await h.view(case)).timeline[-1].rule or "")
        # The contract of 04-25 reaches the intake that day: judged again, with the application of 04-20.
        await hire(h, "G4", "E44", date(2020, 4, 25))
        assert h.status(case) == "active" and h.record(case).opened_on == APPLIED
        await employer_contribution(h, "G4", "E44", "2020-04", date(2020, 5, 8))
        assert h.status(case) == "paid"
        assert rows(h, case) == [("enterprise/E44", "hiring_epidemic", "once", 100000, date(2020, 5, 8), "payment")]


async def test_k6a_a_contract_too_short_is_final_and_does_not_listen(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 1, 20)) as h:
        await enterprise(h, "E45", True, date(2020, 1, 20))
        await epidemic_declared(h, S)
        await hire(h, "G5", "E45", date(2020, 3, 5), 6)
        await hiring_application(h, "E45", APPLIED, ["G5"])
        case = "hiring/epidemic/E45/G5"
        assert h.status(case) == "rejected" and h.record(case).listening_until is None
        assert "签订1年以上劳动合同" in ((await h.view(case)).timeline[-1].rule or "")
        # A longer contract later is not this decision's missing fact: the case is gone.
        late = await hire(h, "G5", "E45", date(2020, 4, 25), 12)
        assert late.status == "late", late
        assert h.status(case) == "rejected" and h.payments(case) == []


async def test_k6b_a_registration_after_the_contract_opens_the_case_from_the_contract_date(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 6, 1)) as h:
        # Not a graduate, no registration on record: the contract opens nothing.
        ignored = await hire(h, "J5", "E46", date(2020, 7, 1))
        assert ignored.status == "ignored" and "hiring/priority/E46/J5" not in h.store.cases
        await employer_contribution(h, "J5", "E46", "2020-07", date(2020, 7, 15), 50000)
        # Registered unemployed since 2019-12-01 (seven months on 07-01), reported on 07-20: 19 days.
        late = await h.send("unemployment.registered", unemployed("J5", date(2019, 12, 1)), at(date(2020, 7, 20)), subject="person/J5", source="ru/2101")
        case = "hiring/priority/E46/J5"
        assert late.status == "applied" and case in late.detail, late
        await h.advance_to_day(date(2020, 7, 21))  # opened behind business time, it lets the burst in first
        view = await h.view(case)
        assert view.status == "active" and view.opened_on == date(2020, 7, 1)
        assert view.details["priority_groups"] == ["long_term_unemployed"] and view.details["months_counted"] == ["2020-07"]
        await employer_contribution(h, "J5", "E46", "2020-08", date(2020, 8, 5), 51000)
        await employer_contribution(h, "J5", "E46", "2020-09", date(2020, 9, 5), 52000)
        assert h.status(case) == "paid"
        assert rows(h, case) == [("enterprise/E46", "hiring_priority", "once", 153000, date(2020, 9, 5), "payment")]


async def test_k6b_a_registration_after_the_window_opens_nothing(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 6, 1)) as h:
        await hire(h, "J6", "E47", date(2020, 7, 1))
        # intake.late_fact_days 30 after the contract came on 07-01: the window ended with 07-31.
        late = await h.send("unemployment.registered", unemployed("J6", date(2019, 12, 1)), at(date(2020, 8, 3)), subject="person/J6", source="ru/2101")
        assert "hiring/priority/E47/J6" not in late.detail and "hiring/priority/E47/J6" not in h.store.cases


async def test_k6b_a_registration_too_recent_opens_nothing(env: WorkflowEnvironment) -> None:
    async with world(env, date(2020, 6, 1)) as h:
        await hire(h, "J7", "E48", date(2020, 7, 1))
        # Registered since 2020-04-01: three months on 07-01, not six.
        late = await h.send("unemployment.registered", unemployed("J7", date(2020, 4, 1)), at(date(2020, 7, 10)), subject="person/J7", source="ru/2101")
        assert "hiring/priority/E48/J7" not in late.detail and "hiring/priority/E48/J7" not in h.store.cases


async def test_simulate_k6_late_facts_match_the_hand_derived_expectation() -> None:
    """The same rules end to end through `jiuye simulate` (tests/scenarios/k6_late_fact.expected.json
    "_derivation"): a K6a case reopened by the employer's registration and one by the contract,
    one left rejected by a registration after the window, a K6b case opened by a registration
    after the contract, none for one after the window. Only hiring_subsidy cases and payments are
    compared: the registrations open K9 follow-up cases, which their own scenarios check."""
    expected = json.loads((SCENARIOS / "k6_late_fact.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k6_late_fact.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == "hiring_subsidy"] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] == "hiring_subsidy"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
