"""Faults 5 and 3 of issue 6 on the real stack: a shared service stopped and restarted while a
load is being applied. These tests stop services everyone on the machine uses: run them only
under the e2e lock (`flock /tmp/jiuye-e2e.lock …`); each restarts what it stopped, also when
it fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import pytest
from temporalio.client import WorkflowExecutionStatus

from contracts.cases import CaseView
from contracts.settings import get_settings
from deploy import stack
from deploy.stack import kafka as kafka_stack
from deploy.stack import postgres as postgres_stack
from deploy.stack.common import running_pid
from policy.calendar import add_months
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.faults._invariants import check_invariants, record_figures
from tests.faults._load import Internship, internships

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

PERSONS = 150
RUNNING = 20  # fault 3: open cases waiting on timers while Temporal restarts


async def payments_at_least(system: System, n: int) -> int:
    async def written() -> int:
        count = await system.pool.fetchval("SELECT count(*) FROM ledger")
        assert count >= n, f"{count} of {n} payments written so far"
        return int(count)

    return await assert_eventually(written, timeout=120, interval=0.05)


def stop_postgres_immediately() -> None:
    """`pg_ctlcluster … stop -m immediate`: no checkpoint, every session cut (a crash)."""
    cluster = postgres_stack._find_cluster()
    assert cluster is not None and cluster.online, "PostgreSQL is not running"
    subprocess.run(postgres_stack._as_postgres(["pg_ctlcluster", cluster.version, postgres_stack.CLUSTER, "stop", "-m", "immediate"]),
                   check=True, capture_output=True, timeout=60)


async def test_f5_postgres_stopped_immediately_while_payments_are_written(system: System) -> None:
    started = time.monotonic()
    load = internships(system.tag, PERSONS, system.pack)
    await system.emit(load.lines)
    at_stop = await payments_at_least(system, len(load.lines))  # a quarter of the 1,200 payments
    base = get_settings()
    try:
        await asyncio.to_thread(stop_postgres_immediately)
        await asyncio.sleep(5)  # activities and the intake fail meanwhile and retry
    finally:
        await asyncio.to_thread(stack.up, base, ["postgres"])
    await system.settled(timeout=240)
    figures = await check_invariants(system, load, "5 PostgreSQL stopped (immediate) and restarted", started=started,
                                     timeout=240)
    figures.notes["ledger_rows_at_stop"] = at_stop
    record_figures(figures)


async def test_f3_temporal_dev_server_restarted_with_cases_and_timers_running(system: System) -> None:
    started = time.monotonic()
    load = internships(system.tag, PERSONS, system.pack)
    # The judged load's case ids start internship/F<tag>0…; the running ones below (F<tag>R…) are
    # checked on their own: they stay open, each waiting on a timer for its next month.
    load.scope = f"internship/F{system.tag}0"
    running = [Internship(system.tag + "R", n, system.pack) for n in range(RUNNING)]
    for r in running:  # their agreements are events of the load too: applied exactly once
        load.add(r.signed())
    await system.emit(load.lines)
    at_stop = await payments_at_least(system, len(load.lines))
    base = get_settings()
    try:
        await asyncio.to_thread(stack.down, base, ["temporal"])
        await asyncio.sleep(3)
    finally:
        await asyncio.to_thread(stack.up, base, ["temporal"])  # same SQLite file
    await system.settled(timeout=240)
    figures = await check_invariants(system, load, "3 Temporal dev server stopped and restarted", started=started,
                                     timeout=240)
    figures.notes["ledger_rows_at_stop"] = at_stop
    figures.notes["open_cases_with_timers_across_the_restart"] = await _still_waiting(system, running)
    record_figures(figures)


async def _still_waiting(system: System, running: list[Internship]) -> int:
    """The running cases survived the restart: still running, paid their completed months once,
    and waiting for the end of the next month (their timer) — answered by the `state` query."""

    async def waiting() -> int:
        for r in running:
            handle = system.client.get_workflow_handle(r.case_id)
            described = await handle.describe()
            assert described.status == WorkflowExecutionStatus.RUNNING, f"{r.case_id} {described.status.name}"
            view = await handle.query("state", result_type=CaseView)
            months = len(r.expected_payments())
            assert view.status == "active" and view.next_deadline == add_months(r.starts_on, months + 1), \
                f"{r.case_id}: {view.status}, next deadline {view.next_deadline}"
            rows = await system.pool.fetch("SELECT period, amount_fen FROM ledger WHERE case_id = $1", r.case_id)
            assert sorted((x["period"], x["amount_fen"]) for x in rows) == sorted(r.expected_payments()), r.case_id
        return len(running)

    return await assert_eventually(waiting, timeout=120, interval=0.5)


def _gone(pid: int):
    async def check() -> None:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{pid}/stat") as stat:  # a zombie (killed, not yet reaped) counts as gone
            assert stat.read().split()[2] == "Z", f"pid {pid} still running"

    return check


async def test_f4_kafka_broker_killed_and_restarted(system: System) -> None:
    started = time.monotonic()
    load = internships(system.tag, PERSONS, system.pack)
    first, second = load.lines[: len(load.lines) // 2], load.lines[len(load.lines) // 2:]
    await system.emit(first, name="first.jsonl")
    at_stop = await payments_at_least(system, len(first))
    base = get_settings()
    try:
        # Killed, not shut down: no controlled shutdown, the log is recovered at the restart.
        pid = running_pid(kafka_stack._paths(base)["pid"], kafka_stack._MARKER)
        assert pid is not None, "the stack's Kafka broker is not running"
        os.kill(pid, signal.SIGKILL)
        await assert_eventually(_gone(pid), timeout=30)
        await asyncio.sleep(3)
    finally:
        await asyncio.to_thread(stack.up, base, ["kafka"])
    await system.emit(second, name="second.jsonl")  # the sources go on once the broker is back
    await system.settled(timeout=240)
    figures = await check_invariants(system, load, "4 Kafka broker SIGKILLed and restarted", started=started, timeout=240)
    figures.notes["ledger_rows_at_stop"] = at_stop
    record_figures(figures)
