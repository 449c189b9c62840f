"""`app.simulate.simulate` on tests/scenarios/k1_internships.jsonl against an expectation
derived by hand from POLICY.md K1 (tests/scenarios/k1_internships.expected.json; its "_how"
says, case by case, how each payment date and status follows from the rules)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.simulate import simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def test_simulate_k1_internships_matches_the_hand_derived_expectation() -> None:
    """POLICY.md K1 end to end through intake, routing and the workflows: monthly payments on
    completion dates, an epidemic pause that moves them and the end, a hire with < 1/3 left
    (all months at once), a hire with more left, an early end, a rejected cohort, bad input
    (P outside 3..12, not JSON) to the dead letters, and a redelivered record absorbed."""
    expected = json.loads((SCENARIOS / "k1_internships.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k1_internships.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])


def _alert_heads(alerts: list[dict]) -> list[dict]:
    """An alert as the expectations list it: id, kind, city, date, and for a surge the persons
    and trailing mean it was judged on."""
    heads = []
    for a in alerts:
        head = {k: a[k] for k in ("alert_id", "kind", "city", "on")}
        if a["kind"] == "weekly_surge":
            head.update(persons=a["details"]["persons"], trailing_mean=a["details"]["trailing_mean"])
        heads.append(head)
    return heads


async def test_simulate_k8_layoff_matches_the_hand_derived_expectation() -> None:
    """POLICY.md K8 through intake, routing and the workflow: mass alerts (persons, ratio), an
    in-time and a premature execution, the overdue task, settlement before/after execution, an
    execution with no plan on file (dead letter), a closure alert, a redelivered plan absorbed
    (tests/scenarios/k8_layoff.expected.json "_how")."""
    expected = json.loads((SCENARIOS / "k8_layoff.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k8_layoff.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert result["tasks"] == expected["tasks"]
    assert _alert_heads(result["alerts"]) == expected["alerts"]


async def test_simulate_monitoring_alerts_match_the_hand_derived_expectation() -> None:
    """Monitoring's trailing-8-week rule on closures: a surge, the +100 boundary met only by a late
    event counted in its own week, no judgement without 8 weeks of history, and a mass alert per
    closure (tests/scenarios/monitoring_alert.expected.json "_how")."""
    expected = json.loads((SCENARIOS / "monitoring_alert.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "monitoring_alert.jsonl", date.fromisoformat(expected["until"]))
    assert (result["cases"], result["payments"], result["tasks"], result["dead_letters"]) == ([], [], [], [])
    assert _alert_heads(result["alerts"]) == expected["alerts"]


async def test_simulate_k2_corrections_matches_the_hand_derived_expectation() -> None:
    """POLICY.md part 2 for K2 end to end: a backdated benefit change pays arrears for the months
    since, a backdated re-employment overpays the months after it and, with nothing more to pay,
    raises an overpayment_recovery task (tests/scenarios/k2_corrections.expected.json
    "_derivation")."""
    expected = json.loads((SCENARIOS / "k2_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k2_corrections.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])


async def test_simulate_k2_price_linkage_in_what_is_owed_matches_the_hand_derived_expectation() -> None:
    """K2's price linkage in what the case owes (k2-price-linkage-owed): learnt for a paid month it
    is the period's first payment, due when triggered; a backdated re-employment overpays the
    linkage of the months it removes with its cause; deductions name the overpayment's event
    (tests/scenarios/k2_linkage_corrections.expected.json "_derivation")."""
    expected = json.loads((SCENARIOS / "k2_linkage_corrections.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "k2_linkage_corrections.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["corrections"] == expected["corrections"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])


async def test_simulate_late_facts_reopen_and_correct_closed_cases_as_derived_by_hand() -> None:
    """POLICY.md part 2 after a case closed: a K4 application and a K5 placement rejected for want
    of a registration reopen when it arrives within intake.late_fact_days and pay from their
    original dates, one arriving after it leaves the case rejected, and a backdated
    re-employment within ledger.correction_days of a K2 case's close overpays it and raises the
    recovery task (tests/scenarios/late_fact_reopen.expected.json "_derivation")."""
    expected = json.loads((SCENARIOS / "late_fact_reopen.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "late_fact_reopen.jsonl", date.fromisoformat(expected["until"]))
    assert result["cases"] == expected["cases"]
    assert result["payments"] == expected["payments"]
    assert result["dead_letters"] == expected["dead_letters"]
    assert (result["tasks"], result["alerts"]) == (expected["tasks"], expected["alerts"])


async def test_simulate_output_is_the_same_with_and_without_the_sandbox() -> None:
    """simulate runs its workflows unsandboxed for speed (app.simulate.simulation_worker_options):
    the whole result object must be what the sandboxed worker of `jiuye worker` produces, on
    scenarios with limits shared across cases (K16's yearly provincial slots, K13's loans per
    borrower) and with corrections (K2); so must the sandbox with the workflow modules shared by
    every run (JIUYE_WORKER_SHARE_WORKFLOW_MODULES, app.worker.workflow_runner)."""
    for name in ("k16_incubators", "k13_startup_loans", "k2_corrections"):
        until = date.fromisoformat(json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))["until"])
        sandboxed = await simulate(SCENARIOS / f"{name}.jsonl", until, sandboxed=True)
        unsandboxed = await simulate(SCENARIOS / f"{name}.jsonl", until)
        shared = await simulate(SCENARIOS / f"{name}.jsonl", until, sandboxed=True, share_workflow_modules=True)
        assert sandboxed["cases"], name
        assert unsandboxed == sandboxed, name
        assert shared == sandboxed, name


async def test_simulate_pays_nothing_due_after_until_however_long_the_drain(monkeypatch: pytest.MonkeyPatch) -> None:
    """EVENTS.md: simulate "runs the clock to --until". Between skips the time-skipping server's
    clock runs with the wall clock, so a final drain that took seconds from 23:59:59 let the next
    day's timers fire (a K2 payment due the day after --until, in one bench run of four). Here
    the drain is held 3 s of wall time before it starts, and --until is the day before a K1
    payment date: the result holds exactly the payments of the full run due by --until."""
    import asyncio

    from temporalio.testing import WorkflowEnvironment

    import app.simulate as sim
    from activities.memory_store import MemoryStore

    expected = json.loads((SCENARIOS / "k1_internships.expected.json").read_text(encoding="utf-8"))
    until = date(2020, 4, 30)
    assert any(p["due_on"] == "2020-05-01" for p in expected["payments"])  # a payment falls due the next day
    drain = sim.drain_activities

    async def slow_drain(env: WorkflowEnvironment, store: MemoryStore) -> None:
        await asyncio.sleep(3)
        await drain(env, store)

    monkeypatch.setattr(sim, "drain_activities", slow_drain)
    result = await simulate(SCENARIOS / "k1_internships.jsonl", until)
    assert result["payments"] == [p for p in expected["payments"] if p["due_on"] <= until.isoformat()]
