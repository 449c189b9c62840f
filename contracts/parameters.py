"""A city's policy parameters as they cross the Temporal boundary (`CaseContext.parameters`):
each a list of dated values, asked for the value in force on a date. The values come from a
policy pack (policy/pack.py builds the snapshot); this is the shape both sides share, so it lives in
contracts, below policy, and the case payloads (contracts/cases.py) need not import policy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict

from contracts.events import as_date


class UnknownParameter(KeyError):
    pass


def in_scope(name: str, scope: Iterable[str]) -> bool:
    """Whether a parameter belongs to a scope (a kind's, `CaseWorkflow.context_scope`): an entry
    ending in "." is a prefix, every parameter of that measure, also one added to the pack later
    (`"hubei_grant."`); any other entry names one parameter (`"ui.monthly_benefit"`)."""
    return any(name.startswith(entry) if entry.endswith(".") else name == entry for entry in scope)


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
    # The parameters this snapshot was cut to (`within`); None: every parameter of the pack, as
    # every context held before kinds asked for theirs (contexts in older histories carry none).
    scope: tuple[str, ...] | None = None

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

    def within(self, scope: Iterable[str]) -> "Parameters":
        """A copy holding only the parameters of `scope` (`in_scope`): a kind's context, which
        raises UnknownParameter for a read outside it."""
        kept = tuple(scope)
        return self.model_copy(update={"values": {n: c for n, c in self.values.items() if in_scope(n, kept)}, "scope": kept})

    def covers(self, name: str) -> bool:
        """Whether `name` is one this snapshot speaks for: any name for a whole pack, else a name
        of its scope. A change of a parameter it does not cover is none of its business."""
        return self.scope is None or in_scope(name, self.scope)

    def with_change(self, name: str, value: Any, effective_on: date) -> "Parameters":
        """A copy with one more dated value; a change on the same date replaces the earlier one."""
        if name not in self.values:
            raise UnknownParameter(name)
        kept = [c for c in self.values[name] if c.effective_on != effective_on]
        kept.append(Change(effective_on=effective_on, value=value))
        kept.sort(key=lambda c: (c.effective_on is not None, c.effective_on or date.min))
        return self.model_copy(update={"values": {**self.values, name: kept}})
