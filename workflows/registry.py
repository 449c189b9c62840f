"""Every case kind's workflow class, for workers and the replayer: each module of this package
that defines a `@workflow.defn` class with a `kind` contributes it (sorted by module name, so
adding a case kind is adding a module)."""

from __future__ import annotations

import importlib
import pkgutil

import workflows
from workflows.case_base import CaseWorkflow

_SKIP = {"case_base", "registry"}


def _discover() -> list[type[CaseWorkflow]]:
    found: list[type[CaseWorkflow]] = []
    for info in sorted(pkgutil.iter_modules(workflows.__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"workflows.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, CaseWorkflow)
                and value.__module__ == module.__name__
                and hasattr(value, "__temporal_workflow_definition")
            ):
                found.append(value)
    return found


WORKFLOWS: list[type[CaseWorkflow]] = _discover()
KINDS: dict[str, type[CaseWorkflow]] = {cls.kind: cls for cls in WORKFLOWS}
