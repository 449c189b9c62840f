"""K18 employment_service_subsidy (就业创业服务补助, §20) on Temporal's time-skipping server,
through the intake as in production: one case per agency and year, each quarter settled by a
timer `service_subsidy.confirm_days` after its end, placements confirmed by employments that
arrive on other topics in the months between. Each test is named after the POLICY.md rule.

Amounts from the shipped defaults: per_placement 30000, per_guidance 5000, per_enterprise 10000,
confirm_days 90, cap_per_year 5,000,000 fen.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

import app.simulate
from streams.intake import Outcome
from tests.workflow.harness import World, world

PROGRAM = "employment_service_subsidy"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def service(w: World, agency: str, on: date, kind: str, *, person: str | None = None, enterprise: str | None = None,
                  day: date | None = None) -> Outcome:
    data: dict[str, Any] = {"agency_id": agency, "city": "2101", "on": on.isoformat(), "service": kind}
    if person:
        data["person_id"] = person
    if enterprise:
        data["enterprise_id"] = enterprise
    return await w.send("service.delivered", data, day or on, subject=f"agency/{agency}")


def rows(w: World, case: str) -> list[tuple[str, str, int, date]]:
    return [(p.period, p.entry, p.amount, p.due_on) for p in sorted(w.payments(case), key=lambda p: (p.due_on, p.period, p.entry, p.seq))]


async def test_k18_a_placement_counts_when_the_person_is_employed_within_confirm_days(env: WorkflowEnvironment) -> None:
    """`job_placement`: `per_placement` for each person who is employed (a `contract.signed` or an
    `employment.registered`, any employer) within `confirm_days` after the service date; a
    placement confirmed later does not count. Settled `confirm_days` after the quarter's end."""
    async with world(env, date(2020, 4, 1)) as w:
        await service(w, "A1", date(2020, 4, 10), "job_placement", person="S1")
        await service(w, "A1", date(2020, 4, 11), "job_placement", person="S2")
        await service(w, "A1", date(2020, 4, 12), "job_placement", person="S3")
        await w.contract("S1", date(2020, 6, 1))  # 52 days after: counts
        await w.employment("S2", date(2020, 7, 15))  # 95 days after: too late
        await w.advance_to_day(date(2020, 9, 28))
        case = "service/A1/2020"
        assert w.payments(case) == []  # Q2 settles on 2020-09-29 (07-01 + 90 days)
        await w.advance_to_day(date(2020, 9, 30))
        assert rows(w, case) == [("2020-Q2", "payment", 30000, date(2020, 9, 29))]
        assert w.payments(case)[0].payee == "agency/A1"


async def test_k18_guidance_once_per_person_and_enterprise_service_once_per_enterprise_per_quarter(env: WorkflowEnvironment) -> None:
    """`career_guidance` and `startup_service`: `per_guidance`, at most once per person per agency
    per quarter; `enterprise_service`: `per_enterprise`, at most once per enterprise per quarter."""
    async with world(env, date(2020, 1, 1)) as w:
        await service(w, "A2", date(2020, 1, 6), "career_guidance", person="G1")
        await service(w, "A2", date(2020, 2, 6), "startup_service", person="G1")
        await service(w, "A2", date(2020, 2, 7), "career_guidance", person="G2")
        await service(w, "A2", date(2020, 3, 2), "enterprise_service", enterprise="X1")
        await service(w, "A2", date(2020, 3, 3), "enterprise_service", enterprise="X1")
        await service(w, "A2", date(2020, 4, 3), "career_guidance", person="G1")
        await w.advance_to_day(date(2020, 10, 1))
        assert rows(w, "service/A2/2020") == [("2020-Q1", "payment", 2 * 5000 + 10000, date(2020, 6, 30)),
                                              ("2020-Q2", "payment", 5000, date(2020, 9, 29))]


async def test_k18_at_most_cap_per_year_the_payment_that_reaches_it_is_reduced(env: WorkflowEnvironment) -> None:
    """At most `service_subsidy.cap_per_year` per agency and year (the payment that reaches it is
    reduced to what is left); closes `settled` after the fourth quarter's settlement."""
    async with world(env, date(2020, 1, 1)) as w:
        await w.parameter("service_subsidy.cap_per_year", 12000, effective=date(2020, 1, 1), day=date(2020, 1, 1))
        await service(w, "A3", date(2020, 1, 6), "enterprise_service", enterprise="X1")
        await service(w, "A3", date(2020, 4, 6), "enterprise_service", enterprise="X1")
        await service(w, "A3", date(2020, 7, 6), "enterprise_service", enterprise="X1")
        await w.advance_to_day(date(2021, 4, 2))
        case = "service/A3/2020"
        assert rows(w, case) == [("2020-Q1", "payment", 10000, date(2020, 6, 30)), ("2020-Q2", "payment", 2000, date(2020, 9, 29))]
        assert (w.status(case), w.closed_on(case)) == ("settled", date(2021, 4, 1))


async def test_k18_a_service_reported_after_its_quarter_was_settled_is_a_correction(env: WorkflowEnvironment) -> None:
    """POLICY.md part 2: a fact dated in the past changes what an already paid period should have
    been → an `arrears` row for the difference, never an edit."""
    async with world(env, date(2020, 1, 1)) as w:
        await service(w, "A4", date(2020, 1, 6), "career_guidance", person="G1")
        await w.advance_to_day(date(2020, 7, 1))
        late = await service(w, "A4", date(2020, 3, 20), "enterprise_service", enterprise="X9", day=date(2020, 7, 2))
        case = "service/A4/2020"
        assert rows(w, case) == [("2020-Q1", "payment", 5000, date(2020, 6, 30)), ("2020-Q1", "arrears", 10000, date(2020, 7, 2))]
        assert late.event is not None
        assert [p.cause for p in w.payments(case) if p.entry == "arrears"] == [f"{late.event.source}#{late.event.id}"]


async def test_k18_a_job_within_confirm_days_arriving_after_the_quarter_was_settled_is_a_correction(env: WorkflowEnvironment) -> None:
    """`job_placement` counts for a person employed within `confirm_days` after the service; the
    job travels on its own topic (POLICY.md part 2 "late facts across topics"), so one dated in
    the window that arrives after the quarter was settled makes it owe `per_placement` more: an
    `arrears` row naming the job, while the case is open — and after the year closed, while it
    listens for corrections (`ledger.correction_days`)."""
    async with world(env, date(2020, 4, 1)) as w:
        await service(w, "A5", date(2020, 4, 10), "job_placement", person="S1")
        await service(w, "A5", date(2020, 4, 20), "career_guidance", person="G1")
        await service(w, "A5", date(2020, 11, 2), "job_placement", person="S2")
        await service(w, "A5", date(2020, 11, 3), "enterprise_service", enterprise="X1")
        await w.advance_to_day(date(2020, 11, 18))
        case = "service/A5/2020"
        assert rows(w, case) == [("2020-Q2", "payment", 5000, date(2020, 9, 29))]
        job = await w.send("employment.registered", {"person_id": "S1", "city": "2101", "on": "2020-05-21",
                                                     "kind": "employee", "employer_id": "E7"}, date(2020, 11, 19))
        await w.advance_to_day(date(2021, 4, 10))
        assert w.status(case) == "settled"  # after 2020-Q4's settlement on 2021-04-01
        contract = await w.send("contract.signed", {"person_id": "S2", "employer_id": "E7", "signed_on": "2020-12-01",
                                                    "starts_on": "2020-12-01", "term_months": 12}, date(2021, 4, 20))
        await w.advance_to_day(date(2021, 4, 22))
        assert rows(w, case) == [("2020-Q2", "payment", 5000, date(2020, 9, 29)),
                                 ("2020-Q2", "arrears", 30000, date(2020, 11, 19)),
                                 ("2020-Q4", "payment", 10000, date(2021, 4, 1)),
                                 ("2020-Q4", "arrears", 30000, date(2021, 4, 20))]
        assert job.event is not None and contract.event is not None
        assert [(p.period, p.corrects, p.cause) for p in w.payments(case) if p.entry == "arrears"] == [
            ("2020-Q2", "2020-Q2", f"{job.event.source}#{job.event.id}"),
            ("2020-Q4", "2020-Q4", f"{contract.event.source}#{contract.event.id}")]
        # Original + corrections = what the facts known now give: Q2 a guidance and a placement,
        # Q4 an enterprise service and a placement.
        net: dict[str, int] = {}
        for p in w.payments(case):
            net[p.period] = net.get(p.period, 0) + (p.amount if p.entry != "overpayment" else -p.amount)
        assert net == {"2020-Q2": 35000, "2020-Q4": 40000}


async def test_k18_scenario_matches_the_hand_derived_expectation() -> None:
    """tests/scenarios/k18_service_subsidy.jsonl through `simulate` (its "_how" derives every row)."""
    expected = json.loads((SCENARIOS / "k18_service_subsidy.expected.json").read_text(encoding="utf-8"))
    result = await app.simulate.simulate(SCENARIOS / "k18_service_subsidy.jsonl", date.fromisoformat(expected["until"]))
    assert [c for c in result["cases"] if c["kind"] == "employment_service_subsidy"] == expected["cases"]
    assert [p for p in result["payments"] if p["kind"] == "employment_service_subsidy"] == expected["payments"]
    assert [[c["case_id"], c["period"], c["entry"], c["cause"]] for c in result["corrections"]
            if c["case_id"].startswith("service/")] == expected["causes"]
    assert result["dead_letters"] == expected["dead_letters"]
