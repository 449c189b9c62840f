"""Faults 12–16 (issue 15, POLICY.md part 2 "Disbursement") on the real stack: payees with
accounts (through the real intake), one paying ledger row each, the desk's schedule turning them
into instructions, the outbox relay publishing them on payments.instructions, and the answers on
payments.results taken by the real intake — with the treasury misbehaving or a process or service
failing in between. Every test ends with the invariants (tests/faults/_invariants.py), 6 included:
each key settled at most once, each instruction in exactly one final state, and money instructed
= settled + returned + in flight.

The treasury here is the test itself, a labelled stand-in for the external party: it reads what
was instructed and produces `payment.settled` / `payment.returned` records, as a bank would.
Only subprocesses these tests started are killed, by pid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import pytest

from activities.disbursement_desk import DisbursementDesk
from activities.disbursement_runner import DisbursementRunner
from activities.pg_store import PgStore
from activities.store import lifecycle_event
from contracts.cases import PaymentRequest
from contracts.settings import get_settings, settings_env
from contracts.topics import PAYMENT_INSTRUCTIONS
from deploy import stack
from deploy.stack import kafka as kafka_stack
from deploy.stack.common import running_pid
from policy import disbursement as rules
from testkit.events import cloud_event, line
from testkit.processes import Process
from tests.e2e.conftest import System, TopicTail
from tests.e2e.helpers import assert_eventually, business_today
from tests.faults import _processes
from tests.faults._invariants import check_invariants, record_figures
from tests.faults._load import Load

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

PAYEES = 20
CITY = "2101"
FUND = "employment_subsidy_fund"


class Disbursing:
    """The scenario every fault shares: PAYEES payees, each with an account and one ledger row due
    today; `load` records every event sent and the ledger rows the invariants expect."""

    def __init__(self, system: System, load: Load):
        self.system = system
        self.load = load
        self.store = PgStore(system.pool)
        self.today = business_today()
        self.keys: list[str] = []
        self.results = 0

    def payee(self, n: int) -> str:
        return f"person/PF-{self.system.tag}-{n}"

    async def accounts_and_ledger(self) -> None:
        lines = []
        for n in range(PAYEES):
            payee = self.payee(n)
            lines.append(self.load.add(line(cloud_event(
                source="bank/2101", id=f"acct-{self.system.tag}-{n}", type="payee.account_registered", subject=payee,
                on=self.today, data={"payee": payee, "bank": "B1", "account_number": f"6222{n:012d}",
                                     "holder_name": "测试", "on": self.today.isoformat()}))))
        await self.system.emit(lines, name="accounts.jsonl")
        await self.system.settled()
        for n in range(PAYEES):
            case_id, amount = f"internship/PF-{self.system.tag}-{n}/U1", 100000 + n
            payment = PaymentRequest(case_id=case_id, kind="internship_subsidy", payee=self.payee(n), program="internship",
                                     period="month-1", amount=amount, fund=FUND, due_on=self.today, city=CITY, rule="§14")
            await self.store.pay(payment, lifecycle_event(f"{case_id}:month-1", "payment", case_id, {"amount": amount}))
            self.load.payments[case_id] = [("month-1", amount)]
            self.keys.append(rules.ledger_key_of(case_id, "internship", "month-1", "payment", 0))

    @contextlib.asynccontextmanager
    async def desk_schedule(self, today: Callable[[], date] | None = None) -> AsyncIterator[DisbursementRunner]:
        """The worker's disbursement schedule, in this process, on the business date `today()`."""
        clock = today or (lambda: self.today)
        runner = DisbursementRunner(DisbursementDesk(self.store, self.system.pack, None, clock=clock), 0.3, clock)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            yield runner
        finally:
            stop.set()
            await task

    async def instructed(self, published: bool = True) -> list[dict[str, Any]]:
        """Every key's instruction, once written (and published, if `published`)."""
        async def all_there() -> list[dict[str, Any]]:
            rows = await self.system.pool.fetch(
                """SELECT i.instruction_id, i.ledger_key, i.amount_fen, d.payee, o.published_at IS NOT NULL AS published
                     FROM payment_instructions i JOIN disbursements d USING (ledger_key)
                     JOIN outbox o ON o.value->>'id' = i.instruction_id
                    WHERE o.topic = 'payments.instructions'""")
            assert len({r["ledger_key"] for r in rows}) == PAYEES, f"{len(rows)} of {PAYEES} instructed"
            if published:
                assert all(r["published"] for r in rows), "not all published yet"
            return [dict(r) for r in rows]

        return await assert_eventually(all_there, timeout=120, interval=0.05)

    def answer(self, instructed: dict[str, Any], type_: str, on: date, **extra: Any) -> bytes:
        """The stand-in treasury's answer to an instruction (a row of `instructed` or the data of
        its event), a new event id each time, as a bank's second message would have."""
        self.results += 1
        instruction_id = instructed["instruction_id"]
        return self.load.add(line(cloud_event(
            source="treasury/2101", id=f"res-{self.system.tag}-{self.results}", type=type_, subject=instructed["payee"],
            on=on, data={"instruction_id": instruction_id, "on": on.isoformat(), **extra})))

    async def statuses(self) -> dict[str, str]:
        rows = await self.system.pool.fetch("SELECT ledger_key, status FROM disbursements")
        return {r["ledger_key"]: r["status"] for r in rows}

    async def all_settled(self) -> None:
        async def settled() -> None:
            statuses = await self.statuses()
            assert [statuses.get(k) for k in self.keys] == ["settled"] * PAYEES, statuses

        await assert_eventually(settled, timeout=120, interval=0.2)


async def started_disbursing(system: System) -> Disbursing:
    scenario = Disbursing(system, Load())
    await system.start_intake()
    await scenario.accounts_and_ledger()
    return scenario


async def test_f12_the_treasury_answers_every_instruction_twice(bare_system: System) -> None:
    """Each instruction settled, then settled again by a second message with another id: the
    key is settled once (the same instruction's answer again moves nothing: no recovery item)."""
    system, started = bare_system, time.monotonic()
    scenario = await started_disbursing(system)
    async with scenario.desk_schedule():
        instructed = await scenario.instructed()
    answers = [scenario.answer(r, "payment.settled", scenario.today) for r in instructed]
    await system.emit(answers + [scenario.answer(r, "payment.settled", scenario.today) for r in instructed],
                      name="results.jsonl")
    await system.settled()
    await scenario.all_settled()
    figures = await check_invariants(system, scenario.load, "12 treasury answers every instruction twice", started=started)
    assert await system.pool.fetchval("SELECT count(*) FROM disbursement_recoveries") == 0
    figures.notes["answers"] = 2 * len(instructed)
    record_figures(figures)


async def test_f13_the_treasury_answers_out_of_order(bare_system: System) -> None:
    """The stand-in answers as soon as an instruction is written, before the relay records it as
    sent (published) where it wins that race; the answers arrive in reverse order, dated the day
    before the instruction; and half the instructions get a stale `returned` after their
    `settled`. Every key settles once; a return after the settlement does not move it."""
    system, started = bare_system, time.monotonic()
    scenario = await started_disbursing(system)
    async with scenario.desk_schedule():
        written = await scenario.instructed(published=False)
        unpublished_at_answer = sum(1 for r in written if not r["published"])
        yesterday = scenario.today - timedelta(days=1)
        settled = [scenario.answer(r, "payment.settled", yesterday) for r in reversed(written)]
        stale = [scenario.answer(r, "payment.returned", yesterday, reason="other") for r in written[::2]]
        await system.emit(settled + stale, name="results.jsonl")
        await system.settled()
        await scenario.all_settled()
    figures = await check_invariants(system, scenario.load, "13 treasury answers out of order", started=started)
    figures.notes["instructions_unpublished_when_answered"] = unpublished_at_answer
    record_figures(figures)


async def test_f14_the_treasury_never_answers(bare_system: System) -> None:
    """No answer at all: after `disbursement.result_days` (the desk's clock moved on, the days
    being the parameter in force for the city) each key raises one `payment_unconfirmed` task,
    and its money stays in flight."""
    system, started = bare_system, time.monotonic()
    scenario = await started_disbursing(system)
    day = {"today": scenario.today}
    async with scenario.desk_schedule(lambda: day["today"]) as runner:
        await scenario.instructed()
        limits = await runner.desk.limits(CITY, scenario.today)
        day["today"] = scenario.today + timedelta(days=limits.result_days - 1)
        before = runner.passes  # a pass under way may have read the day before: two more passes
        await assert_eventually(lambda: _passes_after(runner, before + 1), timeout=30)
        assert await system.pool.fetchval("SELECT count(*) FROM tasks WHERE kind = 'payment_unconfirmed'") == 0
        day["today"] = scenario.today + timedelta(days=limits.result_days)

        async def raised() -> None:
            n = await system.pool.fetchval("SELECT count(*) FROM tasks WHERE kind = 'payment_unconfirmed'")
            assert n == PAYEES, f"{n} of {PAYEES} payment_unconfirmed tasks"

        await assert_eventually(raised, timeout=60)
        passes = runner.passes
        await assert_eventually(lambda: _passes_after(runner, passes + 2), timeout=30)  # more days pass: no task twice
    assert await system.pool.fetchval("SELECT count(*) FROM tasks WHERE kind = 'payment_unconfirmed'") == PAYEES
    assert set((await scenario.statuses()).values()) == {"instructed"}
    figures = await check_invariants(system, scenario.load, "14 treasury never answers (payment_unconfirmed)", started=started)
    assert figures.notes["disbursement_fen"]["in_flight"] == sum(100000 + n for n in range(PAYEES))
    figures.notes["result_days"] = limits.result_days
    record_figures(figures)


async def _passes_after(runner: DisbursementRunner, passes: int) -> None:
    assert runner.passes > passes, f"{runner.passes} passes"


async def test_f15_worker_killed_between_writing_instructions_and_publishing_them(bare_system: System) -> None:
    """A `jiuye worker` whose disbursement schedule SIGKILLs it right after the transaction of its
    N-th instruction committed, before its own relay published it. The instruction and its outbox
    row were written together; a relay (here the test's) publishes it once, a restarted worker
    takes the keys left, and the treasury settles every one."""
    system, started = bare_system, time.monotonic()
    scenario = await started_disbursing(system)
    env = {"JIUYE_DISBURSEMENT_INTERVAL_SECONDS": "0.3"}
    killing = Process("worker-killed", [sys.executable, "-m", "tests.faults._killing_worker"],
                      settings_env(system.settings, JIUYE_FAULT_KILL_AFTER_INSTRUCTIONS=str(PAYEES // 2), **env), system.folder)
    try:
        await assert_eventually(lambda: _exited(killing), timeout=120, interval=0.2)
    finally:
        killing.stop()
    at_kill = await system.pool.fetchval("SELECT count(*) FROM payment_instructions")
    worker = _processes.worker(system.settings.model_copy(update={"disbursement_interval_seconds": 0.3}), system.folder)
    try:
        instructed = await scenario.instructed()
        await system.emit([scenario.answer(r, "payment.settled", scenario.today) for r in instructed],
                          name="results.jsonl")
        await system.settled()
        await scenario.all_settled()
    finally:
        worker.stop()
    figures = await check_invariants(system, scenario.load, "15 worker killed between instruction and publish", started=started)
    figures.notes["instructions_at_kill"] = at_kill
    record_figures(figures)


async def _exited(process: Process) -> None:
    assert not process.alive(), "still running"


async def test_f16_kafka_restarted_between_instruction_and_result(bare_system: System) -> None:
    """Instructions published; the broker is SIGKILLed and restarted before the treasury answers;
    the answers then come on the restarted broker and every key settles once."""
    system, started = bare_system, time.monotonic()
    scenario = await started_disbursing(system)
    tail = TopicTail(system.settings, [PAYMENT_INSTRUCTIONS])
    await tail.start(system.kafka)
    try:
        async with scenario.desk_schedule():
            await scenario.instructed()

            async def seen() -> list[dict[str, Any]]:
                events = [json.loads(r.value) for r in tail.of(PAYMENT_INSTRUCTIONS)]
                mine = [e for e in events if e["type"] == "payment.instructed" and e["data"]["payee"].startswith(f"person/PF-{system.tag}-")]
                assert len(mine) == PAYEES, f"{len(mine)} of {PAYEES} instructions seen by the treasury"
                return mine

            received = await assert_eventually(seen, timeout=60)
            base = get_settings()
            try:
                pid = running_pid(kafka_stack._paths(base)["pid"], kafka_stack._MARKER)
                assert pid is not None, "the stack's Kafka broker is not running"
                os.kill(pid, signal.SIGKILL)
                await assert_eventually(lambda: _gone(pid), timeout=30)
            finally:
                await asyncio.to_thread(stack.up, base, ["kafka"])
            await system.emit([scenario.answer(e["data"], "payment.settled", scenario.today) for e in received],
                              name="results.jsonl")
            await system.settled(timeout=240)
            await scenario.all_settled()
    finally:
        await tail.stop()
    figures = await check_invariants(system, scenario.load, "16 Kafka restarted between instruction and result", started=started,
                                     timeout=240)
    record_figures(figures)


async def _gone(pid: int) -> None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"pid {pid} still alive")
