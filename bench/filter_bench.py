"""filter and mixed: a month of `contribution.paid` through `jiuye streams`.

filter — M employer contributions for people without an open case (target ≥ 50,000 events/s,
≥ 0.2 × a bare aiokafka consumer, and none reaches Temporal). With it the facts figure: rows
added to the fact tables and the inbox per contribution, against the distinct (person, month)
pairs among them (target ≤ 2; each record of the load is another person's, one month). The streams process is started and
seen idle at the end of its topics, then stopped (SIGSTOP) while the M records are produced, so
its rate is not bounded by producing and excludes its start-up:
  (a) a bare aiokafka consumer (no group) reads exactly those records: getmany, count only;
  (b) the streams process is continued (SIGCONT); rate = M / time until the group's committed
      offsets reach the end (lag 0, polled every 0.2 s; faust commits every few seconds, so
      this rounds the time up).
Then: the workflow count of the run's task queue did not change and no inbox row is applied.

mixed — the same with 1 % relevant: first the relevant persons' K2 cases are opened through the
intake (their claims), then M contributions of which every hundredth is an employer's
contribution for the month after such a claim (signals that K2 case). Wall time from SIGCONT to
lag 0 with every relevant one applied, against filter time + relevant / intake rate.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.events import Claims, contribution, produce
from bench.harness import BenchRun, say, wait_for
from contracts.kafka import client_security
from contracts.settings import Settings
from policy.pack import load_pack
from testkit.processes import Process

TOPIC = "si.contributions"
# Issue 16's targets: the firehose filter, and the facts it leaves (rows added per contribution
# record, against the distinct (person, month) pairs among them).
TARGET_RATE = 50_000
TARGET_RATIO = 0.2
TARGET_ROWS_PER_PAIR = 2.0
# The tables a contribution can add rows to: its facts (per key before migration 0014, at their
# grain since) and the inbox.
FACT_TABLES = ("subject_facts", "contribution_facts", "inbox")
RELEVANT_EVERY = 100


async def run_filter(base: Settings, m: int, progress: bool = True, streams_n: int = 1) -> dict[str, Any]:
    """`streams_n` > 1: that many `jiuye streams` processes in the run's group share the topic's
    partitions (paused and continued together): does a second process double the rate?"""
    pack = load_pack(base.policy_pack)
    month = Claims(pack).month_after
    async with BenchRun(base, "filter") as run_:
        await run_.start_worker()
        streams = await run_.start_streams([TOPIC])
        members = [streams, *(await run_.add_streams(streams_n - 1, TOPIC) if streams_n > 1 else [])]
        workflows_before = await run_.workflow_count()
        rows_before = await _rows(run_)
        start = await run_.kafka.ends([TOPIC])
        for member in members:
            member.pause()
        if streams_n > 1:
            say(f"filter: {streams_n} streams processes share {TOPIC}")
        say(f"filter: streams paused; producing {m:,} contributions of people without a case")
        produce_seconds = await produce(
            run_.settings, (contribution(run_.person("F", i), i, month, f"E{run_.tag}{i % 5000}") for i in range(m)),
            m, "contributions", progress)
        end = await run_.kafka.ends([TOPIC])
        say(f"filter: produced in {produce_seconds:.1f} s ({m / produce_seconds:,.0f}/s); (a) bare aiokafka consumer")
        bare_seconds, bare_count = await bare_consume(run_.settings, start, end, progress)
        say(f"filter: bare consumer {bare_count:,} in {bare_seconds:.1f} s ({bare_count / bare_seconds:,.0f}/s); "
            f"(a') an empty faust agent (bench/faust_ceiling.py)")
        ceiling = await faust_ceiling(run_, start, m)
        say(f"filter: faust ceiling {ceiling}; (b) streams continued")
        streams_seconds = await _drain(run_, end, m, progress, also=members[1:])
        workflows_after = await run_.workflow_count()
        states = {r["state"]: r["n"] for r in await run_.fetch(
            "SELECT state, count(*) AS n FROM inbox WHERE type = 'contribution.paid' GROUP BY state")}
        rows_added = await _rows(run_) - rows_before
    pairs = m  # each record is another person's, all for one month
    rows_per_pair = rows_added / pairs
    rate = m / streams_seconds
    bare_rate = bare_count / bare_seconds
    ratio = rate / bare_rate
    none_reached = workflows_after == workflows_before and states.get("applied", 0) == 0
    return {
        "benchmark": "filter", "m": m, "streams_processes": streams_n,
        "streams_per_s": round(rate), "bare_per_s": round(bare_rate), "ratio": round(ratio, 3),
        "target": f"≥ {TARGET_RATE:,}/s, ratio ≥ {TARGET_RATIO}, none reaches Temporal",
        "met": rate >= TARGET_RATE and ratio >= TARGET_RATIO and none_reached,
        "streams_seconds": round(streams_seconds, 1), "bare_seconds": round(bare_seconds, 2),
        "produce_seconds": round(produce_seconds, 1),
        "faust_ceiling_per_s": ceiling.get("rate"), "faust_ceiling_seconds": ceiling.get("seconds"),
        "workflows_before": workflows_before, "workflows_after": workflows_after,
        "inbox_states": states, "none_reached_temporal": none_reached,
        "facts_rows_added": rows_added, "facts_pairs": pairs, "facts_rows_per_pair": round(rows_per_pair, 3),
        "facts_met": rows_per_pair <= TARGET_ROWS_PER_PAIR,
    }


async def _rows(run_: BenchRun) -> int:
    """Rows in the tables a contribution adds to (a fresh database per run: all of them its own)."""
    total = 0
    for table in FACT_TABLES:
        total += (await run_.fetch(f"SELECT count(*) AS n FROM {table}"))[0]["n"]
    return total


async def run_mixed(base: Settings, m: int, progress: bool = True, *, filter_seconds: float | None = None,
                    intake_rate: float | None = None) -> dict[str, Any]:
    pack = load_pack(base.policy_pack)
    claims = Claims(pack)
    relevant = m // RELEVANT_EVERY
    async with BenchRun(base, "mixed") as run_:
        await run_.start_worker()
        streams = await run_.start_streams(["si.benefits", TOPIC])
        people = [run_.person("M", i) for i in range(relevant)]
        say(f"mixed: opening {relevant:,} K2 cases through the intake")
        opened = time.time()
        await produce(run_.settings, (claims.claim(p, i) for i, p in enumerate(people)), relevant, "claims", progress)

        async def claims_applied() -> bool:
            streams.check()
            return await run_.count("SELECT count(*) FROM inbox WHERE type = 'ui.claim.filed' AND state = 'applied'") >= relevant

        await wait_for(claims_applied, f"{relevant} claims applied", timeout=max(300, relevant / 5), interval=0.2,
                       progress=lambda: _count(run_, "SELECT count(*) FROM inbox WHERE type = 'ui.claim.filed' AND state = 'applied'"))
        last = await run_.scalar("SELECT extract(epoch FROM max(applied_at)) FROM inbox WHERE type = 'ui.claim.filed'")
        open_rate = relevant / (float(last) - opened)

        async def recorded() -> bool:
            return await run_.count("SELECT count(*) FROM cases WHERE version >= 2") >= relevant

        await wait_for(recorded, f"{relevant} K2 cases recorded", timeout=max(300, relevant / 5), interval=0.5,
                       progress=lambda: _count(run_, "SELECT count(*) FROM cases WHERE version >= 2"))
        workflows_before = await run_.workflow_count()

        def records() -> Any:
            for i in range(m):
                if i % RELEVANT_EVERY == 0:
                    k = i // RELEVANT_EVERY
                    yield contribution(people[k], i, claims.month_after, f"E{run_.tag}{k % 5000}")
                else:
                    yield contribution(run_.person("X", i), i, claims.month_after, f"E{run_.tag}{i % 5000}")

        streams.pause()
        say(f"mixed: streams paused; producing {m:,} contributions, {relevant:,} of them news for a K2 case")
        produce_seconds = await produce(run_.settings, records(), m, "contributions", progress)
        end = await run_.kafka.ends([TOPIC])
        say("mixed: streams continued")
        continued = time.perf_counter()
        await _drain(run_, end, m, progress, started=continued)

        async def relevant_applied() -> bool:
            return await run_.count(
                "SELECT count(*) FROM inbox WHERE type = 'contribution.paid' AND state = 'applied'") >= relevant

        await wait_for(relevant_applied, f"{relevant} relevant contributions applied", timeout=600, interval=0.2)
        wall = time.perf_counter() - continued
        applied = await run_.scalar("SELECT count(*) FROM inbox WHERE type = 'contribution.paid' AND state = 'applied'")
        workflows_after = await run_.workflow_count()
    rate_used = intake_rate or open_rate
    predicted = (filter_seconds + relevant / rate_used) if filter_seconds else None
    return {
        "benchmark": "mixed", "m": m, "relevant": relevant,
        "wall_seconds": round(wall, 1), "predicted_seconds": round(predicted, 1) if predicted else None,
        "ratio": round(wall / predicted, 3) if predicted else None,
        "target": "every relevant applied; wall ≈ filter time + relevant / intake rate",
        "met": applied == relevant and workflows_after == workflows_before,
        "relevant_applied": applied, "per_s": round(m / wall),
        "claims_open_per_s": round(open_rate, 1), "intake_rate_used": round(rate_used, 1),
        "filter_seconds": filter_seconds, "produce_seconds": round(produce_seconds, 1),
        "workflows_unchanged": workflows_after == workflows_before,
    }


async def faust_ceiling(run_: BenchRun, start: dict[TopicPartition, int], m: int) -> dict[str, Any]:
    """faust's own ceiling: `python -m bench.faust_ceiling` (an agent that only takes and acks, the
    way the intake does) on a group of its own positioned at `start`; {} if it is not there or fails."""
    group = f"{run_.settings.consumer_group}-ceiling"
    await run_.kafka.start_group_at(group, start)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.faust_ceiling", "--group", run_.settings.topics.physical(group),
        "--topic", run_.settings.topics.physical(TOPIC), "--count", str(m),
        "--bootstrap", run_.settings.kafka_bootstrap, "--batch-max", str(run_.settings.intake_batch_max),
        "--within-ms", str(run_.settings.intake_batch_within_ms),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=run_.folder)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=max(300, m / 1000))
        lines = out.decode(errors="replace").strip().splitlines()
        return dict(json.loads(lines[-1])) if lines else {}
    except (TimeoutError, ValueError) as exc:
        say(f"faust ceiling: no figure ({type(exc).__name__})")
        return {}
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await run_.kafka.forget_group(group)


async def _count(run_: BenchRun, sql: str) -> str:
    return f"{await run_.scalar(sql):,}"


async def _drain(run_: BenchRun, end: dict[TopicPartition, int], m: int, progress: bool,
                 started: float | None = None, also: Sequence[Process] = ()) -> float:
    """Continue the streams process(es) (if paused) and wait until their group's lag is 0; seconds."""
    assert run_.streams is not None
    if started is None:
        started = time.perf_counter()
    members = [run_.streams, *also]
    for member in members:
        member.resume()
    group = run_.settings.consumer_group

    async def drained() -> bool:
        for member in members:
            member.check()
        return await run_.kafka.lag(group, end) == 0

    async def how_far() -> str:
        lag = await run_.kafka.lag(group, end)
        done = m - lag
        return f"{done:,}/{m:,} committed ({done / (time.perf_counter() - started):,.0f}/s)"

    await wait_for(drained, "the streams process to commit every record", timeout=max(600, m / 200), interval=0.2,
                   progress=how_far if progress else None, every=15)
    return time.perf_counter() - started


async def bare_consume(settings: Settings, start: dict[TopicPartition, int], end: dict[TopicPartition, int],
                       progress: bool) -> tuple[float, int]:
    """A bare aiokafka consumer (no group) reading [start, end) of each partition; (seconds, records)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=4 * 1024 * 1024, fetch_max_bytes=16 * 1024 * 1024,
                                **client_security(settings))
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        wanted = sum(end[tp] - start[tp] for tp in start)
        count = 0
        left = {tp for tp in start if end[tp] > start[tp]}
        started = time.perf_counter()
        while left:
            batches = await consumer.getmany(*left, timeout_ms=1000, max_records=10_000)
            for tp, records in batches.items():
                count += sum(1 for r in records if r.offset < end[tp])
                if records and records[-1].offset >= end[tp] - 1:
                    left.discard(tp)
        seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
    if count != wanted:
        say(f"bare consumer read {count} of {wanted} records")
    return seconds, count
