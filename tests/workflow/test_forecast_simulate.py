"""POLICY.md part 2 §22: the forecast is what the cases then pay when no new fact arrives. A
scenario is simulated up to a cut-off day; the open cases' schedules as the read model holds them
then are the forecast. The same scenario's events up to that day are simulated again to the end
of the year, with nothing after the cut-off: every ledger row the second run writes that the first
did not, for a case that existed at the cut-off, is exactly one scheduled line (case, program,
period, fund, amount), and nothing scheduled is left unpaid. A case opened later by another one
(K2 exhausted opens K3) is outside the forecast by the rule's own words: it sums open cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from activities.memory_store import MemoryStore
from app.simulate import read_scenario, simulate
from policy.calendar import business_date

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
YEAR_END = date(2020, 12, 31)

Line = tuple[str, str, str, str, int]  # case, program, period, fund, amount


def events_until(path: Path, cut: date, out: Path) -> Path:
    """The scenario's lines whose business date is on or before `cut` (no new fact after it)."""
    kept = [raw for _, event, raw in read_scenario(path).events if business_date(event.time) <= cut]
    out.write_bytes(b"".join(r if r.endswith(b"\n") else r + b"\n" for r in kept))
    return out


def ledger_lines(store: MemoryStore) -> dict[tuple[str, str, str], list[tuple[str, str, int]]]:
    rows: dict[tuple[str, str, str], list[tuple[str, str, int]]] = {}
    for p in store.ledger.values():
        rows.setdefault((p.case_id, p.program, p.period), []).append((p.entry, p.fund, p.amount))
    return rows


@pytest.mark.parametrize(("scenario", "cut"), [
    ("k1_internships", date(2020, 5, 20)),  # internships, some paused by the epidemic
    ("k2_exhaustion", date(2020, 4, 10)),  # unemployment benefit running to exhaustion
    # Public-welfare posts: a regular post's once-only 12-month extension of a period ending in 2020
    # (§17), granted by the case's own `settle` at the period's end, is in the schedule (`owed_ahead`).
    ("k5_welfare_posts", date(2020, 3, 15)),
    ("k17_living_allowance", date(2020, 4, 15)),  # temporary living allowance by month
])
async def test_forecast_equals_what_simulate_then_pays_when_no_new_fact_arrives(scenario: str, cut: date, tmp_path: Path) -> None:
    path = SCENARIOS / f"{scenario}.jsonl"
    before = MemoryStore()
    await simulate(path, cut, store=before)
    forecast: set[Line] = {(r.case_id, s.program, s.period, s.fund, s.amount)
                           for r in before.schedules.values() for s in r.lines if s.due_on <= YEAR_END}
    after = MemoryStore()
    await simulate(events_until(path, cut, tmp_path / "until_cut.jsonl"), YEAR_END, store=after)
    known = ledger_lines(before)
    paid: set[Line] = set()
    for key, rows in ledger_lines(after).items():
        if key[0] not in before.cases:
            continue
        new = [r for r in rows if r not in known.get(key, [])]
        for entry, fund, amount in new:
            assert entry in ("payment", "arrears"), (key, entry)
            paid.add((*key, fund, amount))
    assert forecast, f"{scenario}: nothing scheduled after {cut}: the test would prove nothing"
    assert paid == forecast
