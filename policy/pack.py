"""The policy pack: every parameter of POLICY.md, with city overrides and dated changes.

A case holds a `Parameters` snapshot for its city (plain data, safe to pass through Temporal)
and asks it for the value in force on a date. Nothing here reads a clock or does I/O except
`load_pack`, which reads the shipped TOML file and is called outside workflows.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from policy.calendar import as_date


class UnknownParameter(KeyError):
    pass


class Change(BaseModel):
    """A value in force from `effective_on` (None = from the beginning)."""

    model_config = ConfigDict(frozen=True)

    effective_on: date | None
    value: Any


class Parameters(BaseModel):
    """The parameters of one city, each a list of dated values in effective order."""

    model_config = ConfigDict(frozen=True)

    pack: str
    city: str | None
    values: dict[str, list[Change]]

    def get(self, name: str, on: date | None = None) -> Any:
        """The value of `name` in force on `on` (the latest change on or before it)."""
        try:
            changes = self.values[name]
        except KeyError:
            raise UnknownParameter(name) from None
        chosen = changes[0].value
        for change in changes:
            if change.effective_on is None or on is None or change.effective_on <= on:
                chosen = change.value
            else:
                break
        return chosen

    def integer(self, name: str, on: date | None = None) -> int:
        """A whole-number parameter (an amount in fen, a number of months or people)."""
        value = self.get(name, on)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"parameter {name} is {value!r}, not a whole number")
        return value

    def ratio(self, name: str, on: date | None = None) -> Fraction:
        numerator, denominator = self.get(name, on)
        return Fraction(int(numerator), int(denominator))

    def day(self, name: str, on: date | None = None) -> date:
        return as_date(self.get(name, on))

    def with_change(self, name: str, value: Any, effective_on: date) -> "Parameters":
        """A copy with one more dated value; a change on the same date replaces the earlier one."""
        if name not in self.values:
            raise UnknownParameter(name)
        kept = [c for c in self.values[name] if c.effective_on != effective_on]
        kept.append(Change(effective_on=effective_on, value=value))
        kept.sort(key=lambda c: (c.effective_on is not None, c.effective_on or date.min))
        return self.model_copy(update={"values": {**self.values, name: kept}})


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
