"""The commands a route handler returns (pure data)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from contracts.case_index import OpenCase
from contracts.events import CloudEvent, city_of_source


@dataclass(frozen=True)
class StartCase:
    kind: str
    case_id: str
    city: str | None
    keys: list[str]
    match: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignalCase:
    case_id: str


@dataclass(frozen=True)
class FanOut:
    """A shared fact: store it, then deliver it to every open case of `kinds` in scope."""

    kinds: tuple[str, ...]
    scope: str  # "province" or a city code


@dataclass(frozen=True)
class SetBudget:
    """`fund.budget_set` (POLICY.md part 2 §22): no case takes it; the intake stores the budget and
    judges the fund for a `fund_shortfall` (activities/forecast_desk.py)."""

    city: str
    fund: str
    year: int
    amount: int


@dataclass(frozen=True)
class Reject:
    """Bad input or an event no case can take: the dead letters, with the reason. `case_id`
    names the case that refuses it, when one does (a placement while the person is still
    placed in it, a second claim while it is open): the event is then also quarantined on that
    case, shown on its page, and a supervisor re-drives or dismisses it there (0017)."""

    reason: str
    case_id: str | None = None


@dataclass(frozen=True)
class Ignore:
    """Valid, but nothing in the system is about it (most contributions, for example)."""

    reason: str


Command = StartCase | SignalCase | FanOut | SetBudget | Reject | Ignore
# A handler decides from the event, the open cases of its keys and the pack. A kind whose
# module declares `ROUTE_FACTS = {event_type: {key kind: (fact types...)}}` also gets, as
# keyword `facts`, the stored facts of those types about the event's keys of that kind
# (`person/...`, `enterprise/...`); its handlers for those types take it. A module that
# declares `LATE_FACTS = (event types...)` gets, as keyword `listening`, the closed cases of the
# event's keys still taking late facts (POLICY.md part 2); every handler's `open_cases` holds
# open cases only, so a listening case is never taken for a running one. A module that declares
# `EMPLOYER_CASES = (event types...)` gets, as keyword `employer_cases`, the open and listening
# cases of its kind whose match field `employer_id` is an enterprise the event names (looked up
# apart: they are registered under a person's key). (kind_route.KindRoute
# is the typed form of those declarations; tests/unit/test_route_modules.py checks the
# handlers take the keywords their module's declarations promise.)
Handler = Callable[..., list[Command]]


def signal_open(open_cases: list[OpenCase], kind: str, **match: Any) -> list[Command]:
    """Signal every open case of `kind` whose match fields equal `match`."""
    return [
        SignalCase(c.case_id)
        for c in open_cases
        if c.kind == kind and all(c.match.get(k) == v for k, v in match.items())
    ]


def application_city(event: CloudEvent) -> str | None:
    """An application carries no city: take it from its details, else from the producing
    system's source (`es/2101`); the case itself reads the person's registration."""
    city = (event.data.get("details") or {}).get("city")
    if isinstance(city, str):
        return city
    return city_of_source(event.source)


def signal_listening(listening: list[OpenCase], kind: str, **match: Any) -> list[Command]:
    """Signal every closed case of `kind` still listening whose match fields equal `match`: the
    case judges whether the fact corrects or reopens it."""
    return signal_open(listening, kind, **match)
