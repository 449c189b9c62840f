"""The one harness of the workflow tests (and of tests/histories' recorders): a production-shaped
world on Temporal's time-skipping server (tests/workflow/conftest.py's `env`). Events go as
CloudEvents through `Intake` → routing → `CaseGateway` onto a worker built by `build_worker` with
a `MemoryStore`; the business clock is mapped onto the scenario's calendar as
`app/simulate.py` maps it (a fixed offset from server time, `env.sleep` to move on); after
every step the world waits at `simulate`'s barrier (console/idle.py: every case idle) before a
test reads the ledger, tasks or a case's timeline.

`world(env, first_day)` starts one; `World.send` delivers an event; `advance_to`/`advance_to_day`
move time; the rest reads what happened. The event vocabularies of kinds whose tests share them
(K1's agreements, K2/K3's claims and policy events, K6's enterprises and hires) are here too.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
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
from app.simulate import ListSink, advance_business_clock, simulate
from app.worker import build_worker
from console.idle import case_ids, wait_until_idle
from contracts import kinds
from contracts.cases import CaseEvent, CaseInput, CaseOutcome, CaseView, PaymentRequest, TaskDecision, TaskRecord
from policy.calendar import start_of_day
from policy.corrections import WORTH_SIGN
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake, Outcome
from testkit.events import cloud_event, line
from workflows.registry import WORKFLOWS

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
INTERNSHIP = kinds.INTERNSHIP_SUBSIDY
_ids = count(1)

# A ledger row as the correction tests compare it: with the program (`World.ledger_rows`) or
# without (`World.rows`, for one-program kinds).
Row = tuple[str, str, str, int, date, str | None, str | None]
LedgerRow = tuple[str, str, int, date, str | None, str | None]
CORRECTIONS = ("arrears", "overpayment", "deduction")


def at(day: date, hour: int = 9) -> datetime:
    """A business instant on `day` (Shanghai)."""
    return start_of_day(day) + timedelta(hours=hour)


class World:
    """One test's world: its own task queue, store, intake and business clock."""

    def __init__(self, env: WorkflowEnvironment, store: MemoryStore, intake: Intake, queue: str, offset: int):
        self.env = env
        self.store = store
        self.intake = intake
        self.queue = queue
        self.offset = offset
        self.dead_letters: ListSink = intake.dead_letters  # type: ignore[assignment]
        self.sent: list[dict[str, Any]] = []  # every CloudEvent delivered, in order
        self.started: set[str] = set()  # cases started directly (not known to the store's keys)

    # -- the business clock ----------------------------------------------------------------------
    async def business_now(self) -> datetime:
        return await self.env.get_current_time() + timedelta(seconds=self.offset)

    async def advance_to(self, moment: datetime) -> None:
        """Move the server until business time reaches `moment` (never backwards), then settle."""
        await advance_business_clock(self.env, moment, self.offset)
        await self.settle()

    async def advance_to_day(self, day: date, hour: int = 12) -> None:
        await self.advance_to(at(day, hour))

    async def settle(self) -> None:
        """Wait until every case of this world is idle (console/idle.py): activities run outside
        server time, so `env.sleep` returning does not mean the work it made due is done."""
        await wait_until_idle(self.env.client, self.case_ids(), timeout=60.0)

    def case_ids(self) -> set[str]:
        return case_ids(self.store) | self.started

    # -- inputs ------------------------------------------------------------------------------------
    async def send(
        self,
        type_: str,
        data: dict[str, Any],
        when: date | datetime,
        *,
        subject: str | None = None,
        source: str = "es/2101",
        event_id: str | None = None,
        deliver_on: date | datetime | None = None,
    ) -> Outcome:
        """Deliver one CloudEvent through the intake at its business time `when` (a day: 09:00),
        or later, at `deliver_on`, for an event that arrives late. About `person/<person_id>`
        unless `subject` says otherwise."""
        moment = _instant(when)
        await self.advance_to(_instant(deliver_on) if deliver_on is not None else moment)
        number = next(_ids)
        doc = cloud_event(id=event_id or f"t-{number}", source=source, type=type_,
                          subject=subject or f"person/{data['person_id']}", on=moment, data=data)
        self.sent.append(doc)
        outcome = await self.intake.handle(line(doc), Origin(topic="test", offset=number))
        await self.settle()
        return outcome

    async def start_directly(self, opening: CaseEvent, case: str, kind: str = INTERNSHIP) -> WorkflowHandle[Any, Any]:
        """Start a case as the gateway does (signal-with-start), bypassing the intake."""
        self.started.add(case)
        return await self.env.client.start_workflow(
            kind,
            CaseInput(case_id=case, kind=kind, clock_offset_seconds=self.offset, search_attributes=False),
            id=case,
            task_queue=self.queue,
            start_signal="event",
            start_signal_args=[opening],
            result_type=CaseOutcome,
        )

    async def decide(self, case_id: str, decision: TaskDecision) -> TaskRecord:
        result = await self.handle(case_id).execute_update("decide", decision, result_type=TaskRecord)
        await self.settle()
        return result

    # -- policy events (several kinds react to them) -------------------------------------------------
    async def parameter(self, name: str, value: Any, effective: date, day: date, city: str | None = "2101") -> Outcome:
        """A `policy.parameter.changed` for `city` (None: the province), announced on `day`."""
        data = {"city": city, "name": name, "value": value, "effective_on": effective.isoformat()}
        return await self.send("policy.parameter.changed", data, at(day), source=f"policy/{city or 21}",
                               subject=f"city/{city}" if city else "province/21")

    async def declared(self, on: date) -> Outcome:
        return await self.send("policy.epidemic.declared", {"on": on.isoformat()}, on, subject="province/21")

    async def lifted(self, on: date, announced: date | None = None) -> Outcome:
        return await self.send("policy.epidemic.lifted", {"on": on.isoformat()}, announced or on, subject="province/21")

    async def price_linkage(self, month: str, amount: int, day: date, city: str = "2101") -> Outcome:
        return await self.send("policy.price_linkage.triggered", {"city": city, "month": month, "amount": amount}, day,
                               subject=f"city/{city}")

    # -- the events of K2/K3 (unemployment insurance and its follow-up) -----------------------------
    async def claim(self, person: str, claim_on: date, insured: int = 30, involuntary: bool = True,
                    retirement: date = date(2045, 1, 1), city: str = "2101") -> Outcome:
        return await self.send("ui.claim.filed", {
            "person_id": person, "city": city, "claim_on": claim_on.isoformat(), "insured_months": insured,
            "involuntary": involuntary, "retirement_date": retirement.isoformat()}, claim_on)

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

    # -- what happened -------------------------------------------------------------------------------
    def handle(self, case_id: str) -> WorkflowHandle[Any, Any]:
        return self.env.client.get_workflow_handle(case_id)

    async def view(self, case_id: str) -> CaseView:
        return await self.handle(case_id).query("state", result_type=CaseView)

    def record(self, case_id: str) -> Any:
        return self.store.cases[case_id]

    def status(self, case_id: str) -> str:
        return self.store.cases[case_id].status

    def closed_on(self, case_id: str) -> date | None:
        return self.store.cases[case_id].closed_on

    def tasks(self, case_id: str) -> list[dict[str, Any]]:
        return [t for t in self.store.tasks.values() if t["case_id"] == case_id]

    def payments(self, case_id: str, program: str | None = None) -> list[PaymentRequest]:
        """The case's ledger rows (of one program, or all), in due order."""
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

    def payments_by_month(self, case_id: str) -> list[PaymentRequest]:
        """A monthly kind's ledger rows (periods `month-N`, K1) in month order."""
        return sorted((p for p in self.store.ledger.values() if p.case_id == case_id),
                      key=lambda p: int(p.period.removeprefix("month-")))

    def paid_months(self, case_id: str) -> list[tuple[str, date]]:
        """(period, due_on) of every row of a monthly kind (K1), in month order."""
        return [(p.period, p.due_on) for p in self.payments_by_month(case_id)]

    def corrections(self, case_id: str) -> list[tuple[str, str, str, int, date, str | None]]:
        """(program, period, entry, amount, due_on, corrects) of every correction, in due order."""
        return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects)
                for p in sorted(self.payments(case_id), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
                if p.entry != "payment"]

    def ledger_rows(self, case_id: str, entries: tuple[str, ...] = CORRECTIONS) -> list[Row]:
        """(program, period, entry, amount, due_on, corrects, cause) of the rows of `entries`, in
        due order (by default the corrections)."""
        return [(p.program, p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause)
                for p in sorted(self.payments(case_id), key=lambda p: (p.due_on, p.program, p.period, p.entry, p.seq))
                if p.entry in entries]

    def rows(self, case_id: str, entries: tuple[str, ...] = CORRECTIONS) -> list[LedgerRow]:
        """A one-program case's rows of `entries` (default: the corrections), in due order:
        (period, entry, amount, due_on, corrects, cause)."""
        ledger = sorted(self.payments(case_id), key=lambda p: (p.due_on, p.period, p.entry, p.seq))
        return [(p.period, p.entry, p.amount, p.due_on, p.corrects, p.cause) for p in ledger if p.entry in entries]

    def worth(self, case_id: str) -> dict[tuple[str, str], int]:
        """Original + corrections per (program, period): what the payee is owed so far (EVENTS.md
        "simulate": payment and arrears minus overpayment; a deduction only moves money)."""
        total: dict[tuple[str, str], int] = defaultdict(int)
        for p in self.payments(case_id):
            total[(p.program, p.period)] += WORTH_SIGN[p.entry] * p.amount
        return dict(total)

    def worth_by_period(self, case_id: str) -> dict[str, int]:
        """`worth` of a one-program case, per period."""
        return {period: amount for (_, period), amount in self.worth(case_id).items()}


def _instant(when: date | datetime) -> datetime:
    return when if isinstance(when, datetime) else at(when)


@asynccontextmanager
async def world(
    env: WorkflowEnvironment, first_day: date, history_limit: int | None = None, replace: type[Any] | None = None
) -> AsyncIterator[World]:
    """A worker on a fresh uuid task queue whose business clock starts the day before `first_day`.
    `replace`: a test subclass registered instead of the shipped workflow of its kind (one that
    stretches a step to make a race happen on cue).

    Cases still open at the end are terminated: their timers would otherwise wait for a worker
    that is gone and stop the shared time-skipping server from skipping for the next test."""
    pack = load_pack()
    store = MemoryStore()
    queue = f"test-{uuid.uuid4()}"
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
        w = World(env, store, intake, queue, offset)
        try:
            yield w
        finally:
            await _terminate_open_cases(env, w.case_ids())


async def _terminate_open_cases(env: WorkflowEnvironment, ids: set[str]) -> None:
    for case_id in sorted(ids):
        try:
            await env.client.get_workflow_handle(case_id).terminate(reason="test finished")
        except Exception:  # already closed, or never started: nothing to stop
            pass


def event_key(outcome: Outcome) -> str:
    """The `source#id` of the event an intake outcome delivered: the cause a correction names."""
    assert outcome.event is not None
    return f"{outcome.event.source}#{outcome.event.id}"


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


# -- event data ------------------------------------------------------------------------------------
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


def internship_case_id(person: str, unit: str, starts_on: date) -> str:
    """The business key streams/routes/internship.py gives a K1 case."""
    return kinds.internship_case_id(person, unit, starts_on)


def agreement(person: str, unit: str, starts_on: date, months: int, cohort: int = 2020, city: str = "2101") -> dict[str, Any]:
    """`internship.agreement_signed` data (K1)."""
    return {"person_id": person, "unit_id": unit, "city": city, "starts_on": starts_on.isoformat(), "months": months, "cohort": cohort}


# -- the events of K6 (hiring subsidy), with the subjects real producers use ----------------------
async def epidemic_declared(w: World, on: date) -> Outcome:
    return await w.send("policy.epidemic.declared", {"on": on.isoformat()}, at(on), subject="province/21", source="gov/21")


async def epidemic_lifted(w: World, on: date, when: date | None = None) -> Outcome:
    return await w.send("policy.epidemic.lifted", {"on": on.isoformat()}, at(when or on), subject="province/21", source="gov/21")


async def enterprise(w: World, enterprise_id: str, supplies: bool | None, on: date) -> Outcome:
    data: dict[str, Any] = {"enterprise_id": enterprise_id, "city": "2101", "industry": "manufacturing", "size": "medium"}
    if supplies is not None:
        data["epidemic_supplies"] = supplies
    return await w.send("enterprise.registered", data, at(on), subject=f"enterprise/{enterprise_id}", source="mr/2101")


async def hire(
    w: World, person: str, employer: str, signed_on: date, term: int | None = 12, *, starts_on: date | None = None,
    agency: str | None = None, graduation_year: int | None = None,
) -> Outcome:
    """`contract.signed` as the labour contract registry sends it."""
    data: dict[str, Any] = {
        "person_id": person, "employer_id": employer, "signed_on": signed_on.isoformat(),
        "starts_on": (starts_on or signed_on).isoformat(), "term_months": term,
    }
    if agency:
        data["referred_by_agency"] = agency
    if graduation_year:
        data["graduation_year"] = graduation_year
    return await w.send("contract.signed", data, at(signed_on, 10), source="lc/2101")


async def employer_contribution(w: World, person: str, employer: str, month: str, paid_on: date, employer_amount: int = 50000) -> Outcome:
    data = {
        "person_id": person, "month": month, "employer_id": employer, "base": 400000,
        "employer_amount": employer_amount, "employee_amount": 16000, "insurances": ["pension", "unemployment"],
    }
    return await w.send("contribution.paid", data, at(paid_on, 11), source="si/2101")


async def hiring_application(w: World, employer: str, on: date, persons: list[str]) -> Outcome:
    data = {"program": "hiring_epidemic", "applicant": employer, "on": on.isoformat(), "details": {"enterprise_id": employer, "person_ids": persons}}
    return await w.send("application.submitted", data, at(on, 12), subject=f"enterprise/{employer}", source="es/2101")


async def contract_terminated(w: World, person: str, employer: str, on: date) -> Outcome:
    return await w.send("contract.terminated", {"person_id": person, "employer_id": employer, "on": on.isoformat()}, at(on, 13),
                        source="lc/2101")


async def unemployed(w: World, person: str, on: date) -> Outcome:
    """`unemployment.registered` as the registry sends it."""
    data = {"person_id": person, "city": "2101", "registered_on": on.isoformat(), "birth_date": "1990-01-01", "retirement_date": "2050-01-01"}
    return await w.send("unemployment.registered", data, at(on), source="ru/2101")


__all__ = [
    "CORRECTIONS", "INTERNSHIP", "LedgerRow", "Row", "SCENARIOS", "World", "agreement", "at", "contract_terminated",
    "employer_contribution", "enterprise", "epidemic_declared", "epidemic_lifted", "event_key", "hire", "hiring_application",
    "internship_case_id", "registered", "scenario_of_kind", "unemployed", "world",
]
