"""intake: N `ui.claim.filed` events through Kafka → `jiuye streams` → inbox → Temporal accepted,
against raw signal-with-start of the same commands from one client (target: ratio ≥ 0.8).

Both halves run in one isolated run with the same `jiuye worker` polling the same task queue:
1. intake — the N claims are produced (fast, batched) once the streams process is idle at the
   end of its topics; time runs from the first produce call to the last inbox row marked applied
   (`inbox.applied_at`, a database timestamp), so it includes producing.
2. the worker is let settle (every case of step 1 recorded in the read model);
3. raw — N other claims (other person ids) as `client.start_workflow(..., start_signal="event")`
   with the same workflow type, CaseInput, CaseEvent, id policy and search attributes as
   streams/gateway.py, at most `intake_max_in_flight` in flight (the intake's own bound); time from the first call to the last acceptance.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from temporalio.common import WorkflowIDReusePolicy

from bench.events import Claims, produce
from bench.harness import BenchRun, say, wait_while_progressing
from contracts import kinds
from contracts.cases import CaseEvent, CaseInput
from contracts.settings import Settings
from policy.pack import load_pack
from workflows.case_base import search_attributes_for

KIND = kinds.UNEMPLOYMENT_INSURANCE
TARGET_RATIO = 0.8
# A wait gives up after this long without a new claim applied or case recorded (not after a
# fixed total: under load the worker is slow, not stuck).
STALL_SECONDS = 60.0


async def run(base: Settings, n: int, progress: bool = True) -> dict[str, Any]:
    pack = load_pack(base.policy_pack)
    claims = Claims(pack)
    async with BenchRun(base, "intake") as run_:
        await run_.start_worker()
        await run_.start_streams(["si.benefits"])

        # 1. the intake
        people = [run_.person("I", i) for i in range(n)]
        say(f"intake: producing {n} ui.claim.filed, timing until the last inbox row is applied")
        started = time.time()
        produce_seconds = await produce(run_.settings, (claims.claim(p, i) for i, p in enumerate(people)), n,
                                        "claims", progress)

        async def applied() -> int:
            assert run_.streams is not None
            run_.streams.check()
            return await run_.count("SELECT count(*) FROM inbox WHERE type = 'ui.claim.filed' AND state = 'applied'")

        intake_wait = await wait_while_progressing(applied, n, f"{n} claims applied by the intake", stall=STALL_SECONDS)
        last = await run_.scalar("SELECT extract(epoch FROM max(applied_at)) FROM inbox WHERE type = 'ui.claim.filed'")
        intake_seconds = float(last) - started
        intake_rate = n / intake_seconds

        # 2. let the worker finish what the intake's cases started
        say(f"intake: {intake_rate:,.0f}/s; waiting for the worker to record the {n} cases before the raw run")
        settle_wait = await _settled(run_, n)

        # 3. raw signal-with-start of the same commands (other person ids)
        say(f"intake: raw signal-with-start of {n} claims, {run_.settings.intake_max_in_flight} in flight")
        raw_seconds = await _raw(run_, claims, n)
        raw_rate = n / raw_seconds
        raw_settle_wait = await _settled(run_, 2 * n)
        workflows = await run_.workflow_count()
    ratio = intake_rate / raw_rate
    return {
        "benchmark": "intake", "n": n,
        "intake_per_s": round(intake_rate, 1), "raw_per_s": round(raw_rate, 1), "ratio": round(ratio, 3),
        "target": f"ratio ≥ {TARGET_RATIO}", "met": ratio >= TARGET_RATIO,
        "intake_seconds": round(intake_seconds, 2), "produce_seconds": round(produce_seconds, 2),
        "raw_seconds": round(raw_seconds, 2), "workflows": workflows,
        "note": "intake timed from the first produce call to the last inbox.applied_at",
        # How long each wait lasted (a wait ends only after STALL_SECONDS without progress).
        "waits": {"intake_applied": intake_wait, "worker_recorded": settle_wait, "raw_recorded": raw_settle_wait},
    }


async def _raw(run_: BenchRun, claims: Claims, n: int) -> float:
    client = run_.client
    assert client is not None
    slots = asyncio.Semaphore(run_.settings.intake_max_in_flight)
    task_queue = run_.settings.temporal_task_queue

    async def one(i: int) -> None:
        person = run_.person("R", i)
        doc = claims.claim_payload(person, i)
        case_id = claims.case_id(person)
        event = CaseEvent(source=doc["source"], id=doc["id"], type=doc["type"], subject=doc["subject"],
                          time=doc["time"], data=doc["data"])
        async with slots:
            await client.start_workflow(
                KIND, CaseInput(case_id=case_id, kind=KIND), id=case_id, task_queue=task_queue,
                start_signal="event", start_signal_args=[event],
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes_for(KIND, doc["data"]["city"], "active"),
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started


async def _settled(run_: BenchRun, cases: int) -> dict[str, float]:
    """Every started K2 case has recorded itself twice (opened, then its entitlement)."""

    async def recorded() -> int:
        assert run_.worker is not None
        run_.worker.check()
        return await run_.count("SELECT count(*) FROM cases WHERE kind = $1 AND version >= 2", KIND)

    return await wait_while_progressing(recorded, cases, f"{cases} K2 cases recorded by the worker",
                                        stall=STALL_SECONDS, interval=0.5)
