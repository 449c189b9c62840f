"""Where the intake's time goes on the contribution firehose, in process, without Kafka or
Temporal: `Intake.handle_batch` over batches of employer contributions of people without a
case, on the real pack and a store (PostgreSQL, the env's database, migrated first; or the
in-memory store with --memory, for CPU alone), with a gateway that fails if called (nothing
may reach Temporal); then, as `jiuye streams` does for each batch of `si.contributions`, M2
judged from the facts the batch stored (`HeadcountMonitor.judge`; `--no-m2` leaves it out).

    python -m bench.intake_profile [--batches 10] [--size 1000] [--memory] [--no-m2] [--profile [N]]

Prints one line: records, wall seconds and rate, the intake's CPU time per record (process
time), the statuses seen; with --profile the N (default 30) costliest functions by cumulative
time. Under load (shared cores) wall time varies between minutes: compare runs alternated
side by side (docs/BENCHMARKS.md, issue 16).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time
import uuid
from collections.abc import Sequence
from typing import Any

from activities.memory_store import MemoryStore
from activities.pg_store import PgStore, create_pool
from activities.store import Origin, Store
from bench.events import contribution
from contracts.settings import Settings
from deploy.migrate import migrate
from policy.pack import load_pack
from streams.headcount_monitor import HeadcountMonitor
from streams.intake import Intake

TOPIC = "si.contributions"
# Employers the contributions are spread over (as in the filter benchmark: a few thousand).
EMPLOYERS = 500


class _NoDeadLetters:
    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        raise AssertionError(f"the firehose's records are valid, yet one was dead-lettered: {reason}")


class _NoTemporal:
    """The firehose must not reach Temporal: any call fails the run."""

    async def start_or_signal(self, kind: str, case_id: str, city: str | None, event: Any) -> bool:
        raise AssertionError(f"a contribution without a case started {case_id}")

    async def signal(self, case_id: str, event: Any) -> bool:
        raise AssertionError(f"a contribution without a case signalled {case_id}")


def batches(n: int, size: int) -> list[list[tuple[bytes, Origin]]]:
    """`n` batches of `size` contributions, each of a person of its own (fresh per run)."""
    tag = uuid.uuid4().hex[:6]
    return [[(contribution(f"PR{tag}{b}x{i}", i, "2020-06", f"E{tag}{i % EMPLOYERS}")[2], Origin(TOPIC, 0, b * size + i))
             for i in range(size)] for b in range(n)]


async def run(n: int, size: int, memory: bool, profile: int | None, m2: bool = True) -> str:
    settings = Settings()
    pool = None
    store: Store
    if memory:
        store = MemoryStore()
    else:
        await migrate(settings.database_url)
        pool = await create_pool(settings.database_url)
        store = PgStore(pool)
    # A stand-in for the gateway (a class, not a protocol) that no record may reach.
    intake = Intake(store, _NoTemporal(), _NoDeadLetters(), load_pack(settings.policy_pack))  # type: ignore[arg-type]
    monitor = HeadcountMonitor(intake.pack, store) if m2 else None
    work = batches(n, size)
    profiler = cProfile.Profile()
    statuses: set[str] = set()
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profiler.enable()
    for batch in work:
        outcomes = await intake.handle_batch(batch)
        if monitor is not None:
            await monitor.judge(outcomes)
        statuses.update(o.status for o in outcomes)
    if profile is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if pool is not None:
        await pool.close()
    records = n * size
    line = (f"{records:,} records ({'memory' if memory else 'PostgreSQL'}) in {wall:.2f} s = {records / wall:,.0f}/s; "
            f"intake{' and M2' if m2 else ''} CPU {cpu / records * 1e6:.1f} µs/record; statuses {sorted(statuses)}")
    if profile is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    return line


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=10, help="batches to handle (default 10)")
    parser.add_argument("--size", type=int, default=1000, help="contributions per batch (default 1000)")
    parser.add_argument("--memory", action="store_true", help="the in-memory store instead of PostgreSQL")
    parser.add_argument("--no-m2", dest="m2", action="store_false",
                        help="leave out M2's judgement of each batch (the intake alone)")
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=None, metavar="N",
                        help="profile with cProfile and print the N costliest functions (default 30)")
    args = parser.parse_args(argv)
    print(asyncio.run(run(args.batches, args.size, args.memory, args.profile, args.m2)))


if __name__ == "__main__":
    main()
