"""A production-shaped harness for the K2/K3 workflow tests: events go through `Intake` and
`CaseGateway` onto a worker with a `MemoryStore`, on Temporal's time-skipping server, with the
business clock mapped onto 2020 as `app/simulate.py` does."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from temporalio.testing import WorkflowEnvironment

from activities.memory_store import MemoryStore
from activities.store import Origin
from app.simulate import ListSink, advance_business_clock, drain_activities
from app.worker import build_worker
from contracts.cases import CaseView, PaymentRequest
from policy.calendar import start_of_day
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake, Outcome
from testkit.events import cloud_event, line

_ids = count(1)


def at(day: date, hour: int = 9) -> datetime:
    """A business instant on `day` (Shanghai)."""
    return start_of_day(day) + timedelta(hours=hour)


class World:
    """One test's world: its own task queue, store and business clock."""

    def __init__(self, env: WorkflowEnvironment, store: MemoryStore, intake: Intake, offset: int):
        self.env = env
        self.store = store
        self.intake = intake
        self.offset = offset

    async def advance_to(self, moment: datetime) -> None:
        """Move the server until business time reaches `moment` (never backwards)."""
        await advance_business_clock(self.env, moment, self.offset)
        await self.settle()

    async def advance_to_day(self, day: date) -> None:
        await self.advance_to(at(day, 12))

    async def settle(self) -> None:
        """Let activities already due finish (they run outside server time)."""
        await drain_activities(self.env, self.store)

    async def send(self, type_: str, data: dict[str, Any], day: date, subject: str | None = None, hour: int = 9) -> Outcome:
        """Deliver one CloudEvent at its business time through the intake."""
        when = at(day, hour)
        await self.advance_to(when)
        number = next(_ids)
        doc = cloud_event(id=f"k23-{number}", source="test/2101", type=type_, subject=subject or f"person/{data['person_id']}",
                          on=when, data=data)
        outcome = await self.intake.handle(line(doc), Origin(topic="test", offset=number))
        await self.settle()
        return outcome

    # -- the events of K2/K3 -----------------------------------------------------------------
    async def claim(self, person: str, claim_on: date, insured: int = 30, involuntary: bool = True,
                    retirement: date = date(2045, 1, 1), city: str = "2101") -> Outcome:
        return await self.send("ui.claim.filed", {
            "person_id": person, "city": city, "claim_on": claim_on.isoformat(), "insured_months": insured,
            "involuntary": involuntary, "retirement_date": retirement.isoformat()}, claim_on)

    async def declared(self, on: date) -> Outcome:
        return await self.send("policy.epidemic.declared", {"on": on.isoformat()}, on, subject="province/21")

    async def lifted(self, on: date, announced: date | None = None) -> Outcome:
        return await self.send("policy.epidemic.lifted", {"on": on.isoformat()}, announced or on, subject="province/21")

    async def price_linkage(self, month: str, amount: int, day: date, city: str = "2101") -> Outcome:
        return await self.send("policy.price_linkage.triggered", {"city": city, "month": month, "amount": amount}, day,
                               subject=f"city/{city}")

    async def parameter(self, name: str, value: Any, effective: date, day: date, city: str | None = "2101") -> Outcome:
        return await self.send("policy.parameter.changed", {"city": city, "name": name, "value": value,
                                                            "effective_on": effective.isoformat()}, day,
                               subject=f"city/{city}" if city else "province/21")

    async def employment(self, person: str, on: date) -> Outcome:
        return await self.send("employment.registered", {"person_id": person, "city": "2101", "on": on.isoformat(),
                                                         "kind": "employee", "employer_id": "E7"}, on)

    async def contract(self, person: str, signed: date, starts: date | None = None) -> Outcome:
        return await self.send("contract.signed", {"person_id": person, "employer_id": "E7", "signed_on": signed.isoformat(),
                                                   "starts_on": (starts or signed).isoformat(), "term_months": 12}, signed)

    async def contribution(self, person: str, month: str, day: date, employer: str | None = "E7") -> Outcome:
        data: dict[str, Any] = {"person_id": person, "month": month, "base": 400000, "employer_amount": 3200,
                                "employee_amount": 800, "insurances": ["pension", "unemployment"]}
        if employer:
            data["employer_id"] = employer
        return await self.send("contribution.paid", data, day)

    # -- what happened ---------------------------------------------------------------------------
    async def view(self, case_id: str) -> CaseView:
        return await self.env.client.get_workflow_handle(case_id).query("state", result_type=CaseView)

    def status(self, case_id: str) -> str:
        return self.store.cases[case_id].status

    def closed_on(self, case_id: str) -> date | None:
        return self.store.cases[case_id].closed_on

    def payments(self, case_id: str, program: str | None = None) -> list[PaymentRequest]:
        return sorted(
            (p for p in self.store.ledger.values() if p.case_id == case_id and program in (None, p.program)),
            key=lambda p: (p.due_on, p.program, p.period),
        )

    def paid(self, case_id: str, program: str) -> list[tuple[str, int, date]]:
        """(period, amount, due_on) of one program, in due order."""
        return [(p.period, p.amount, p.due_on) for p in self.payments(case_id, program)]

    def originals(self, case_id: str, program: str) -> list[tuple[str, int, date]]:
        """(period, amount, due_on) of one program's original payments (no corrections), in due order."""
        return [(p.period, p.amount, p.due_on) for p in self.payments(case_id, program) if p.entry == "payment"]

    def corrections(self, case_id: str) -> list[tuple[str, str, str, int, date, str | None]]:
        """(program, period, entry, amount, due_on, corrects) of every correction, in due order."""
        return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects)
                for p in sorted(self.payments(case_id), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
                if p.entry != "payment"]

    def ledger_rows(self, case_id: str, entries: tuple[str, ...] = ("arrears", "overpayment", "deduction")) -> list[Row]:
        """(program, period, entry, amount, due_on, corrects, cause) of the rows of `entries`, in
        due order (by default the corrections)."""
        return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause)
                for p in sorted(self.payments(case_id), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
                if p.entry in entries]

    def worth(self, case_id: str) -> dict[tuple[str, str], int]:
        """Original + corrections per (program, period): what the payee is owed so far (EVENTS.md
        "simulate": payment and arrears minus overpayment; a deduction only moves money)."""
        total: dict[tuple[str, str], int] = defaultdict(int)
        for p in self.payments(case_id):
            total[(p.program, p.period)] += _WORTH_SIGN[p.entry] * p.amount
        return dict(total)

    def tasks_of(self, case_id: str) -> list[dict[str, Any]]:
        return [t for t in self.store.tasks.values() if t["case_id"] == case_id]


# A ledger row as the correction tests compare it.
Row = tuple[str, str, str, int, date, str | None, str | None]
_WORTH_SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}


def event_key(outcome: Outcome) -> str:
    """The `source#id` of the event an intake outcome delivered: the cause named on corrections."""
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


@asynccontextmanager
async def world(env: WorkflowEnvironment, first_day: date, history_limit: int | None = None) -> AsyncIterator[World]:
    """A worker on a fresh uuid task queue whose business clock starts the day before `first_day`."""
    pack = load_pack()
    store = MemoryStore()
    queue = f"k23-{uuid.uuid4()}"
    server_now = await env.get_current_time()
    offset = int((start_of_day(first_day - timedelta(days=1)) - server_now).total_seconds())
    gateway = CaseGateway(env.client, queue, clock_offset_seconds=offset, search_attributes=False, history_limit=history_limit)
    intake = Intake(store, gateway, ListSink(), pack)
    async with build_worker(env.client, queue, store, pack):
        try:
            yield World(env, store, intake, offset)
        finally:
            await _terminate_open_cases(env, store)


async def _terminate_open_cases(env: WorkflowEnvironment, store: MemoryStore) -> None:
    """Cases left running would hold workflow tasks no worker polls once this test's worker stops,
    and the module's time-skipping server would stop skipping for the next test. K3 cases
    (`ua/…`) go first: a K2 case waits for the K3 case it opened."""
    case_ids = {c.case_id for cases in store.keys.values() for c in cases.values()} | set(store.cases)
    for case_id in sorted(case_ids):
        try:
            await env.client.get_workflow_handle(case_id).terminate(reason="test finished")
        except Exception:  # already closed (or never started): nothing to stop
            pass


__all__ = ["World", "world", "at", "event_key", "Row"]
