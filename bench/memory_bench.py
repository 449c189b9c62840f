"""memory: RSS (VmRSS) of the `jiuye worker` and `jiuye streams` processes idle, then with K open
K2 cases opened through the intake (target: ≤ 50 MB per 10,000 cases above idle, each process).

Idle = both processes started, the intake has handled a canary record, and 5 s have passed.
Warm = the first tenth of the K cases open; loaded = all K. A step is done when every claim is
applied by the intake and every case recorded by the worker (waiting for its first benefit
month), then 5 s; RSS is the median of five samples a second apart. The target is judged on
(loaded − idle); (loaded − warm) per case is reported too, as the marginal cost.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from bench.events import Claims, produce
from bench.harness import BenchRun, say, wait_for
from contracts.settings import Settings
from policy.pack import load_pack
from testkit.processes import Process

TARGET_MB_PER_10K = 50.0


async def _rss(process: Process) -> float:
    samples = []
    for _ in range(5):
        samples.append(process.rss_mb())
        await asyncio.sleep(1)
    return statistics.median(samples)


async def run(base: Settings, k: int, progress: bool = True) -> dict[str, Any]:
    pack = load_pack(base.policy_pack)
    claims = Claims(pack)
    async with BenchRun(base, "memory") as run_:
        worker = await run_.start_worker()
        streams = await run_.start_streams(["si.benefits"])
        await asyncio.sleep(5)
        idle = {"worker": await _rss(worker), "streams": await _rss(streams)}
        say(f"memory: idle worker {idle['worker']:.0f} MB, streams {idle['streams']:.0f} MB; opening {k:,} K2 cases")
        applied_sql = "SELECT count(*) FROM inbox WHERE type = 'ui.claim.filed' AND state = 'applied'"
        recorded_sql = "SELECT count(*) FROM cases WHERE version >= 2 AND status = 'active'"

        async def open_cases(first: int, upto: int) -> dict[str, float]:
            await produce(run_.settings, (claims.claim(run_.person("K", i), i) for i in range(first, upto)),
                          upto - first, "claims", progress)

            async def applied() -> bool:
                streams.check()
                return await run_.count(applied_sql) >= upto

            async def recorded() -> bool:
                worker.check()
                return await run_.count(recorded_sql) >= upto

            async def how_far() -> str:
                return f"{await run_.scalar(applied_sql):,} applied, {await run_.scalar(recorded_sql):,} recorded of {upto:,}"

            await wait_for(applied, f"{upto} claims applied", timeout=max(600, upto / 2), interval=0.5, progress=how_far, every=20)
            await wait_for(recorded, f"{upto} cases recorded", timeout=max(600, upto / 2), interval=0.5, progress=how_far, every=20)
            await asyncio.sleep(5)
            return {"worker": await _rss(worker), "streams": await _rss(streams)}

        # A first tenth warms both processes up (imports, sandbox, caches); the rest gives the
        # marginal cost per case as well.
        warm_k = max(1, k // 10)
        warm = await open_cases(0, warm_k)
        say(f"memory: with {warm_k:,} cases worker {warm['worker']:.0f} MB, streams {warm['streams']:.0f} MB; "
            f"opening {k - warm_k:,} more")
        loaded = await open_cases(warm_k, k)
        open_workflows = await run_.workflow_count()
    per_10k = {name: (loaded[name] - idle[name]) * 10_000 / k for name in idle}
    marginal = {name: (loaded[name] - warm[name]) * 10_000 / (k - warm_k) for name in idle}
    return {
        "benchmark": "memory", "k": k,
        "worker_mb_per_10k": round(per_10k["worker"], 1), "streams_mb_per_10k": round(per_10k["streams"], 1),
        "target": f"≤ {TARGET_MB_PER_10K:.0f} MB per 10,000 cases, each process",
        "met": all(v <= TARGET_MB_PER_10K for v in per_10k.values()),
        "idle_mb": {n: round(v, 1) for n, v in idle.items()}, "loaded_mb": {n: round(v, 1) for n, v in loaded.items()},
        "workflows": open_workflows, "warm_k": warm_k, "warm_mb": {n: round(v, 1) for n, v in warm.items()},
        "marginal_mb_per_10k": {n: round(v, 1) for n, v in marginal.items()},
    }
