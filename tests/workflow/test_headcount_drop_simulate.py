"""`jiuye simulate` runs M2 headcount_drop (§23, §3) on the scenario's contributions, against the
expectation derived by hand (tests/scenarios/m2_headcount_drop.expected.json "_how")."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.simulate import simulate

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


async def test_simulate_m2_headcount_drop_alerts_once_and_not_for_a_filed_plan() -> None:
    """The alert names the enterprise, both months and their headcounts; once per enterprise and
    month (later and redelivered contributions of M+1 raise nothing); a drop under drop_min
    persons and a drop explained by a K8 plan filed within drop_plan_days raise none."""
    expected = json.loads((SCENARIOS / "m2_headcount_drop.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / "m2_headcount_drop.jsonl", date.fromisoformat(expected["until"]))
    assert result["alerts"] == expected["alerts"]
    assert result["cases"] == expected["cases"]
    assert (result["payments"], result["tasks"], result["dead_letters"]) == (
        expected["payments"], expected["tasks"], expected["dead_letters"])
