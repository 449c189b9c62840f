"""The order-independence property of issue 13, for any case kind: the same events delivered in
business-time order, and delivered permuted or late, end with the same net owed per (case,
program, period) (POLICY.md part 2, "What a case owes, and corrections").

A kind takes part with one generator: a hypothesis strategy of `Sequence`s (its opening events,
the events to shuffle, at most one closing event, and the day to compare on), registered in
`SEQUENCES`. Delivering, shuffling and comparing are the same for every kind.

An event keeps the business time it carries (its `time`: when it happened or was announced)
whatever moment it is delivered at — a late delivery is an old event arriving, as from a lagging
topic — and the business clock only moves forward.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import count
from typing import Any

from hypothesis import strategies as st

from policy.corrections import WORTH_SIGN
from tests.workflow.harness import World, at

# What builds one event's CloudEvent for a world's person: (type, data, subject).
Build = Callable[[str], tuple[str, dict[str, Any], str]]
# (case, program, period) → payment + arrears - overpayment, in fen.
Net = dict[tuple[str, str, str], int]

_ids = count(1)


@dataclass(frozen=True)
class Event:
    """One input event: a label for failure reports, the business day it carries, its content.
    `more`: CloudEvents that travel with it, delivered right after it on the same day (one fact
    reported as two events, such as an interruption reported with its resumption).
    `by`: the last day it may be delivered on, and `after`: the label of an event it is
    delivered after, where another delivery makes order matter (the generator's docstring says
    why); None: any day, any order."""

    label: str
    on: date
    build: Build
    more: tuple[Build, ...] = ()
    by: date | None = None
    after: str | None = None

    def __repr__(self) -> str:
        return f"{self.label}@{self.on}"


@dataclass(frozen=True)
class Sequence:
    """One kind's random events for one person.

    opening: delivered first, in order, at their days, in every world (what opens the case).
    events: the events to shuffle, in business-time order.
    closing: an event after which the case closes (delivered last in every world; dated on or
    after every event) or None.
    until: the day net owed is compared on (after every delivery and its settling)."""

    first_day: date
    opening: tuple[Event, ...]
    events: tuple[Event, ...]
    closing: Event | None
    until: date


@dataclass(frozen=True)
class Delivery:
    """How the shuffled events arrive: `order` (a permutation of their indexes) and `late` (days
    each one is held back beyond its own day). The business clock never goes back, so an event
    behind one delivered later in business time is delivered late too."""

    order: tuple[int, ...]
    late: tuple[int, ...]
    closing_late: int = 0


def in_order(sequence: Sequence) -> Delivery:
    """Every event at its own day, in business-time order."""
    return Delivery(tuple(range(len(sequence.events))), (0,) * len(sequence.events))


def deliveries(sequence: Sequence, late_days: st.SearchStrategy[int]) -> st.SearchStrategy[Delivery]:
    """Permutations of the sequence's events with some held back by `late_days`, each event
    delivered by its `by` day and after its `after` event."""
    n = len(sequence.events)
    drawn = st.builds(Delivery, st.permutations(range(n)).map(tuple), st.tuples(*[late_days] * n), late_days)
    return drawn.filter(lambda delivery: _allowed(schedule(sequence, delivery)))


def _allowed(delivered: list[tuple[date, Event]]) -> bool:
    """Every event delivered by its `by` day and after the event its `after` names."""
    seen: set[str] = set()
    for day, event in delivered:
        if (event.by is not None and day > event.by) or (event.after is not None and event.after not in seen):
            return False
        seen.add(event.label)
    return True


def schedule(sequence: Sequence, delivery: Delivery) -> list[tuple[date, Event]]:
    """(delivery day, event) in delivery order: the opening events first, then the shuffled
    ones, then the closing event; never before an event's own day nor an earlier delivery."""
    out = [(e.on, e) for e in sequence.opening]
    day = max((e.on for e in sequence.opening), default=sequence.first_day)
    for i in delivery.order:
        event = sequence.events[i]
        day = max(day, event.on + timedelta(days=delivery.late[i]))
        out.append((day, event))
    if sequence.closing is not None:
        day = max(day, sequence.closing.on + timedelta(days=delivery.closing_late))
        out.append((day, sequence.closing))
    return out


async def deliver(w: World, person: str, event: Event, day: date) -> None:
    """Deliver `event` on `day` through the intake; it carries its own business time."""
    for build in (event.build, *event.more):
        type_, data, subject = build(person)
        await w.send(type_, data, at(event.on, 9), subject=subject, source="test/2101", deliver_on=at(day, 10))


async def run(w: World, person: str, sequence: Sequence, delivery: Delivery) -> Net:
    """Deliver everything as `delivery` says, let the cases run until `sequence.until`, and
    return the net owed per (case, program, period), the person's id written as `{person}`."""
    for day, event in schedule(sequence, delivery):
        await deliver(w, person, event, day)
    await w.advance_to_day(sequence.until)
    return net_owed(w, person)


def net_owed(w: World, person: str) -> Net:
    """Net owed of every (case, program, period) worth something: a period paid and then
    overpaid in full is worth 0, as one never paid."""
    total: Net = defaultdict(int)
    for p in w.store.ledger.values():
        total[(p.case_id.replace(person, "{person}"), p.program, p.period)] += WORTH_SIGN[p.entry] * p.amount
    return {key: amount for key, amount in total.items() if amount != 0}


def person_id(kind: str) -> str:
    """A person no earlier world used (workflow ids are business keys on the shared server)."""
    return f"OI{kind[:3].upper()}{next(_ids)}"


def days(first: date, last: date) -> st.SearchStrategy[date]:
    """A day in [first, last]."""
    return st.integers(0, max(0, (last - first).days)).map(lambda n: first + timedelta(days=n))


# -- the kinds' generators ------------------------------------------------------------------------
# kind → the strategy of its sequences. Adding a kind: one generator here (or in a module beside
# this one, registered the same way). Every id an event names is made from the world's person id
# (`{person}U`: the unit, `{person}A`: the agency...), so no two worlds share a workflow id.
SEQUENCES: dict[str, st.SearchStrategy[Sequence]] = {}

__all__ = ["Delivery", "Event", "Net", "SEQUENCES", "Sequence", "days", "deliveries", "in_order", "person_id",
           "run", "schedule"]
