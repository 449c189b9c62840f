"""Check that every key our Helm values set exists in a chart's own values.yaml.

    python deploy/helm/check_values.py CHART_VALUES.yaml [deploy/helm/temporal-values.yaml]

The chart is not vendored here: read its values.yaml from the chart version the values name
(for example `helm show values temporal/temporal --version 1.6.0 > /tmp/chart-values.yaml`).
Below a key the chart leaves empty ({}, [], null: resources, datastores, additionalEnv…) the
chart passes our mapping through, so nothing below it is checked; a key of a mapping the chart
does define must be one of its keys (a misspelt key is otherwise silently ignored by Helm).
Exits 1 and lists the unknown keys.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

OURS = Path(__file__).with_name("temporal-values.yaml")


def unknown_keys(ours: Any, chart: Any, path: str = "") -> list[str]:
    if not isinstance(ours, dict) or not isinstance(chart, dict) or not chart:
        return []
    found: list[str] = []
    for key, value in ours.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in chart:
            found.append(where)
        else:
            found += unknown_keys(value, chart[key], where)
    return found


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    chart = yaml.safe_load(Path(argv[0]).read_text(encoding="utf-8"))
    ours = yaml.safe_load(Path(argv[1] if len(argv) > 1 else OURS).read_text(encoding="utf-8"))
    missing = unknown_keys(ours, chart)
    for where in missing:
        print(f"not a key of the chart's values: {where}")
    if not missing:
        print("every key is one of the chart's")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
