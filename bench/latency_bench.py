"""latency: p50 / p99 from emit to ledger row, at half the measured capacity (target p99 ≤ 1 s).

Each event is a K11 `application.submitted` (hubei_graduate_grant) of an eligible graduate, which
the case pays on the day it opens (load context, record, pay: one ledger row). The events are
sent one by one at a fixed pace (half the capacity the `capacity` benchmark measured in the
same `jiuye bench` run, so that it measures the path and not a queue; a fixed rate if capacity
was not run), the producer lingering 0 ms; emit time = the wall clock just before the
send. The ledger row's time is `ledger.paid_at` (PostgreSQL's clock, same machine). Also split:
emit → inbox row applied (the intake's part) and applied → paid (Temporal + worker).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.events import hubei_application
from bench.harness import BenchRun, say, wait_for
from contracts.kafka import make_producer
from contracts.settings import Settings
from policy.pack import load_pack

DEFAULT_RATE = 10.0  # events/s when no capacity was measured
TARGET_P99 = 1.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(base: Settings, n: int, progress: bool = True, *, rate: float | None = None) -> dict[str, Any]:
    pack = load_pack(base.policy_pack)
    rate_source = "capacity" if rate else "fixed"
    rate = rate or DEFAULT_RATE
    async with BenchRun(base, "latency") as run_:
        await run_.start_worker()
        await run_.start_streams(["employment.service"])
        people = [run_.person("L", i) for i in range(n)]
        sent: dict[str, float] = {}
        producer = make_producer(run_.settings, linger_ms=0)
        await producer.start()
        say(f"latency: {n} K11 applications at {rate:.1f}/s ({n / rate:.0f} s)")
        try:
            began = time.time()
            futures = []
            for i, person in enumerate(people):
                due = began + i / rate
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                topic, key, value = hubei_application(pack, person, i)
                sent[f"hubei_grant/{person}"] = time.time()
                futures.append(await producer.send(run_.settings.topics.physical(topic), value=value, key=key))
                if progress and i and i % max(1, n // 5) == 0:
                    say(f"  latency: {i}/{n} sent")
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
        sending = time.time() - began

        async def paid() -> bool:
            assert run_.worker is not None
            run_.worker.check()
            return await run_.count("SELECT count(*) FROM ledger") >= n

        await wait_for(paid, f"{n} ledger rows", timeout=max(300, n), interval=0.5,
                       progress=lambda: _count(run_))
        rows = await run_.fetch(
            "SELECT l.case_id, extract(epoch FROM l.paid_at) AS paid, extract(epoch FROM i.applied_at) AS applied "
            "FROM ledger l JOIN inbox i ON i.event_id = 'hubei-' || substr(l.case_id, length('hubei_grant/') + 1)")
    total = [float(r["paid"]) - sent[r["case_id"]] for r in rows if r["case_id"] in sent]
    intake = [float(r["applied"]) - sent[r["case_id"]] for r in rows if r["case_id"] in sent and r["applied"] is not None]
    case = [float(r["paid"]) - float(r["applied"]) for r in rows if r["applied"] is not None]
    p50, p99 = percentile(total, 50), percentile(total, 99)
    # What the system kept up with: payments per second from the first emit to the last row.
    paid_rate = len(rows) / (max(float(r["paid"]) for r in rows) - began)
    return {
        "benchmark": "latency", "n": n, "rate_per_s": round(rate, 1), "rate_source": rate_source, "achieved_rate_per_s": round(n / sending, 1),
        "p50_s": round(p50, 3), "p99_s": round(p99, 3), "max_s": round(max(total), 3),
        "target": f"p99 ≤ {TARGET_P99:g} s", "met": p99 <= TARGET_P99,
        "intake_p50_s": round(percentile(intake, 50), 3), "intake_p99_s": round(percentile(intake, 99), 3),
        "case_p50_s": round(percentile(case, 50), 3), "case_p99_s": round(percentile(case, 99), 3),
        "measured": len(total), "paid_per_s": round(paid_rate, 1),
    }


async def _count(run_: BenchRun) -> str:
    return f"{await run_.scalar('SELECT count(*) FROM ledger'):,} ledger rows"
