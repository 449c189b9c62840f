"""Render test-artifacts/cluster.json (written by the cluster fault tier) as the Markdown table
of docs/RELIABILITY.md's cluster section — the fault suite's columns plus the hand-over:

    .venv/bin/python -m tests.cluster.table
"""

from __future__ import annotations

import json
import sys

from tests.cluster.conftest import FIGURES
from tests.faults.table import COLUMNS


def table(doc: dict[str, dict[str, object]]) -> str:
    titles = [title for _, title in COLUMNS] + ["Hand-over s"]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for name in sorted(doc):
        row = doc[name]
        notes = row.get("notes") or {}
        handover = notes.get("handover_seconds", "") if isinstance(notes, dict) else ""
        lines.append("| " + " | ".join([*(str(row.get(key, "")) for key, _ in COLUMNS), str(handover)]) + " |")
    return "\n".join(lines)


def main() -> int:
    if not FIGURES.exists():
        print(f"no figures yet: run the cluster tier first ({FIGURES})", file=sys.stderr)
        return 1
    doc = json.loads(FIGURES.read_text(encoding="utf-8"))
    print(table(doc))
    recorded = sorted(str(r.get("recorded_at", "")) for r in doc.values())
    print(f"\nRecorded {recorded[0]} … {recorded[-1]} (test-artifacts/cluster.json).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
