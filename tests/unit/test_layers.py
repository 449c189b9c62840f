"""The layers point one way (docs/ARCHITECTURE.md, "Layering"): contracts below policy, policy
below everything that does I/O, and the pure routing beside policy, not on the store. Read from
the source with `ast`, so an import inside a function or under TYPE_CHECKING counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (files, the top-level packages they must not import)
RULES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "contracts": (("contracts",), frozenset({"policy", "activities", "streams", "workflows", "console", "app"})),
    "policy": (("policy",), frozenset({"activities", "streams", "workflows", "console", "app"})),
    "routing": (("streams/routing.py", "streams/routes"), frozenset({"activities"})),
    # The case machinery and what every process exposes know nothing of who drives them.
    "machinery": (("workflows", "activities", "streams", "observability"), frozenset({"console", "app"})),
    # The supervisor console is a library the entry points serve; it never reaches up into them.
    "console": (("console",), frozenset({"app"})),
}


def sources(*places: str) -> list[Path]:
    found: list[Path] = []
    for place in places:
        path = ROOT / place
        found.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return found


def imported_modules(source: str, module: str) -> set[str]:
    """The absolute names of every module `source` (the module `module`) imports."""
    names: set[str] = set()
    package = module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: up from this module's package, one level per dot past the first
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                names.add(".".join([*parts, *([node.module] if node.module else [])]))
            else:
                assert node.module is not None
                names.add(node.module)
    return names


def violations(places: tuple[str, ...], forbidden: frozenset[str]) -> list[str]:
    found = []
    for path in sources(*places):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for name in sorted(imported_modules(path.read_text(encoding="utf-8"), module)):
            if name.partition(".")[0] in forbidden:
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    places, forbidden = RULES[layer]
    assert sources(*places), f"no sources for {layer}: the rule would check nothing"
    assert violations(places, forbidden) == []


def test_the_reader_sees_every_kind_of_import() -> None:
    """The check would catch each form an upward import can take."""
    source = (
        "import activities.store\n"
        "from streams import routing\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from workflows.registry import KINDS\n"
        "def later():\n    from app import cli\n"
        "from ..activities import pg_store\n"
    )
    assert imported_modules(source, "policy.probe") >= {"activities.store", "streams", "workflows.registry", "app", "activities"}
    assert imported_modules("from . import calendar\n", "policy.probe") == {"policy"}
