"""`route(event, open_cases, pack)`: which cases an event opens or reaches.

Pure: the caller looks up the open cases of the event's keys (`keys_of`) and carries out the
commands. Each case kind contributes its handlers (streams/routes/<kind>.py, read once through the typed
`KindRoute`); an event that several kinds care about (a contract, a contribution) gets the
commands of all of them.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Sequence
from types import ModuleType

import streams.routes
from contracts.case_index import OpenCase
from contracts.cases import Fact
from contracts.events import CloudEvent
from policy.pack import PolicyPack
from streams.routes.commands import Command, FanOut, Ignore, Reject, SetBudget, SignalCase, StartCase
from streams.routes.kind_route import KindRoute

__all__ = ["route", "route_fact_types", "employer_case_kinds", "employers_of",
           "keys_of", "FACT_TYPES", "CASE_ONLY_TYPES", "route_without_case",
           "Command", "FanOut", "Ignore", "Reject", "SetBudget", "SignalCase", "StartCase",
           "SHARED_FACT_KINDS", "BUDGET_TYPE"]



def route_modules() -> tuple[ModuleType, ...]:
    """Every module of streams/routes with a ROUTES table (adding a case kind adds a module)."""
    modules = []
    for info in sorted(pkgutil.iter_modules(streams.routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"streams.routes.{info.name}")
        if "ROUTES" in vars(module):
            modules.append(module)
    return tuple(modules)


KIND_ROUTES: tuple[KindRoute, ...] = tuple(KindRoute.of(m) for m in route_modules())

# Case kinds that hold shared facts (epidemic dates, parameter changes) while they run.
SHARED_FACT_KINDS: tuple[str, ...] = tuple(k.kind for k in KIND_ROUTES if k.holds_shared_facts)

SHARED_FACT_TYPES = ("policy.epidemic.declared", "policy.epidemic.lifted", "policy.parameter.changed")
BUDGET_TYPE = "fund.budget_set"


def _case_only(event_type: str, kinds: Sequence[KindRoute]) -> bool:
    taking = [k for k in kinds if event_type in k.routes]
    return bool(taking) and all(event_type in k.case_only and event_type not in k.route_facts
                                and event_type not in k.employer_cases for k in taking)


# Types that reach only cases registered under their keys (every kind taking them declares them
# `CASE_ONLY`, none routes them on stored facts or on an employer's cases): without an open or
# listening case of its keys such a record is ignored without offering it to each kind.
CASE_ONLY_TYPES: frozenset[str] = frozenset(
    t for t in {t for k in KIND_ROUTES for t in k.routes} if _case_only(t, KIND_ROUTES))

# Input types kept as facts about their subjects (read later by cases, e.g. K12's look-back).
FACT_TYPES: frozenset[str] = frozenset(t for k in KIND_ROUTES for t in k.fact_types)


def keys_of(event: CloudEvent) -> list[str]:
    """The relevance keys an event is looked up by: its subject and the ids in its data."""
    keys = [event.subject]

    def add(key: str) -> None:
        if key not in keys:
            keys.append(key)

    for name, prefix in (
        ("person_id", "person/"),
        ("enterprise_id", "enterprise/"),
        ("employer_id", "enterprise/"),
        ("household_id", "household/"),
        ("loan_id", "loan/"),
        ("enrolment_id", "enrolment/"),
    ):
        value = event.data.get(name)
        if isinstance(value, str):
            add(prefix + value)
    for member in event.data.get("members") or ():
        if isinstance(member, dict) and isinstance(member.get("person_id"), str):
            add("person/" + member["person_id"])
    return keys


def _shared_fact(event: CloudEvent, pack: PolicyPack) -> list[Command]:
    if event.type == "policy.parameter.changed":
        name = event.data["name"]
        if name not in pack.defaults:
            return [Reject(f"policy.parameter.changed: unknown parameter {name}")]
        return [FanOut(SHARED_FACT_KINDS, event.data.get("city") or "province")]
    kind, _, code = event.subject.partition("/")
    return [FanOut(SHARED_FACT_KINDS, code if kind == "city" else "province")]


@functools.cache
def route_fact_types(event_type: str) -> dict[str, tuple[str, ...]]:
    """The stored fact types that some kind's handler of `event_type` reads to decide, by the
    kind of key they are read under (`person`, `enterprise`, ...): e.g. whether a contract's
    employer makes epidemic supplies (under `enterprise/E`) and the person's registration
    (under `person/P`). Per key kind, because a big employer's key also holds every referral
    and employment of its staff, which no contract needs. Most types need none, so the intake
    reads facts only for the few that do. (Cached: the kinds are fixed at import; read-only.)"""
    wanted: dict[str, set[str]] = {}
    for k in KIND_ROUTES:
        for key_kind, types in k.route_facts.get(event_type, {}).items():
            wanted.setdefault(key_kind, set()).update(types)
    return {key_kind: tuple(sorted(types)) for key_kind, types in sorted(wanted.items())}


@functools.cache
def employer_case_kinds(event_type: str) -> tuple[str, ...]:
    """The kinds whose handler of `event_type` needs the cases whose employer the event names
    (`EMPLOYER_CASES`), looked up apart from the event's keys; none for almost every type.
    (Cached: the kinds are fixed at import; read-only.)"""
    return tuple(k.kind for k in KIND_ROUTES if event_type in k.employer_cases)


def employers_of(keys: Sequence[str]) -> list[str]:
    """The enterprise ids among an event's relevance keys (`keys_of`)."""
    return [k.removeprefix("enterprise/") for k in keys if k.startswith("enterprise/")]


def _commands(kind: KindRoute, event: CloudEvent, cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact],
              employer_cases: Sequence[OpenCase]) -> list[Command]:
    """A handler sees the open cases; the closed ones still listening for late facts only if its
    module lists the type in `LATE_FACTS` (keyword `listening`); the cases of the event's
    enterprises only if it lists it in `EMPLOYER_CASES` (keyword `employer_cases`, its kind's)."""
    handler = kind.routes[event.type]
    extra: dict[str, object] = {}
    if event.type in kind.route_facts:
        extra["facts"] = facts
    if event.type in kind.late_facts:
        extra["listening"] = [c for c in cases if c.listening]
    if event.type in kind.employer_cases:
        extra["employer_cases"] = [c for c in employer_cases if c.kind == kind.kind]
    return handler(event, [c for c in cases if not c.listening], pack, **extra)


def forget_kinds() -> None:
    """Drop what was derived from KIND_ROUTES (tests that swap the kinds call it)."""
    route_fact_types.cache_clear()
    employer_case_kinds.cache_clear()
    _kinds_taking.cache_clear()


@functools.cache
def _kinds_taking(event_type: str) -> tuple[KindRoute, ...]:
    return tuple(k for k in KIND_ROUTES if event_type in k.routes)


def route_without_case(event: CloudEvent, pack: PolicyPack) -> list[Command]:
    """What `route` returns for an event of a `CASE_ONLY_TYPES` type with no open or listening
    case among its keys: every kind ignores it, so the first kind's Ignore (the one `route`
    keeps) is the answer, for one handler call instead of one per kind."""
    for kind in _kinds_taking(event.type):
        commands = _commands(kind, event, [], pack, (), ())
        if commands:
            return commands[:1]
    return [Ignore(f"no case kind takes {event.type}")]


def route(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack, facts: Sequence[Fact] = (),
          employer_cases: Sequence[OpenCase] = ()) -> list[Command]:
    """The commands for one valid event, given the open (and listening) cases of its keys and,
    for the types in `route_fact_types`, the stored facts about its keys; for the types in
    `employer_case_kinds`, the open and listening cases of those kinds whose employer it names.

    A Reject from any kind wins (the event is bad input); Ignores count only when no kind had
    anything to do.
    """
    if event.type in SHARED_FACT_TYPES:
        return _shared_fact(event, pack)
    if event.type == BUDGET_TYPE:
        d = event.data
        return [SetBudget(city=d["city"], fund=d["fund"], year=int(d["year"]), amount=int(d["amount"]))]
    kinds = _kinds_taking(event.type)
    if not kinds:
        return [Ignore(f"no case kind takes {event.type}")]
    commands = [c for k in kinds for c in _commands(k, event, open_cases, pack, facts, employer_cases)]
    rejects: list[Command] = [c for c in commands if isinstance(c, Reject)]
    if rejects:
        return rejects[:1]
    acting: list[Command] = [c for c in commands if not isinstance(c, Ignore)]
    return acting or commands[:1]
