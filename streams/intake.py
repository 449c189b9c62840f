"""The path of the records of a batch, independent of Kafka and faust so the stream processor and
the simulator share it: parse → dead letters, or facts → relevance → inbox → route → Temporal →
inbox applied.

Nothing is acknowledged before it is durable: the caller commits a batch's offsets only after
`handle_batch` returned; any exception means "not done, deliver the batch again" (every step is
idempotent, so what a failed attempt did is harmless the second time).

Why batches, and what stays per record (docs/BENCHMARKS.md has the figures):
- Almost every record touches no case (a month of contributions is millions of records, a few
  of them about someone with an open case). Those cost one statement per batch, not per
  record: their facts are stored, the relevance index (`case_keys`, exact because intake
  registers a case's keys before Temporal hears of it and the case closes them; a closed case
  still listening for late facts keeps them, flagged, until its window ends) is read once
  for every key of the batch, and the inbox rows are written already done (`record_ignored`)
  — except for contributions, whose only effect is an idempotent upsert of their fact at its
  grain (activities/contribution_facts.py): they get no inbox row. Temporal never hears of them.
- The rest are claimed in the inbox in one statement, then applied one at a time per group of
  records that share a key (so a subject's events stay in order, and a case a record opens is
  seen by the next record of its subject), groups concurrently, with at most
  `max_in_flight` Temporal calls open (the gateway's bound).
- A shared fact (policy.events) reaches every open case of some kinds: it is a barrier, applied
  alone after everything before it in the batch and before everything after it.
- The few types some kind routes to the cases whose employer they name (`employer_case_kinds`:
  a fee exemption reaching hires keyed by their persons) cost one more look-up per segment that
  holds any; a segment without them (the firehose) makes none.
- A record of a type that reaches only cases already registered under its keys
  (`CASE_ONLY_TYPES`: contributions) and whose keys the look-up found no case for is ignored
  with one handler call, not one per kind that takes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from activities.contribution_facts import AGGREGATED_TYPES
from activities.forecast_desk import check_shortfall
from activities.store import BudgetRow, Origin, SharedFact, Store
from contracts.case_index import OpenCase
from contracts.cases import CaseEvent, Fact
from contracts.cloudevents_binding import decode_kafka
from contracts.events import CloudEvent, InvalidEvent
from contracts.topics import DISBURSEMENT_TYPES
from observability import metrics, tracing
from policy.calendar import business_date
from policy.pack import PolicyPack
from streams.gateway import CaseGateway
from streams.routing import (
    CASE_ONLY_TYPES,
    FACT_TYPES,
    SHARED_FACT_TYPES,
    Command,
    FanOut,
    Ignore,
    Reject,
    SetBudget,
    SignalCase,
    StartCase,
    employer_case_kinds,
    employers_of,
    keys_of,
    route,
    route_fact_types,
    route_without_case,
)

log = logging.getLogger(__name__)

# Why an event that reached a case whose workflow had ended is quarantined on it.
LATE_REASON = "the case closed before the event arrived"


class DeadLetterSink(Protocol):
    async def send(self, raw: bytes, reason: str, origin: Origin) -> None: ...


class Disbursement(Protocol):
    """Where payee accounts and treasury results go (activities.disbursement_desk.DisbursementDesk)."""

    async def handle(self, event: CloudEvent) -> str: ...


@dataclass(frozen=True)
class Outcome:
    status: str  # applied, duplicate, ignored, late, dead_letter
    detail: str = ""
    # The parsed event (None for a dead letter), for what follows the intake (monitoring).
    event: CloudEvent | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Claimed:
    """A record claimed in the inbox, to be applied."""

    index: int  # in the batch
    event: CloudEvent
    raw: bytes
    origin: Origin
    keys: list[str]
    # Its keys and those of the cases it opens: records sharing one are applied in order.
    links: frozenset[str]
    # The cases whose employer it names, for the types routed so (as read for the segment).
    employer_cases: tuple[OpenCase, ...] = ()


@dataclass(frozen=True)
class Applied:
    """What applying a claimed record came to; `state` is the inbox state it is finished with."""

    outcome: Outcome
    state: str
    note: str  # the inbox's outcome column


# Open cases by relevance key, as read for a batch and extended by the cases the batch opens.
OpenView = dict[str, list[OpenCase]]


class Intake:
    def __init__(self, store: Store, gateway: CaseGateway, dead_letters: DeadLetterSink, pack: PolicyPack,
                 disbursement: Disbursement | None = None):
        self.store = store
        self.gateway = gateway
        self.dead_letters = dead_letters
        self.pack = pack
        # Without a desk (jiuye simulate so far) payee accounts and results are ignored.
        self.disbursement = disbursement

    async def handle(self, raw: bytes, origin: Origin) -> Outcome:
        """One record (the simulator and tests): a batch of one."""
        return (await self.handle_batch([(raw, origin)]))[0]

    async def handle_batch(self, records: Sequence[tuple[bytes, Origin]]) -> list[Outcome]:
        """Outcomes in the order of `records` (records of one partition come in offset order)."""
        started = time.perf_counter()
        outcomes = await self._handle_batch(records)
        # Counted once the batch is done: a failed attempt is delivered again and counted then.
        metrics.observe_batch(
            ((origin.topic, o.status, o.event is not None) for (_, origin), o in zip(records, outcomes, strict=True)),
            time.perf_counter() - started,
        )
        return outcomes

    async def _handle_batch(self, records: Sequence[tuple[bytes, Origin]]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(records)
        parsed: list[tuple[int, CloudEvent]] = []
        first_of: dict[tuple[str, str], int] = {}
        for i, (raw, origin) in enumerate(records):
            try:
                event = decode_kafka(raw, origin.headers)
            except InvalidEvent as exc:
                outcomes[i] = await self._dead_letter(raw, exc.reason, origin)
                continue
            ident = (event.source, event.id)
            if ident in first_of:  # the same event twice in one batch: the later one is a duplicate
                outcomes[i] = _duplicate(event)
                continue
            first_of[ident] = i
            parsed.append((i, event))
        keys = {i: keys_of(event) for i, event in parsed}
        # Stored before routing, so a case these events open already finds them.
        await self.store.store_subject_facts([(e, keys[i]) for i, e in parsed if e.type in FACT_TYPES])
        for segment in _segments(parsed):
            await self._segment(segment, records, keys, outcomes)
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(records), "a record of the batch has no outcome"
        return done

    async def _segment(
        self,
        events: list[tuple[int, CloudEvent]],
        records: Sequence[tuple[bytes, Origin]],
        keys: dict[int, list[str]],
        outcomes: list[Outcome | None],
    ) -> None:
        view = await self._open_view(sorted({k for i, _ in events for k in keys[i]}))
        by_employer = await self._employer_cases(events, keys)
        # Routed first against the open cases as read; a kind that routes on stored facts is
        # routed when applied (None here).
        # A payee account or a treasury result goes to the disbursement desk when applied (None
        # too): claimed in the inbox and applied in order per key like any relevant record.
        # The firehose's fast path: a record of a type that reaches only cases of its keys
        # (`CASE_ONLY_TYPES`), none of which the look-up found, is ignored without being
        # offered to every kind (`route_without_case`: the same Ignore `route` would give).
        routed = {i: None if route_fact_types(e.type) or self._disburses(e)
                  else route_without_case(e, self.pack) if e.type in CASE_ONLY_TYPES and view.keys().isdisjoint(keys[i])
                  else route(e, _open_of(view, keys[i]), self.pack, employer_cases=by_employer.get(i, ()))
                  for i, e in events}
        # Keys that order records: those of open cases, of cases this segment opens, and all keys
        # of records routed only when applied. Two records that merely share an employer with
        # no case need no order between them.
        ordering = set(view)
        for i, _ in events:
            commands = routed[i]
            ordering.update(keys[i] if commands is None else _opened_keys(commands))
        ignored: list[tuple[int, CloudEvent, str]] = []
        relevant: list[Claimed] = []
        # Keys some earlier relevant record of this segment may change the open cases of.
        touched: set[str] = set()
        for i, event in events:
            own, commands = keys[i], routed[i]
            if commands is not None and touched.isdisjoint(own) and all(isinstance(c, Ignore) for c in commands):
                ignored.append((i, event, "; ".join(c.reason for c in commands if isinstance(c, Ignore))))
                continue
            links = {k for k in own if k in ordering} | set(_opened_keys(commands or []))
            touched.update(links)
            relevant.append(Claimed(i, event, records[i][0], records[i][1], own, frozenset(links), by_employer.get(i, ())))
        # An ignored contribution's only effect is its idempotent fact upsert, done above: it
        # needs no inbox row (issue 16: a row per record of a 20-million-record month), and a
        # redelivery of it is "ignored" again rather than a duplicate — with the same effect.
        noted = [item for item in ignored if item[1].type not in AGGREGATED_TYPES]
        for i, event, reason in ignored:
            if event.type in AGGREGATED_TYPES:
                outcomes[i] = Outcome("ignored", reason, event)
        if noted:
            written = await self.store.record_ignored([(e, records[i][1], reason) for i, e, reason in noted])
            for (i, event, reason), new in zip(noted, written, strict=True):
                outcomes[i] = Outcome("ignored", reason, event) if new else _duplicate(event)
        if not relevant:
            return
        claims = await self.store.claim_many([(c.event, c.origin) for c in relevant])
        to_apply: list[Claimed] = []
        for claimed, claim in zip(relevant, claims, strict=True):
            if claim == "duplicate":
                outcomes[claimed.index] = _duplicate(claimed.event)
            else:
                to_apply.append(claimed)
        results = await asyncio.gather(*(self._apply_group(group, view) for group in _groups(to_apply)))
        finished = [(claimed, applied) for done, _ in results for claimed, applied in done]
        await self.store.finish_many([(c.event, a.state, a.note) for c, a in finished])
        for claimed, applied in finished:
            outcomes[claimed.index] = applied.outcome
        failures = [error for _, error in results if error is not None]
        if failures:
            # What was applied is finished; the rest is delivered again with the batch.
            raise failures[0]

    async def _apply_group(
        self, group: list[Claimed], view: OpenView
    ) -> tuple[list[tuple[Claimed, Applied]], BaseException | None]:
        """Apply a group's records in order; stop at the first failure (later records of these
        keys must not overtake it)."""
        done: list[tuple[Claimed, Applied]] = []
        for claimed in group:
            try:
                done.append((claimed, await self.apply(claimed, view)))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return done, exc
        return done, None

    async def apply(self, claimed: Claimed, view: OpenView) -> Applied:
        """Route one claimed record against the open cases of its keys and tell Temporal, in the
        event's intake span (its Temporal calls are the span's children)."""
        origin = claimed.origin
        with tracing.intake_span(claimed.event, origin.topic, origin.partition, origin.offset) as span:
            applied = await self._apply(claimed, view)
            if span is not None:
                span.set_attribute("jiuye.outcome", applied.outcome.status)
            return applied

    def _disburses(self, event: CloudEvent) -> bool:
        return self.disbursement is not None and event.type in DISBURSEMENT_TYPES

    async def _apply(self, claimed: Claimed, view: OpenView) -> Applied:
        event = claimed.event
        if self._disburses(event):
            assert self.disbursement is not None  # _disburses says so
            note = await self.disbursement.handle(event)
            return Applied(Outcome("applied", note, event), "applied", note)
        facts = await self._route_facts(event.type, claimed.keys)
        commands = route(event, _open_of(view, claimed.keys), self.pack, facts, claimed.employer_cases)
        delivered = CaseEvent(
            source=event.source, id=event.id, type=event.type, subject=event.subject, time=event.time, data=event.data
        )
        done: list[str] = []
        late: list[str] = []
        for command in commands:
            if isinstance(command, Reject):
                await self._dead_letter(claimed.raw, command.reason, claimed.origin)
                if command.case_id is not None:
                    # Refused by that case in its state: shown on its page, re-driven from there.
                    await self.store.quarantine(command.case_id, event, command.reason, claimed.raw, claimed.origin)
                return Applied(Outcome("dead_letter", command.reason, event), "ignored", f"dead letter: {command.reason}")
            if isinstance(command, Ignore):
                return Applied(Outcome("ignored", command.reason, event), "ignored", command.reason)
            if isinstance(command, StartCase):
                # The key goes in before Temporal hears of the case, so the subject's next event
                # (same partition, handled after this one) always finds it.
                await self.store.register_case(command.case_id, command.kind, command.keys, command.match)
                for key in command.keys:
                    view.setdefault(key, []).append(OpenCase(command.case_id, command.kind, key, command.match))
                ok = await self.gateway.start_or_signal(command.kind, command.case_id, command.city, delivered)
                (done if ok else late).append(command.case_id)
            elif isinstance(command, SignalCase):
                ok = await self.gateway.signal(command.case_id, delivered)
                (done if ok else late).append(command.case_id)
            elif isinstance(command, SetBudget):
                done.append(await self._set_budget(command, event))
            elif isinstance(command, FanOut):
                await self.store.store_shared_fact(event, _fact(event, command.scope))
                city = None if command.scope == "province" else command.scope
                case_ids = await self.store.open_cases_of_kinds(list(command.kinds), city)
                # A backdated parameter change or lift date still corrects a closed case in its window.
                case_ids += await self.store.listening_cases_of_kinds(list(command.kinds), city)
                results = await asyncio.gather(*(self.gateway.signal(c, delivered) for c in case_ids))
                done.extend(c for c, ok in zip(case_ids, results, strict=True) if ok)
                done.append(f"shared fact ({command.scope})")
        for case_id in late:
            # It reached the case, which had closed for good meanwhile: quarantined on it.
            await self.store.quarantine(case_id, event, LATE_REASON, claimed.raw, claimed.origin)
        if late and not done:
            # Its workflow ended: closed, and past any window for late facts (POLICY.md part 2).
            detail = f"late: case closed before the event arrived: {', '.join(late)}"
            return Applied(Outcome("late", detail, event), "late", detail)
        detail = "→ " + ", ".join(done) + (f" (late for {', '.join(late)})" if late else "")
        return Applied(Outcome("applied", detail, event), "applied", detail)

    async def redeliver(self, event: CloudEvent, raw: bytes, origin: Origin) -> Outcome:
        """A quarantined event delivered again, as it came (same source and id), routed on the
        cases as they are now (a supervisor may have corrected them since it was refused). Its
        inbox row was finished when it was refused, so this bypasses the claim and finishes the
        row again with what it comes to now; a case that took it once drops it by its id (the
        workflow's `seen`), so a re-drive never applies an event twice."""
        keys = keys_of(event)
        view = await self._open_view(keys)
        by_employer = await self._employer_cases([(0, event)], {0: keys})
        claimed = Claimed(0, event, raw, origin, keys, frozenset(keys), by_employer.get(0, ()))
        applied = await self.apply(claimed, view)
        await self.store.finish_many([(event, applied.state, applied.note)])
        return applied.outcome

    async def _set_budget(self, command: SetBudget, event: CloudEvent) -> str:
        """Store the budget (a later one for the same city, fund and year replaces it), then judge
        the fund for a shortfall at once: the budget is one of the two sums it compares."""
        stands = await self.store.set_budget(BudgetRow(command.city, command.fund, command.year, command.amount,
                                                       event.key, event.time))
        if not stands:
            return f"budget {command.city}/{command.fund}/{command.year}: a later one stands"
        alert = await check_shortfall(self.store, command.city, command.fund, command.year, business_date(event.time))
        return f"budget {command.city}/{command.fund}/{command.year}" + (f" (fund_shortfall: runs out {alert.details['runs_out']})" if alert else "")

    async def _open_view(self, keys: list[str]) -> OpenView:
        view: OpenView = {}
        for case in await self.store.open_cases(keys) if keys else []:
            view.setdefault(case.key, []).append(case)
        return view

    async def _employer_cases(self, events: list[tuple[int, CloudEvent]], keys: dict[int, list[str]]) -> dict[int, tuple[OpenCase, ...]]:
        """For each event of a type some kind routes to the cases whose employer it names
        (`employer_case_kinds`), those cases, open or listening: one look-up for the segment's
        such events, none when it has none."""
        wanted = {i: (employer_case_kinds(e.type), employers_of(keys[i])) for i, e in events if employer_case_kinds(e.type)}
        employers = sorted({e for _, named in wanted.values() for e in named})
        if not employers:
            return {}
        found = await self.store.employer_cases(sorted({k for kinds, _ in wanted.values() for k in kinds}), employers)
        return {
            i: tuple(c for c in found if c.kind in kinds and c.match.get("employer_id") in named)
            for i, (kinds, named) in wanted.items()
        }

    async def _route_facts(self, event_type: str, keys: list[str]) -> list[Fact]:
        """The stored facts some kind decides this event on (`route_fact_types`), per key kind."""
        facts: list[Fact] = []
        for key_kind, types in route_fact_types(event_type).items():
            of_kind = [k for k in keys if k.partition("/")[0] == key_kind]
            if of_kind:
                facts += await self.store.subject_facts(of_kind, list(types))
        return facts

    async def _dead_letter(self, raw: bytes, reason: str, origin: Origin) -> Outcome:
        await self.dead_letters.send(raw, reason, origin)
        await self.store.dead_letter(origin, reason, raw)
        return Outcome("dead_letter", reason)


def _duplicate(event: CloudEvent) -> Outcome:
    return Outcome("duplicate", f"{event.key} seen before", event)


def _opened_keys(commands: list[Command]) -> list[str]:
    return [k for c in commands if isinstance(c, StartCase) for k in c.keys]


def _open_of(view: OpenView, keys: list[str]) -> list[OpenCase]:
    return [case for key in keys for case in view.get(key, ())]


def _segments(events: list[tuple[int, CloudEvent]]) -> list[list[tuple[int, CloudEvent]]]:
    """Split at shared facts, each of which is a segment of its own."""
    segments: list[list[tuple[int, CloudEvent]]] = [[]]
    for item in events:
        if item[1].type in SHARED_FACT_TYPES:
            segments += [[item], []]
        else:
            segments[-1].append(item)
    return [s for s in segments if s]


def _groups(claimed: list[Claimed]) -> list[list[Claimed]]:
    """Records linked by a shared key (directly or through others), each group in batch order."""
    parent = list(range(len(claimed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, c in enumerate(claimed):
        for key in c.links:
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    groups: dict[int, list[Claimed]] = {}
    for i, c in enumerate(claimed):
        groups.setdefault(root(i), []).append(c)
    return list(groups.values())


def _fact(event: CloudEvent, scope: str) -> SharedFact:
    on = event.data.get("on") or event.data.get("effective_on")
    return SharedFact(
        type=event.type,
        scope=scope,
        on_date=date.fromisoformat(on) if on else None,
        payload=event.data,
        event_time=event.time,
    )
