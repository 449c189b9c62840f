"""`console.simulate.simulate` on tests/scenarios/k1_internships.jsonl against an expectation
derived by hand from POLICY.md K1 (tests/scenarios/k1_internships.expected.json; its "_how"
says, case by case, how each payment date and status follows from the rules)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from console.simulate import simulate

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
