"""The policy pack: every parameter of POLICY.md, with city overrides and dated changes.

A case holds a `Parameters` snapshot for its city (contracts/parameters.py: plain data, safe to
pass through Temporal) and asks it for the value in force on a date. Nothing here reads a clock
or does I/O except `load_pack`, which reads the shipped TOML file and is called outside workflows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from typing import Any

from contracts.parameters import Change, Parameters, UnknownParameter


@dataclass(frozen=True)
class PolicyPack:
    name: str
    defaults: dict[str, Any]
    cities: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parameters(self, city: str | None) -> Parameters:
        """The snapshot a case of `city` starts with (defaults, then the city's overrides)."""
        merged = dict(self.defaults)
        merged.update(self.cities.get(city or "", {}))
        return Parameters(
            pack=self.name,
            city=city,
            values={name: [Change(effective_on=None, value=value)] for name, value in merged.items()},
        )

    def value(self, name: str, city: str | None = None, on: date | None = None) -> Any:
        return self.parameters(city).get(name, on)


def load_pack(name: str = "liaoning-2020") -> PolicyPack:
    """Read a shipped policy pack (policy/packs/<name>.toml)."""
    text = resources.files("policy").joinpath("packs", f"{name}.toml").read_text(encoding="utf-8")
    doc = tomllib.loads(text)
    cities = {str(code): dict(values) for code, values in doc.get("cities", {}).items()}
    unknown = {n for overrides in cities.values() for n in overrides} - set(doc["defaults"])
    if unknown:
        raise UnknownParameter(f"city overrides name unknown parameters: {sorted(unknown)}")
    return PolicyPack(name=doc["pack"]["name"], defaults=dict(doc["defaults"]), cities=cities)
