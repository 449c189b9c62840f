"""capacity: the highest constant offered rate at which the whole path — Kafka → `jiuye streams`
→ Temporal → `jiuye worker` → ledger row — keeps up, against the raw one-local-activity workflow
rate on the same server (bench/raw_workflow.py; target: ratio ≥ 0.8).

Both in one isolated run:
1. raw — `raw_n` BenchOneLocalActivity workflows started from one client, at most
   `intake_max_in_flight` starts in flight, on a worker subprocess of their own; time from the
   first start until visibility counts all of them completed (polled every 0.1 s): workflows settled per second, the server's and SDK's ceiling.
2. capacity — K11 applications (each opens a case that pays on the day: one ledger row) sent one
   by one at a constant rate for `hold` seconds (the producer lingering 0 ms). A step keeps up when
   every application of it has its ledger row within `GRACE` seconds of the last emit (and the
   producer held the pace); the backlog drains before the next step. The rate starts at a quarter
   of the raw rate, grows ×1.5 while steps keep up, halves while they do not, then bisects
   between the best rate that kept up and the lowest that did not.
The issue asks for a 60 s hold (`--size full`); `--size small` holds 15 s per step.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from bench.events import hubei_application
from bench.harness import BenchRun, say, wait_for
from bench.raw_workflow import RAW_QUEUE_SUFFIX, OneLocalActivity
from contracts.kafka import make_producer
from contracts.settings import Settings, settings_env
from policy.pack import PolicyPack, load_pack
from testkit.processes import Process

TARGET_RATIO = 0.8
GRACE = 2.0        # seconds after the last emit within which every row of a step must be paid
BISECTIONS = 2     # after the first step that does not keep up
MAX_STEPS = 9
MIN_RATE = 1.0


async def run(base: Settings, hold: int, raw_n: int, progress: bool = True) -> dict[str, Any]:
    pack = load_pack(base.policy_pack)
    async with BenchRun(base, "capacity") as run_:
        await run_.start_worker()
        await run_.start_streams(["employment.service"])
        raw = Process("raw-worker", [sys.executable, "-m", "bench.raw_workflow"], settings_env(run_.settings), run_.folder)
        run_.processes.append(raw)
        say(f"capacity: raw baseline, {raw_n} one-local-activity workflows")
        raw_seconds = await _raw(run_, raw, raw_n)
        raw.stop()  # its core back to the path under test
        raw_rate = raw_n / raw_seconds
        say(f"capacity: raw {raw_rate:,.1f} workflows/s; stepping the offered rate, {hold} s a step")

        steps: list[dict[str, Any]] = []
        producer = make_producer(run_.settings, linger_ms=0)
        await producer.start()
        try:
            rate = max(MIN_RATE, raw_rate / 4)
            best: float | None = None
            worst: float | None = None
            bisections = 0
            while len(steps) < MAX_STEPS:
                bisection = best is not None and worst is not None
                step = await _step(run_, producer, pack, rate, hold, len(steps), bisection)
                steps.append(step)
                say(f"  {rate:,.1f}/s{' (bisection)' if bisection else ''}: "
                    f"{'kept up' if step['kept_up'] else 'fell behind'} ({step['paid_in_time']}/{step['n']} "
                    f"paid within {GRACE:g} s of the last emit, sent at {step['sent_per_s']}/s)")
                if step["kept_up"]:
                    best = rate if best is None else max(best, rate)
                else:
                    worst = rate if worst is None else min(worst, rate)
                bisections += bisection
                if best is not None and worst is not None:
                    if bisections >= BISECTIONS:
                        break
                    rate = (best + worst) / 2
                elif worst is None:
                    rate *= 1.5
                elif rate <= MIN_RATE:
                    break
                else:
                    rate = max(MIN_RATE, rate / 2)
        finally:
            await producer.stop()
        workflows = await run_.workflow_count()
    capacity = best or 0.0
    ratio = capacity / raw_rate
    return {
        "benchmark": "capacity", "hold_seconds": hold, "grace_seconds": GRACE,
        "capacity_per_s": round(capacity, 1), "raw_per_s": round(raw_rate, 1), "ratio": round(ratio, 3),
        "raw_n": raw_n, "raw_seconds": round(raw_seconds, 2), "fell_behind_at_per_s": round(worst, 1) if worst else None,
        "steps": steps, "workflows": workflows,
        "target": f"ratio ≥ {TARGET_RATIO}", "met": ratio >= TARGET_RATIO,
    }


async def _raw(run_: BenchRun, raw: Process, n: int) -> float:
    """Seconds from the first start to the last result of `n` one-local-activity workflows."""
    client = run_.client
    assert client is not None
    task_queue = run_.settings.temporal_task_queue + RAW_QUEUE_SUFFIX
    slots = asyncio.Semaphore(run_.settings.intake_max_in_flight)
    # The raw worker is up once it answers a first workflow (not timed).
    await asyncio.wait_for(client.execute_workflow(OneLocalActivity.run, -1, id=f"raw-{run_.tag}-warm",
                                                   task_queue=task_queue), timeout=120)
    raw.check()

    async def one(i: int) -> None:
        async with slots:
            await client.start_workflow(OneLocalActivity.run, i, id=f"raw-{run_.tag}-{i}", task_queue=task_queue)

    # Completions are counted in visibility (polled) rather than awaited one by one: a thousand
    # result long-polls on the server would be load the path under test does not have.
    query = f'TaskQueue = "{task_queue}" AND ExecutionStatus = "Completed"'

    async def completed() -> bool:
        raw.check()
        return (await client.count_workflows(query)).count >= n + 1  # with the warm-up one

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    await wait_for(completed, f"{n} raw workflows to complete", timeout=max(300, n), interval=0.1)
    return time.perf_counter() - started


async def _ledger(run_: BenchRun) -> int:
    return await run_.count("SELECT count(*) FROM ledger")


async def _step(run_: BenchRun, producer: Any, pack: PolicyPack, rate: float, hold: int, number: int,
                bisection: bool) -> dict[str, Any]:
    """Offer `rate` applications a second for `hold` seconds; did every one reach the ledger in time?"""
    n = max(1, round(rate * hold))
    before = await _ledger(run_)
    futures = []
    began = time.time()
    for i in range(n):
        delay = began + i / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        topic, key, value = hubei_application(pack, run_.person(f"C{number}x", i), i)
        futures.append(await producer.send(run_.settings.topics.physical(topic), value=value, key=key))
    await asyncio.gather(*futures)
    last_emit = time.time()
    sent_rate = n / max(last_emit - began, 1e-9)
    deadline = last_emit + GRACE
    paid = await _ledger(run_) - before
    while paid < n and time.time() < deadline:
        await asyncio.sleep(0.1)
        paid = await _ledger(run_) - before
    # The producer must have held the pace too (at most one interval late over the step).
    kept_up = paid >= n and last_emit - began <= hold + 1 / rate + 0.5

    async def drained() -> bool:
        assert run_.worker is not None and run_.streams is not None
        run_.worker.check()
        run_.streams.check()
        return await _ledger(run_) - before >= n

    async def how_far() -> str:
        return f"{await _ledger(run_) - before}/{n} of the step paid"

    drain_began = time.time()
    await wait_for(drained, f"the step at {rate:.1f}/s to drain", timeout=max(300, n), interval=0.25, progress=how_far)
    return {"rate_per_s": round(rate, 1), "n": n, "sent_per_s": round(sent_rate, 1), "paid_in_time": paid,
            "kept_up": kept_up, "bisection": bisection, "drain_seconds": round(time.time() - drain_began, 1)}
