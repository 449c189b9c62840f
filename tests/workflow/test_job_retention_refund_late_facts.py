"""K7 late facts across topics (POLICY.md part 2) on Temporal's time-skipping server, through the
intake: an application rejected for want of a fact (the enterprise not on file, nobody insured)
that receives it within `intake.late_fact_days` (30) of the decision is judged again as if the
fact had come first and refunded with the original due date; a fact after the window, a fact
that does not fix the reason, and a final rejection leave it rejected.

Amounts by hand from the shipped defaults: catering is an affected industry, 6 ×
ui.monthly_benefit 150000 × the insured headcount (prior-year premiums none).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app import simulate
from tests.workflow._late_facts import send_to_closed
from tests.workflow.harness import World, at, world
from tests.workflow.test_job_retention_refund import apply, send

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
APPLIED = date(2020, 3, 10)


def rows(h: World, case: str) -> list[tuple[str, str, int, date, str | None]]:
    return [(p.entry, p.period, p.amount, p.due_on, p.corrects) for p in sorted(h.payments(case), key=lambda p: (p.due_on, p.entry, p.seq))]


async def staff(h: World, e: str, n: int, day: date, first: int = 1) -> None:
    for i in range(first, first + n):
        await send(h, "insured.enrolled", {"person_id": f"{e}P{i}", "employer_id": e, "on": day.isoformat()}, f"person/{e}P{i}", at(day))


def registration(e: str, industry: str = "catering") -> dict[str, str]:
    return {"enterprise_id": e, "city": "2101", "industry": industry, "size": "small"}


async def test_k7_registration_within_the_window_reopens_and_refunds_on_the_application_date(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await staff(h, "WL1", 3, date(2019, 10, 2))
        await apply(h, "WL1", APPLIED, 2020)
        case = "retention/WL1/2020"
        assert h.status(case) == "rejected" and h.record(case).closed_on == APPLIED
        assert "is not registered" in ((await h.view(case)).timeline[-1].rule or "")
        # The registration reaches the intake on 03-25, 15 days after the decision.
        cause = await send_to_closed(h, case, "enterprise.registered", registration("WL1"), "enterprise/WL1", at(date(2020, 3, 25)), "re/2101")
        assert h.status(case) == "refunded" and h.record(case).closed_on == APPLIED
        # 6 × 150000 × 3 insured, due on the application date as if the registration had come first.
        assert rows(h, case) == [("payment", "once", 2700000, APPLIED, None)]
        view = await h.view(case)
        assert any(t.what.startswith("reopened") and t.event == cause for t in view.timeline)
        assert view.details["insured_headcount"] == 3 and view.details["formula"] == "affected_industry"
        # Refunded, it now listens for corrections: a fourth person insured before the application
        # is arrears (the reopened case is a refund like any other).
        late = {"person_id": "WL1P4", "employer_id": "WL1", "on": "2019-10-02"}
        await send_to_closed(h, case, "insured.enrolled", late, "person/WL1P4", at(date(2020, 4, 20)), "si/2101")
        assert rows(h, case) == [("payment", "once", 2700000, APPLIED, None), ("arrears", "once", 900000, date(2020, 4, 20), "once")]


async def test_k7_registration_after_the_window_leaves_it_rejected(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await staff(h, "WL2", 3, date(2019, 10, 2))
        await apply(h, "WL2", APPLIED, 2020)
        case = "retention/WL2/2020"
        assert h.status(case) == "rejected"
        # intake.late_fact_days 30 after 03-10: the window ended with 04-09.
        late = await send(h, "enterprise.registered", registration("WL2"), "enterprise/WL2", at(date(2020, 4, 12)), "re/2101")
        assert case not in late.detail, late
        assert h.status(case) == "rejected" and h.record(case).closed_on == APPLIED
        assert h.payments(case) == []
        assert await h.store.open_cases(["enterprise/WL2"]) == []


async def test_k7_a_late_fact_that_does_not_fix_the_reason_leaves_it_rejected_and_counts_once_it_is(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await staff(h, "WL3", 3, date(2019, 10, 2))
        await apply(h, "WL3", APPLIED, 2020)
        case = "retention/WL3/2020"
        # An enrolment dated before the application, reported on 03-15: still no registration.
        late = {"person_id": "WL3P4", "employer_id": "WL3", "on": "2019-10-02"}
        await send_to_closed(h, case, "insured.enrolled", late, "person/WL3P4", at(date(2020, 3, 15)), "si/2101")
        assert h.status(case) == "rejected" and h.payments(case) == []
        assert any(t.what == "late insured.enrolled: the decision stands" for t in (await h.view(case)).timeline)
        # The registration on 04-01 (22 days): judged on all four insured.
        await send_to_closed(h, case, "enterprise.registered", registration("WL3"), "enterprise/WL3", at(date(2020, 4, 1)), "re/2101")
        assert h.status(case) == "refunded"
        assert rows(h, case) == [("payment", "once", 3600000, APPLIED, None)]


async def test_k7_nobody_insured_reopens_when_an_enrolment_dated_before_the_application_comes(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        await send(h, "enterprise.registered", registration("WL4"), "enterprise/WL4", at(date(2019, 10, 2)), "re/2101")
        await apply(h, "WL4", APPLIED, 2020)
        case = "retention/WL4/2020"
        assert h.status(case) == "rejected" and "insures nobody" in ((await h.view(case)).timeline[-1].rule or "")
        # An enrolment dated after the application does not bear on it.
        after = {"person_id": "WL4P9", "employer_id": "WL4", "on": "2020-03-12"}
        await send_to_closed(h, case, "insured.enrolled", after, "person/WL4P9", at(date(2020, 3, 12)), "si/2101")
        assert h.status(case) == "rejected"
        enrolled = {"person_id": "WL4P1", "employer_id": "WL4", "on": "2019-12-01"}
        await send_to_closed(h, case, "insured.enrolled", enrolled, "person/WL4P1", at(date(2020, 3, 20)), "si/2101")
        assert h.status(case) == "refunded"
        assert rows(h, case) == [("payment", "once", 900000, APPLIED, None)]


async def test_k7_a_final_rejection_does_not_listen(env: WorkflowEnvironment) -> None:
    async with world(env, date(2019, 10, 1)) as h:
        # Applied for 2021 in 2020: a year that has not begun, whatever comes later.
        await staff(h, "WL5", 3, date(2019, 10, 2))
        await apply(h, "WL5", APPLIED, 2021)
        case = "retention/WL5/2021"
        assert h.status(case) == "rejected" and h.record(case).listening_until is None
        late = await send(h, "enterprise.registered", registration("WL5"), "enterprise/WL5", at(date(2020, 3, 20)), "re/2101")
        assert case not in late.detail, late
        assert h.status(case) == "rejected" and h.payments(case) == []
        assert await h.store.open_cases(["enterprise/WL5"]) == []


async def test_simulate_k7_late_facts_match_the_hand_derived_expectation() -> None:
    """The same rules end to end through `jiuye simulate` (tests/scenarios/k7_late_fact.expected.json
    "_derivation"): reopened by a late registration and by a late enrolment, left rejected by a
    registration after the window, a final rejection that does not listen."""
    expected = json.loads((SCENARIOS / "k7_late_fact.expected.json").read_text(encoding="utf-8"))
    result = await simulate.simulate(SCENARIOS / "k7_late_fact.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert (result["tasks"], result["alerts"], result["dead_letters"]) == (expected["tasks"], expected["alerts"], expected["dead_letters"])
