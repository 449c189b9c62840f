"""A production-shaped world for the K1 workflow tests (and `tests/histories/record.py`):
events go through `Intake` → routing → `CaseGateway` onto a worker built by `build_worker` with
a `MemoryStore`, on Temporal's time-skipping server. The business clock is mapped onto 2020 as
`app/simulate.py` maps it: a fixed offset from server time, and `env.sleep` to move on."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.memory_store import MemoryStore
from activities.store import Origin
from app.simulate import ListSink
from app.worker import build_worker
from contracts.cases import CaseEvent, CaseInput, CaseOutcome, CaseView, PaymentRequest
from policy.calendar import start_of_day
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake, Outcome
from testkit.events import cloud_event

KIND = "internship_subsidy"
_ids = count(1)


def at(day: date, hour: int = 9) -> datetime:
    """A business instant on `day` (Shanghai)."""
    return start_of_day(day) + timedelta(hours=hour)


def case_id(person: str, unit: str, starts_on: date) -> str:
    """The business key streams/routes/internship.py gives a K1 case."""
    return f"internship/{person}/{unit}/{starts_on.isoformat()}"


def agreement(person: str, unit: str, starts_on: date, months: int, cohort: int = 2020, city: str = "2101") -> dict[str, Any]:
    return {
        "person_id": person,
        "unit_id": unit,
        "city": city,
        "starts_on": starts_on.isoformat(),
        "months": months,
        "cohort": cohort,
    }


class K1World:
    """One test's world: its own task queue, store, intake and business clock."""

    def __init__(self, env: WorkflowEnvironment, store: MemoryStore, intake: Intake, queue: str, offset: int):
        self.env = env
        self.store = store
        self.intake = intake
        self.queue = queue
        self.offset = offset
        self.dead_letters: ListSink = intake.dead_letters  # type: ignore[assignment]
        self.started: set[str] = set()  # cases started directly (not known to the store's keys)

    # -- the business clock ----------------------------------------------------------------
    async def business_now(self) -> datetime:
        return await self.env.get_current_time() + timedelta(seconds=self.offset)

    async def advance_to(self, moment: datetime) -> None:
        """Skip server time until business time reaches `moment` (never backwards)."""
        target = moment - timedelta(seconds=self.offset)
        now = await self.env.get_current_time()
        if target > now:
            await self.env.sleep(target - now)
        await self.settle()

    async def advance_to_day(self, day: date, hour: int = 12) -> None:
        await self.advance_to(at(day, hour))

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until every case of this world is idle: no workflow task and no activity
        outstanding in its history (activities run outside server time, so `env.sleep` returning
        does not mean the work it made due is done). The test server's describe() does not
        report pending tasks, hence the history scan."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            busy = [c for c in sorted(self.case_ids()) if not await _idle(self.handle(c))]
            if not busy:
                return
            if loop.time() > deadline:
                raise AssertionError(f"cases still busy after {timeout}s (a failing workflow task?): {busy}")
            await asyncio.sleep(0.02)

    def case_ids(self) -> set[str]:
        return {c.case_id for cases in self.store.keys.values() for c in cases.values()} | set(self.store.cases) | self.started

    # -- inputs ----------------------------------------------------------------------------
    def document(self, type_: str, data: dict[str, Any], when: datetime, subject: str, source: str, event_id: str | None) -> dict[str, Any]:
        return cloud_event(id=event_id or f"k1-{next(_ids)}", source=source, type=type_, subject=subject, on=when, data=data)

    async def send(
        self,
        type_: str,
        data: dict[str, Any],
        day: date,
        *,
        subject: str | None = None,
        source: str = "es/2101",
        event_id: str | None = None,
        deliver_on: date | None = None,
    ) -> Outcome:
        """Deliver one CloudEvent dated `day` through the intake, at its business time (or later,
        on `deliver_on`, for an event that arrives late)."""
        when = at(day)
        await self.advance_to(at(deliver_on) if deliver_on else when)
        doc = self.document(type_, data, when, subject or f"person/{data['person_id']}", source, event_id)
        outcome = await self.intake.handle(json.dumps(doc).encode(), Origin(topic="test", offset=next(_ids)))
        await self.settle()
        return outcome

    async def start_directly(self, opening: CaseEvent, case: str) -> WorkflowHandle[Any, Any]:
        """Start a case as the gateway does (signal-with-start), bypassing the intake."""
        self.started.add(case)
        return await self.env.client.start_workflow(
            KIND,
            CaseInput(case_id=case, kind=KIND, clock_offset_seconds=self.offset, search_attributes=False),
            id=case,
            task_queue=self.queue,
            start_signal="event",
            start_signal_args=[opening],
            result_type=CaseOutcome,
        )

    # -- observations ----------------------------------------------------------------------
    def handle(self, case: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(case)

    async def view(self, case: str) -> CaseView:
        return await self.handle(case).query("state", result_type=CaseView)

    def record(self, case: str) -> Any:
        return self.store.cases[case]

    def status(self, case: str) -> str:
        return self.store.cases[case].status

    def payments(self, case: str) -> list[PaymentRequest]:
        return sorted(
            (p for p in self.store.ledger.values() if p.case_id == case),
            key=lambda p: int(p.period.removeprefix("month-")),
        )

    def paid(self, case: str) -> list[tuple[str, date]]:
        """(period, due_on) of every payment of the case, in period order."""
        return [(p.period, p.due_on) for p in self.payments(case)]


@asynccontextmanager
async def k1_world(env: WorkflowEnvironment, first_day: date, history_limit: int | None = None) -> AsyncIterator[K1World]:
    """A worker on a fresh uuid task queue whose business clock starts the day before `first_day`.

    Cases still open at the end are terminated: their timers would otherwise wait for a worker
    that is gone and stop the shared time-skipping server from skipping for the next test.
    """
    pack = load_pack()
    store = MemoryStore()
    queue = f"k1-{uuid.uuid4()}"
    server_now = await env.get_current_time()
    offset = int((start_of_day(first_day - timedelta(days=1)) - server_now).total_seconds())
    gateway = CaseGateway(env.client, queue, clock_offset_seconds=offset, search_attributes=False, history_limit=history_limit)
    intake = Intake(store, gateway, ListSink(), pack)
    async with build_worker(env.client, queue, store, pack):
        world = K1World(env, store, intake, queue, offset)
        try:
            yield world
        finally:
            await _terminate_open_cases(env, world.case_ids())


_TASK_DONE = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
_ACTIVITY_DONE = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}


async def _idle(handle: WorkflowHandle[Any, Any]) -> bool:
    """True when the workflow waits only on timers or signals (or has closed, or never started)."""
    task = False
    activities: set[int] = set()
    try:
        async for event in handle.fetch_history_events():
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                task = True
            elif event.event_type in _TASK_DONE:
                task = False
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activities.add(event.event_id)
            elif event.event_type in _ACTIVITY_DONE:
                activities.discard(getattr(event, _ACTIVITY_DONE[event.event_type]).scheduled_event_id)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return True
        raise
    return not task and not activities


async def _terminate_open_cases(env: WorkflowEnvironment, case_ids: set[str]) -> None:
    for case in sorted(case_ids):
        try:
            await env.client.get_workflow_handle(case).terminate(reason="test finished")
        except Exception:  # already closed, or never started: nothing to stop
            pass


__all__ = ["K1World", "k1_world", "at", "agreement", "case_id", "KIND"]
