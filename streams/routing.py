"""`route(event, open_cases, pack)`: which cases an event opens or reaches. Pure: the caller
looks up the open cases of the event's keys and does what the commands say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from activities.store import OpenCase
from contracts.events import CloudEvent
from policy import internship as k1
from policy.pack import PolicyPack

INTERNSHIP = "internship_subsidy"

# Case kinds that hold shared facts (epidemic dates, parameter changes) while they run.
SHARED_FACT_KINDS: tuple[str, ...] = (INTERNSHIP,)


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
class Reject:
    """Bad input or an event no case can take: the dead letters, with the reason."""

    reason: str


@dataclass(frozen=True)
class Ignore:
    """Valid, but nothing in the system is about it (most contributions, for example)."""

    reason: str


Command = StartCase | SignalCase | FanOut | Reject | Ignore


def keys_of(event: CloudEvent) -> list[str]:
    """The relevance keys an event is looked up by: its subject and the ids in its data."""
    keys = [event.subject]
    for name, prefix in (("person_id", "person/"), ("enterprise_id", "enterprise/"), ("employer_id", "enterprise/")):
        value = event.data.get(name)
        if isinstance(value, str) and prefix + value not in keys:
            keys.append(prefix + value)
    return keys


def _scope_of(event: CloudEvent) -> str:
    kind, _, code = event.subject.partition("/")
    return code if kind == "city" else "province"


def _internship_opening(event: CloudEvent, pack: PolicyPack) -> list[Command]:
    d = event.data
    params = pack.parameters(d["city"])
    starts_on = date.fromisoformat(d["starts_on"])
    if not k1.agreed_months_valid(d["months"], params, starts_on):
        return [
            Reject(
                f"internship.agreement_signed: months {d['months']} outside "
                f"{params.get('internship.months_min', starts_on)}..{params.get('internship.months_max', starts_on)}"
            )
        ]
    return [
        StartCase(
            kind=INTERNSHIP,
            case_id=f"internship/{d['person_id']}/{d['unit_id']}/{d['starts_on']}",
            city=d["city"],
            keys=[f"person/{d['person_id']}"],
            match={"unit_id": d["unit_id"]},
        )
    ]


def _internship_follow_up(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    unit = event.data["unit_id"]
    targets = [c for c in open_cases if c.kind == INTERNSHIP and c.match.get("unit_id") == unit]
    if not targets:
        return [Reject(f"{event.type}: no open internship case for {event.subject} at unit {unit}")]
    return [SignalCase(c.case_id) for c in targets]


def _contract_signed(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    employer = event.data["employer_id"]
    targets = [c for c in open_cases if c.kind == INTERNSHIP and c.match.get("unit_id") == employer]
    return [SignalCase(c.case_id) for c in targets] or [Ignore("no open case concerns this contract")]


def _shared_fact(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    if event.type == "policy.parameter.changed":
        name = event.data["name"]
        if name not in pack.defaults:
            return [Reject(f"policy.parameter.changed: unknown parameter {name}")]
        return [FanOut(SHARED_FACT_KINDS, event.data.get("city") or "province")]
    return [FanOut(SHARED_FACT_KINDS, _scope_of(event))]


_HANDLERS: dict[str, Callable[[CloudEvent, list[OpenCase], PolicyPack], list[Command]]] = {
    "internship.agreement_signed": lambda e, _c, p: _internship_opening(e, p),
    "internship.interrupted": _internship_follow_up,
    "internship.resumed": _internship_follow_up,
    "internship.ended": _internship_follow_up,
    "contract.signed": _contract_signed,
    "policy.epidemic.declared": _shared_fact,
    "policy.epidemic.lifted": _shared_fact,
    "policy.parameter.changed": _shared_fact,
}


def route(event: CloudEvent, open_cases: list[OpenCase], pack: PolicyPack) -> list[Command]:
    """The commands for one valid event, given the open cases of its keys."""
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return [Ignore(f"no case kind takes {event.type} yet")]
    return handler(event, open_cases, pack)
