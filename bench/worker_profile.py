"""Where a settled case's time goes in the worker, without Kafka or the stream processor: the real
case worker (`app.worker.build_worker`, the real store on a fresh database) in this process, N K11
applications signal-with-started as the intake does (one opening → decision → one ledger row),
timed until the N-th ledger row. One variant per process, so the imports are cold each time.

    python -m bench.worker_profile [N] [--runner sandbox|passthrough|unsandboxed] [--cache 100] [--profile]

- `--runner sandbox` is what `jiuye worker` runs by default; `passthrough` is its
  `JIUYE_WORKER_SHARE_WORKFLOW_MODULES=true` (app/worker.py `workflow_runner`: the workflow
  modules, contracts, policy and pydantic imported once, shared by every run); `unsandboxed` is the
  upper bound no one should deploy (no isolation at all).
- `--profile` prints, from cProfile, the share of the worker's CPU spent in the payload codec
  (contracts/codec.py), in the sandbox's importer and in the store's statements.
It uses the stack's Temporal (namespace and search attributes as configured) and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import resource
import sys
import time
import uuid
from typing import Any

from temporalio.common import WorkflowIDReusePolicy
from temporalio.worker import UnsandboxedWorkflowRunner

from app.worker import workflow_runner


def runner_for(name: str) -> Any:
    if name in ("sandbox", "passthrough"):
        return workflow_runner(share_workflow_modules=name == "passthrough")
    if name == "unsandboxed":
        return UnsandboxedWorkflowRunner()
    raise ValueError(name)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def measure(n: int, runner: str, cache: int) -> dict[str, Any]:
    from activities.pg_store import PgStore, create_pool
    from app.worker import build_worker
    from bench.events import hubei_application
    from contracts import kinds
    from contracts.cases import CaseEvent, CaseInput
    from contracts.settings import get_settings
    from contracts.temporal import connect
    from deploy.stack.postgres import drop_database, fresh_database
    from policy.pack import load_pack
    from workflows.case_base import search_attributes_for

    base = get_settings()
    tag = uuid.uuid4().hex[:8]
    database = f"jiuye_profile_{tag}"
    url = await fresh_database(database, base)
    settings = base.model_copy(update={"database_url": url, "temporal_task_queue": f"profile-{tag}"})
    pack = load_pack(settings.policy_pack)
    pool = await create_pool(url, settings.database_pool_max)
    client = await connect(settings)
    kind = kinds.HUBEI_GRADUATE_GRANT
    try:
        worker = build_worker(client, settings.temporal_task_queue, PgStore(pool), pack,
                              workflow_runner=runner_for(runner), max_cached_workflows=cache)
        async with worker:
            slots = asyncio.Semaphore(settings.intake_max_in_flight)

            async def one(i: int) -> None:
                person = f"P{tag}{i:07d}"
                _, _, value = hubei_application(pack, person, i)
                doc = json.loads(value)
                event = CaseEvent(source=doc["source"], id=doc["id"], type=doc["type"], subject=doc["subject"],
                                  time=doc["time"], data=doc["data"])
                case_id = kinds.hubei_grant_case_id(person)
                async with slots:
                    await client.start_workflow(
                        kind, CaseInput(case_id=case_id, kind=kind), id=case_id, task_queue=settings.temporal_task_queue,
                        start_signal="event", start_signal_args=[event],
                        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                        search_attributes=search_attributes_for(kind, doc["source"].split("/", 1)[1], "active"))

            cpu0, wall0 = _cpu(), time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            while await pool.fetchval("SELECT count(*) FROM ledger") < n:
                await asyncio.sleep(0.05)
            wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    finally:
        await pool.close()
        await drop_database(database, base)
    return {"n": n, "runner": runner, "cache": cache, "wall_s": round(wall, 2), "cases_per_s": round(n / wall, 1),
            "cpu_ms_per_case": round(1000 * cpu / n, 2)}


def _shares(profile: cProfile.Profile) -> dict[str, float]:
    stats = pstats.Stats(profile, stream=io.StringIO())
    total = stats.total_tt  # type: ignore[attr-defined]
    shares: dict[str, float] = {}
    for (filename, _line, function), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, (path, name) in {"codec (encode + decode)": ("contracts/codec.py", ("encode", "decode")),
                                    "sandbox imports": ("workflow_sandbox/_importer.py", ("_import",)),
                                    "store statements": ("asyncpg/connection.py", ("_execute", "fetch", "fetchval", "fetchrow", "execute"))}.items():
            if filename.endswith(path) and function in name:
                shares[label] = max(shares.get(label, 0.0), ct / total)
    return {k: round(100 * v, 1) for k, v in shares.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=300)
    parser.add_argument("--runner", choices=("sandbox", "passthrough", "unsandboxed"), default="sandbox")
    parser.add_argument("--cache", type=int, default=100, help="max_cached_workflows (jiuye worker's default: 100)")
    parser.add_argument("--profile", action="store_true", help="cProfile the run and print the shares")
    args = parser.parse_args(argv)
    profile = cProfile.Profile() if args.profile else None
    if profile:
        profile.enable()
    result = asyncio.run(measure(args.n, args.runner, args.cache))
    if profile:
        profile.disable()
        result["cpu_share_percent"] = _shares(profile)
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
