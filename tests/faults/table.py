"""Render test-artifacts/faults.json (written by the fault tests) as the Markdown table of
docs/RELIABILITY.md:

    .venv/bin/python -m tests.faults.table
"""

from __future__ import annotations

import json
import sys

from tests.faults._invariants import FIGURES

COLUMNS = [
    ("fault", "Fault"),
    ("records_sent", "Records sent"),
    ("events", "Events"),
    ("applied", "Applied"),
    ("dead_lettered", "Dead-lettered"),
    ("duplicates_absorbed", "Duplicates absorbed"),
    ("payments", "Payments"),
    ("lost", "Lost"),
    ("double", "Double"),
    ("settled_twice", "Settled twice"),
    ("not_one_final_state", "Not one final state"),
    ("money_off", "Money off (fen)"),
    ("seconds", "Seconds"),
]


def table(doc: dict[str, dict[str, object]]) -> str:
    """The Markdown table, one row per fault in fault-number order."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for name in sorted(doc, key=lambda n: int(n.split()[0]) if n.split()[0].isdigit() else 99):
        row = doc[name]
        lines.append("| " + " | ".join(str(row.get(key, "")) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main() -> int:
    if not FIGURES.exists():
        print(f"no figures yet: run the fault suite first ({FIGURES})", file=sys.stderr)
        return 1
    doc = json.loads(FIGURES.read_text(encoding="utf-8"))
    print(table(doc))
    recorded = sorted(str(r.get("recorded_at", "")) for r in doc.values())
    print(f"\nRecorded {recorded[0]} … {recorded[-1]} (test-artifacts/faults.json).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
