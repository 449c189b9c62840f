"""Faults 1 and 2 of issue 6 and fault 11 of issue 13 on the real stack: a process of ours
killed with SIGKILL at the worst moment, restarted, and the five invariants checked
(tests/faults/_invariants.py).

Only subprocesses these tests started are killed, by pid.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiokafka import TopicPartition

from contracts.topics import INPUT_TOPICS
from policy.monthly_schedule import month_number
from streams.app import IntakeRuntime
from testkit.processes import Process
from tests.e2e.conftest import System
from tests.e2e.helpers import assert_eventually
from tests.faults import _processes
from tests.faults._invariants import check_invariants, record_figures
from tests.faults._load import claims, internships

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

# A SIGKILLed member stays in its group until the session timeout (streams_session_timeout_ms),
# so every kill costs the restarted process that long before it is assigned partitions.
KILLS = 1


@contextmanager
def stopped_at_end() -> Iterator[list[Process]]:
    """A list to put started processes in; each is stopped (SIGTERM, by pid) at the end."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


async def committed_progress(system: System, before: dict[TopicPartition, int]) -> int:
    """Records of the input topics the group committed since `before`."""
    total = 0
    for tp, start in before.items():
        offset = await system.kafka.committed(system.settings.consumer_group, tp)
        total += max(0, (offset or start) - start)
    return total


async def test_f2_stream_processor_killed_between_inbox_write_and_offset_commit(bare_system: System) -> None:
    """`jiuye streams` is SIGKILLed (KILLS times) while a load flows; each time the inbox already
    holds records whose offsets the group has not committed (the window between the inbox write
    and the offset commit — checked at the kill). The next process gets them again: finished ones
    are duplicates, a claimed-but-unfinished one is handled again."""
    system, started = bare_system, time.monotonic()
    persons = 300
    load = internships(system.tag, persons, system.pack)
    before = await system.kafka.ends(INPUT_TOPICS)
    in_window = 0
    with stopped_at_end() as running:
        running.append(_processes.streams(system.settings, system.folder, "streams-1"))
        await system.emit(load.lines)
        for kill in range(1, KILLS + 1):
            target = len(load.lines) * kill // (KILLS + 1)
            current = running[-1]

            async def progressed() -> int:
                done = await system.pool.fetchval("SELECT count(*) FROM inbox")
                assert done >= target, f"inbox {done}/{target}; {current.name} log:\n{current.tail(5)}"  # noqa: B023 (awaited in the iteration)
                return int(done)

            await assert_eventually(progressed, timeout=120, interval=0.05)
            inbox = await system.pool.fetchval("SELECT count(*) FROM inbox")
            committed = await committed_progress(system, before)
            current.kill()
            in_window += max(0, inbox - committed)
            running.append(_processes.streams(system.settings, system.folder, f"streams-{kill + 1}"))
        # Offsets are committed every few seconds, records are handled in milliseconds: each
        # kill left records in the inbox that the group had not committed.
        assert in_window > 0, "no kill fell between an inbox write and its offset commit"
        await system.settled(timeout=240)
        figures = await check_invariants(system, load, "2 stream processor SIGKILLed", started=started)
        figures.duplicates_absorbed = in_window  # records handled before a kill and delivered again after it
        figures.notes["kills"] = KILLS
        figures.notes["inbox_ahead_of_commit_at_kill"] = in_window
        record_figures(figures)


async def test_f1_worker_killed_after_the_ledger_write_before_the_activity_completes(bare_system: System) -> None:
    """The worker subprocess SIGKILLs itself right after the 100th payment's ledger row was
    committed, before the `pay` activity could report back. Temporal times the activity out
    (30 s) and a fresh worker runs it again: the ledger key absorbs it, the case goes on."""
    system, started = bare_system, time.monotonic()
    persons = 60
    load = internships(system.tag, persons, system.pack)
    # The in-process worker of the fixture polls the fixture's task queue; the cases of this test
    # run on a queue only the subprocess workers poll.
    settings = system.settings.model_copy(update={"temporal_task_queue": f"{system.settings.temporal_task_queue}-sub"})
    await system.start_intake(IntakeRuntime(settings))
    with stopped_at_end() as running:
        dying = _processes.worker(settings, system.folder, "worker-dying", kill_after_payments=100)
        running.append(dying)
        await system.emit(load.lines)
        code = await dying.died(timeout=180)
        assert code == -9, f"worker ended with {code}, not SIGKILL:\n{dying.tail()}"
        assert "fault: SIGKILL after committing" in dying.tail()
        paid_at_kill = await system.pool.fetchval("SELECT count(*) FROM ledger")
        assert paid_at_kill >= 100
        running.append(_processes.worker(settings, system.folder, "worker-2"))
        await system.settled(timeout=120)
        figures = await check_invariants(system, load, "1 worker SIGKILLed after ledger write", started=started, timeout=240)
        figures.notes["ledger_rows_at_kill"] = int(paid_at_kill)
        record_figures(figures)


async def test_f11_worker_killed_while_writing_a_correction(bare_system: System) -> None:
    """K2 claims filed months ago are paid their benefit months; then each person's
    re-employment, dated in the second benefit month, is reported, and each case reconciles:
    one overpayment row per month after it (months 3..5), written one `pay` activity after the
    other. The worker subprocess SIGKILLs itself right after committing the first overpayment of
    the `KILL_AT`-th case, so that reconciliation is cut between two of its rows. A fresh worker
    replays the case and reconciles again: the committed row is absorbed by its ledger key, the
    missing ones are written, each row exactly once, and original + corrections = what the facts
    give (the benefit of months 1 and 2; 0 for the months after the re-employment)."""
    system, started = bare_system, time.monotonic()
    persons, kill_at = 20, 6
    load, filed, reemployed = claims(system.tag, persons, system.pack)
    # The first row each reconciliation writes: the overpayment of the first month not owed.
    first_overpaid = min((period for rows in load.corrections.values() for period, _, _ in rows), key=month_number)
    settings = system.settings.model_copy(update={"temporal_task_queue": f"{system.settings.temporal_task_queue}-sub"})
    await system.start_intake(IntakeRuntime(settings))
    originals = sum(len(p) for p in load.payments.values())
    with stopped_at_end() as running:
        dying = _processes.worker(settings, system.folder, "worker-dying", kill_after_payments=kill_at,
                             kill_on=("overpayment", first_overpaid))
        running.append(dying)
        await system.emit(filed, "claims.jsonl")

        async def paid() -> None:
            n = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE entry = 'payment'")
            assert n == originals, f"{n}/{originals} benefit months paid; worker log:\n{dying.tail(5)}"

        await assert_eventually(paid, timeout=180, interval=0.5)
        await system.emit(reemployed, "reemployed.jsonl")
        code = await dying.died(timeout=180)
        assert code == -9, f"worker ended with {code}, not SIGKILL:\n{dying.tail()}"
        killed = [ln for ln in dying.tail().splitlines() if "fault: SIGKILL after committing" in ln]
        assert killed, dying.tail()
        cut = killed[-1].split()[4]  # the case whose reconciliation was cut
        rows_of_cut = await system.pool.fetch(
            "SELECT period FROM ledger WHERE case_id = $1 AND entry = 'overpayment'", cut)
        # Cut between two rows: its first overpayment is committed, the later ones are not.
        assert [r["period"] for r in rows_of_cut] == [first_overpaid], (cut, rows_of_cut)
        assert len(load.corrections[cut]) > 1, "the reconciliation writes one row only: nothing to cut between"
        corrections_at_kill = await system.pool.fetchval("SELECT count(*) FROM ledger WHERE entry <> 'payment'")
        running.append(_processes.worker(settings, system.folder, "worker-2"))
        await system.settled(timeout=120)
        figures = await check_invariants(system, load, "11 worker SIGKILLed while writing a correction", started=started,
                                         timeout=240)
        tasks = await system.pool.fetch("SELECT case_id, kind, details FROM tasks WHERE case_id LIKE 'ui/%'")
        # What is left to recover when the case closes: one overpayment_recovery task per case.
        assert sorted((t["case_id"], t["kind"], t["details"]["amount"]) for t in tasks) == sorted(
            (case, "overpayment_recovery", sum(a for _, _, a in rows)) for case, rows in load.corrections.items())
        figures.notes["corrections_at_kill"] = int(corrections_at_kill)
        figures.notes["corrections"] = sum(len(rows) for rows in load.corrections.values())
        figures.notes["cut_reconciliation"] = cut
        record_figures(figures)
