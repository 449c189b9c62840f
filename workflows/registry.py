"""Every case kind's workflow class, for workers and the replayer: each module of this package
that defines a `@workflow.defn` class with a `kind` contributes it (sorted by module name, so
adding a case kind is adding a module)."""

from __future__ import annotations

import importlib
import pkgutil

import workflows

_SKIP = {"case_base", "registry"}


def _discover() -> list[type]:
    found: list[type] = []
    for info in sorted(pkgutil.iter_modules(workflows.__path__), key=lambda m: m.name):
        if info.name in _SKIP or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"workflows.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == module.__name__
                and hasattr(value, "__temporal_workflow_definition")
            ):
                found.append(value)
    return found


WORKFLOWS: list[type] = _discover()
KINDS: dict[str, type] = {cls.kind: cls for cls in WORKFLOWS}
