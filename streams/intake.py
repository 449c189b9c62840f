"""The path of one record, independent of Kafka and faust so the stream processor and the
simulator share it: parse → dead letters, or inbox → route → Temporal → inbox applied.

Nothing is acknowledged before it is durable: the caller commits a record's offset only after
`handle` returned; any exception means "not done, deliver again".
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from activities.store import Origin, SharedFact, Store
from contracts.cases import CaseEvent, Fact
from contracts.events import CloudEvent, InvalidEvent, parse_event
from policy.pack import PolicyPack
from streams.gateway import CaseGateway
from streams.routing import FACT_TYPES, FanOut, Ignore, Reject, SignalCase, StartCase, keys_of, route, route_fact_types

log = logging.getLogger(__name__)


class DeadLetterSink(Protocol):
    async def send(self, raw: bytes, reason: str, origin: Origin) -> None: ...


@dataclass(frozen=True)
class Outcome:
    status: str  # applied, duplicate, ignored, late, dead_letter
    detail: str = ""


class Intake:
    def __init__(self, store: Store, gateway: CaseGateway, dead_letters: DeadLetterSink, pack: PolicyPack):
        self.store = store
        self.gateway = gateway
        self.dead_letters = dead_letters
        self.pack = pack

    async def handle(self, raw: bytes, origin: Origin) -> Outcome:
        try:
            event = parse_event(raw)
        except InvalidEvent as exc:
            return await self._dead_letter(raw, exc.reason, origin)
        return await self.handle_event(event, raw, origin)

    async def handle_event(self, event: CloudEvent, raw: bytes, origin: Origin) -> Outcome:
        claim = await self.store.claim(event, origin)
        if claim == "duplicate":
            return Outcome("duplicate", f"{event.source}#{event.id} seen before")
        keys = keys_of(event)
        if event.type in FACT_TYPES:
            # Stored before routing, so a case this event opens already finds it.
            await self.store.store_subject_fact(event, keys)
        open_cases = await self.store.open_cases(keys)
        facts = await self._route_facts(event.type, keys)
        commands = route(event, open_cases, self.pack, facts)
        delivered = CaseEvent(
            source=event.source, id=event.id, type=event.type, subject=event.subject, time=event.time, data=event.data
        )
        done: list[str] = []
        late: list[str] = []
        for command in commands:
            if isinstance(command, Reject):
                await self.store.finish(event, "ignored", f"dead letter: {command.reason}")
                return await self._dead_letter(raw, command.reason, origin)
            if isinstance(command, Ignore):
                await self.store.finish(event, "ignored", command.reason)
                return Outcome("ignored", command.reason)
            if isinstance(command, StartCase):
                # The key goes in before Temporal hears of the case, so the subject's next event
                # (same partition, handled after this one) always finds it.
                await self.store.register_case(command.case_id, command.kind, command.keys, command.match)
                ok = await self.gateway.start_or_signal(command.kind, command.case_id, command.city, delivered)
                (done if ok else late).append(command.case_id)
            elif isinstance(command, SignalCase):
                ok = await self.gateway.signal(command.case_id, delivered)
                (done if ok else late).append(command.case_id)
            elif isinstance(command, FanOut):
                await self.store.store_shared_fact(event, _fact(event, command.scope))
                city = None if command.scope == "province" else command.scope
                case_ids = await self.store.open_cases_of_kinds(list(command.kinds), city)
                results = await asyncio.gather(*(self.gateway.signal(c, delivered) for c in case_ids))
                done.extend(c for c, ok in zip(case_ids, results) if ok)
                done.append(f"shared fact ({command.scope})")
        if late and not done:
            detail = f"late: case closed before the event arrived: {', '.join(late)}"
            await self.store.finish(event, "late", detail)
            return Outcome("late", detail)
        detail = "→ " + ", ".join(done) + (f" (late for {', '.join(late)})" if late else "")
        await self.store.finish(event, "applied", detail)
        return Outcome("applied", detail)

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


def _fact(event: CloudEvent, scope: str) -> SharedFact:
    on = event.data.get("on") or event.data.get("effective_on")
    return SharedFact(
        type=event.type,
        scope=scope,
        on_date=date.fromisoformat(on) if on else None,
        payload=event.data,
        event_time=event.time,
    )
