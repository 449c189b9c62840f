"""A production-shaped harness for the K4/K5 workflow tests: events go through `Intake` and
`CaseGateway` onto a worker with a `MemoryStore`, on Temporal's time-skipping server, with
the business clock mapped onto the scenario's calendar as `app/simulate.py` does."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.case_activities import CaseActivities
from activities.memory_store import MemoryStore
from activities.store import Origin
from app.simulate import ListSink, advance_business_clock, drain_activities, simulate
from app.worker import build_worker
from contracts.cases import CaseView, PaymentRequest, TaskDecision, TaskRecord
from policy.calendar import start_of_day
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake, Outcome
from testkit.events import cloud_event, line
from workflows.registry import WORKFLOWS

_ids = count(1)
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def at(day: date, hour: int = 9) -> datetime:
    """A business instant on `day` (Shanghai)."""
    return start_of_day(day) + timedelta(hours=hour)


class Harness:
    """One test's world: its own task queue, store and business clock."""

    def __init__(self, env: WorkflowEnvironment, store: MemoryStore, intake: Intake, offset: int, queue: str = ""):
        self.env = env
        self.store = store
        self.intake = intake
        self.offset = offset
        self.queue = queue
        self.sink: ListSink = intake.dead_letters  # type: ignore[assignment]
        self.sent: list[dict[str, Any]] = []

    async def advance_to(self, moment: datetime) -> None:
        """Move the server until business time reaches `moment` (never backwards)."""
        await advance_business_clock(self.env, moment, self.offset)
        await self.settle()

    async def advance_to_day(self, day: date) -> None:
        await self.advance_to(at(day, 12))

    async def settle(self) -> None:
        """Let activities already due finish (they run outside server time)."""
        await drain_activities(self.env, self.store)

    async def send(
        self, type_: str, data: dict[str, Any], person: str, when: datetime, source: str = "es/2101", subject: str | None = None
    ) -> Outcome:
        """Deliver one CloudEvent at its business time through the intake (about `person/<person>`
        unless `subject` says otherwise)."""
        await self.advance_to(when)
        number = next(_ids)
        doc = cloud_event(id=f"t-{number}", source=source, type=type_, subject=subject or f"person/{person}", on=when, data=data)
        self.sent.append(doc)
        raw = line(doc)
        outcome = await self.intake.handle(raw, Origin(topic="test", offset=number))
        await self.settle()
        return outcome

    async def parameter(self, name: str, value: Any, effective: date, day: date, city: str | None = "2101") -> Outcome:
        """A `policy.parameter.changed` for `city` (None: the province), announced on `day`."""
        data = {"city": city, "name": name, "value": value, "effective_on": effective.isoformat()}
        return await self.send("policy.parameter.changed", data, "", at(day), f"policy/{city or 21}", f"city/{city}" if city else "province/21")

    def handle(self, case_id: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(case_id)

    async def view(self, case_id: str) -> CaseView:
        return await self.handle(case_id).query("state", result_type=CaseView)

    async def decide(self, case_id: str, decision: TaskDecision) -> TaskRecord:
        result = await self.handle(case_id).execute_update("decide", decision, result_type=TaskRecord)
        await self.settle()
        return result

    def status(self, case_id: str) -> str:
        return self.store.cases[case_id].status

    def record(self, case_id: str) -> Any:
        return self.store.cases[case_id]

    def payments(self, case_id: str) -> list[PaymentRequest]:
        return sorted((p for p in self.store.ledger.values() if p.case_id == case_id), key=lambda p: (p.due_on, p.program, p.period))

    def tasks(self, case_id: str) -> list[dict[str, Any]]:
        return [t for t in self.store.tasks.values() if t["case_id"] == case_id]


@asynccontextmanager
async def harness(
    env: WorkflowEnvironment, first_day: date, history_limit: int | None = None, replace: type[Any] | None = None
) -> AsyncIterator[Harness]:
    """A worker on a fresh uuid task queue whose business clock starts the day before `first_day`.
    `replace`: a test subclass registered instead of the shipped workflow of its kind (one that
    stretches a step to make a race happen on cue)."""
    pack = load_pack()
    store = MemoryStore()
    queue = f"k45-{uuid.uuid4()}"
    server_now = await env.get_current_time()
    offset = int((start_of_day(first_day - timedelta(days=1)) - server_now).total_seconds())
    gateway = CaseGateway(env.client, queue, clock_offset_seconds=offset, search_attributes=False, history_limit=history_limit)
    intake = Intake(store, gateway, ListSink(), pack)
    if replace is None:
        worker = build_worker(env.client, queue, store, pack)
    else:
        workflows = [replace if w.kind == replace.kind else w for w in WORKFLOWS]
        worker = Worker(env.client, task_queue=queue, workflows=workflows, activities=CaseActivities(store, pack).all())
    async with worker:
        try:
            yield Harness(env, store, intake, offset, queue)
        finally:
            await _terminate_open_cases(env, store)


async def _terminate_open_cases(env: WorkflowEnvironment, store: MemoryStore) -> None:
    """Cases left running would hold workflow tasks no worker polls once this test's worker
    stops, and the shared time-skipping server would stop skipping for the next test."""
    case_ids = {c.case_id for cases in store.keys.values() for c in cases.values()} | set(store.cases)
    for case_id in sorted(case_ids):
        try:
            await env.client.get_workflow_handle(case_id).terminate(reason="test finished")
        except Exception:  # already closed (or never started): nothing to stop
            pass


def registered(person: str, registered_on: date, retirement: date, categories: list[str], city: str = "2101") -> dict[str, Any]:
    """`unemployment.registered` data (the K12 facts the cases read)."""
    return {
        "person_id": person,
        "city": city,
        "registered_on": registered_on.isoformat(),
        "birth_date": "1975-01-01",
        "retirement_date": retirement.isoformat(),
        "categories": categories,
    }


# A ledger row as the corrections tests compare it: (period, entry, amount, due_on, corrects, cause).
LedgerRow = tuple[str, str, int, date, str | None, str | None]
CORRECTIONS = ("arrears", "overpayment", "deduction")
_WORTH_SIGN = {"payment": 1, "arrears": 1, "overpayment": -1, "deduction": 0}


def event_key(outcome: Outcome) -> str:
    """The `source#id` a case names as the cause of a correction."""
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


def ledger_rows(h: Harness, case_id: str, entries: tuple[str, ...] = CORRECTIONS) -> list[LedgerRow]:
    """The case's ledger rows of `entries` (default: the corrections), in due order."""
    ledger = sorted(h.payments(case_id), key=lambda p: (p.due_on, p.period, p.entry, p.seq))
    return [(p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause) for p in ledger if p.entry in entries]


def worth_by_period(h: Harness, case_id: str) -> dict[str, int]:
    """Original + corrections per period (a deduction only moves money already owed)."""
    total: dict[str, int] = {}
    for p in h.payments(case_id):
        total[p.period] = total.get(p.period, 0) + _WORTH_SIGN[p.entry] * p.amount
    return total


async def scenario_of_kind(name: str, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """tests/scenarios/<name>.jsonl through `simulate` to its expected file's `until`: (what came
    out for `kind`, the expected file). Other kinds react to the same events (a registration opens
    a follow-up case, ...): only this kind's cases, ledger rows and tasks are kept."""
    expected = json.loads((SCENARIOS / f"{name}.expected.json").read_text(encoding="utf-8"))
    result = await simulate(SCENARIOS / f"{name}.jsonl", date.fromisoformat(expected["until"]))
    ours = {c["case_id"] for c in result["cases"] if c["kind"] == kind}
    return {
        "cases": [c for c in result["cases"] if c["kind"] == kind],
        "payments": [p for p in result["payments"] if p["kind"] == kind],
        "tasks": [t for t in result["tasks"] if t["case_id"] in ours],
        "dead_letters": result["dead_letters"],
    }, expected


__all__ = ["Harness", "harness", "at", "registered", "event_key", "ledger_rows", "worth_by_period", "scenario_of_kind"]
