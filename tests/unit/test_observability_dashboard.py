"""The Grafana dashboard (deploy/grafana/jiuye-dashboard.json) asks only for metrics the code
serves: every `jiuye_*` series in its queries is one of observability/metrics.py's, and every
`temporal_*` series is one docs/OBSERVABILITY.md lists from the SDK."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

from contracts.settings import REPO_ROOT
from observability.metrics import ReadModelCollector

DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "jiuye-dashboard.json"
DOC = REPO_ROOT / "docs" / "OBSERVABILITY.md"
_SUFFIXES = ("_bucket", "_count", "_sum")


def exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def served() -> set[str]:
    """Every series name the processes serve (labelled or not yet observed too): the default
    registry's families and the workers' read-model collector's, with their types' suffixes."""
    names: set[str] = set()
    for family in [*REGISTRY.collect(), *ReadModelCollector(pool=None).collect()]:
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names.update(family.name + s for s in _SUFFIXES)
    return names


def test_the_dashboard_is_grafana_json_with_one_datasource_variable_and_panels_in_the_grid() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] == "jiuye"
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"], panel["title"]


def test_every_jiuye_series_it_queries_is_served() -> None:
    names = served()
    wanted = {m for e in exprs() for m in re.findall(r"\bjiuye_\w+", e)}
    assert wanted, "the dashboard queries no jiuye metric"
    for name in sorted(wanted):
        assert name in names, name


def test_every_temporal_series_it_queries_is_documented() -> None:
    doc = DOC.read_text()
    for name in sorted({m for e in exprs() for m in re.findall(r"\btemporal_\w+", e)}):
        base = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), name)
        assert f"`{base}" in doc or base.removesuffix("_total") in doc, name
