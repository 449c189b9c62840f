"""headcount: the size of M2's state (§23 headcount_drop) for N contributions over 3 months, and
the rate it is kept at (issue 17: "Show the state size for 100,000 contributions over 3 months").

The workload: 1,000 enterprises of skewed sizes (a few thousand persons down to a handful),
their N employer contributions over 3 months, each enterprise's payroll produced together (as an
SI system sends it); then a 4th month (the same persons, every 10th enterprise with 30 % fewer
in month 3, which the 4th month's first contribution finds: a `headcount_drop` alert each).

Two measurements of the same stream:
  (a) in process: `HeadcountMonitor` over a dict, fed in messages as the intake forms them
      (batches of `intake_batch_max` records in stream order, grouped by enterprise) — the
      state's entries, keys, bytes as JSON (what the faust Table's changelog holds per key) and
      Python heap (tracemalloc), after 3 months and after the 4th; and the rule's own rate;
  (b) on the stack: the contributions produced to Kafka for a real `jiuye streams` (once its
      agent consumed a canary contribution, stopped while they are produced, then continued); the rate is N / time until the intake committed
      them all and the `headcount` agent's group committed the end of `<group>-headcount` (faust
      commits every few seconds, so this rounds the time up); then the Table as a recovering
      process would rebuild it, read from its changelog topic (last value per key), less the
      canary's, must hold the same entries as (a), and the alerts in PostgreSQL must be the expected ones.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from typing import Any

from aiokafka import AIOKafkaConsumer

from bench.events import contribution, produce
from bench.harness import BenchError, BenchRun, say, wait_for
from contracts.kafka import client_security
from contracts.settings import Settings
from policy import headcount_drop

ENTERPRISES = 1_000
MONTHS = ("2020-03", "2020-04", "2020-05")
NEXT_MONTH = "2020-06"
FALLING_EVERY = 10  # every 10th enterprise has 30 % fewer persons in the 3rd month
FALL = 0.3


def sizes(n: int) -> list[int]:
    """Headcounts of the enterprises (skewed: size ∝ 1/rank), a little over n / 3 a month."""
    raw = [1 / (rank + 1) for rank in range(ENTERPRISES)]
    scale = 1.05 * n / len(MONTHS) / sum(raw)
    return [max(1, round(r * scale)) for r in raw]


def workload(n: int, tag: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(enterprise, month, person) of the first 3 months (exactly n: the last, smallest payrolls of
    the 3rd month are cut short) and of the 4th month."""
    heads = sizes(n)
    first: list[tuple[str, str, str]] = []
    for index, month in enumerate(MONTHS):
        for e, head in enumerate(heads):
            if index == len(MONTHS) - 1 and e % FALLING_EVERY == 0:
                head = head - round(head * FALL)
            first += [(f"{tag}E{e:04d}", month, f"{tag}E{e:04d}P{p:05d}") for p in range(head)]
    assert len(first) >= n, (len(first), n)
    after = [(f"{tag}E{e:04d}", NEXT_MONTH, f"{tag}E{e:04d}P{p:05d}") for e, head in enumerate(heads) for p in range(head)]
    return first[:n], after


def expected_alerts(first: list[tuple[str, str, str]]) -> set[str]:
    """The drops from the 2nd to the 3rd month by the pack's rule (no plans filed): found by the
    4th month's first contributions."""
    from policy.pack import load_pack

    params = load_pack().parameters(None)
    heads: dict[tuple[str, str], int] = {}
    for enterprise, month, _ in first:
        heads[(enterprise, month)] = heads.get((enterprise, month), 0) + 1
    found = set()
    for enterprise in {e for e, _, _ in first}:
        comparison = headcount_drop.Comparison(enterprise, MONTHS[1], heads.get((enterprise, MONTHS[1]), 0),
                                   MONTHS[2], heads.get((enterprise, MONTHS[2]), 0))
        if headcount_drop.should_alert(comparison, [], params):
            found.add(headcount_drop.alert_id(enterprise, MONTHS[2]))
    return found


def messages(rows: Iterable[tuple[str, str, str]], batch: int) -> Iterator[Any]:
    """The messages the intake forwards for these rows: per batch, per enterprise, in order."""
    from streams.headcount_monitor import Contributions

    stream = iter(rows)
    while chunk := list(itertools.islice(stream, batch)):
        grouped: dict[str, list[tuple[str, str]]] = {}
        for enterprise, month, person in chunk:
            grouped.setdefault(enterprise, []).append((month, person))
        for enterprise, pairs in grouped.items():
            yield Contributions(enterprise, tuple(pairs))


def state_figures(state: dict[str, Any]) -> dict[str, Any]:
    """Entries, keys and JSON bytes (key + value, as faust's json serializer writes them)."""
    return {"entries": headcount_drop.HeadcountState(state).size, "keys": len(state),
            "json_bytes": sum(len(json.dumps(k)) + len(json.dumps(v)) for k, v in state.items())}


async def in_process(first: list[tuple[str, str, str]], after: list[tuple[str, str, str]], batch: int) -> dict[str, Any]:
    """The figures of (a): one pass timed, a second one under tracemalloc for the heap (tracing
    slows Python several times over, so it is not the timed one)."""
    from activities.memory_store import MemoryStore
    from policy.pack import load_pack
    from streams.headcount_monitor import HeadcountMonitor

    pack = load_pack()
    first_messages, after_messages = list(messages(first, batch)), list(messages(after, batch))
    store = MemoryStore()
    state: dict[str, Any] = {}
    monitor = HeadcountMonitor(pack, state, store)
    started = time.perf_counter()
    for message in first_messages:
        await monitor.apply(message)
    seconds = time.perf_counter() - started
    three = state_figures(state)
    for message in after_messages:
        await monitor.apply(message)
    four = state_figures(state)

    traced = HeadcountMonitor(pack, {}, MemoryStore())
    tracemalloc.start()
    try:
        # Messages made under tracing, from fresh strings, and dropped once applied: the heap is
        # what the state keeps (ids, keys, lists, dicts), not the workload's own copies.
        for message in messages(_fresh(first), batch):
            await traced.apply(message)
        three["heap_bytes"] = tracemalloc.get_traced_memory()[0]
        for message in messages(_fresh(after), batch):
            await traced.apply(message)
        four["heap_bytes"] = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return {"after_3_months": three, "after_4_months": four, "per_s": round(len(first) / seconds),
            "alerts": sorted(a["alert_id"] for a in store.alerts), "state": state}


def _fresh(rows: list[tuple[str, str, str]]) -> Iterator[tuple[str, str, str]]:
    for e, m, p in rows:
        yield e.encode().decode(), m.encode().decode(), p.encode().decode()


async def changelog_state(settings: Settings, partitions: list[Any]) -> dict[str, Any]:
    """The Table as a recovering process rebuilds it: the changelog's last value per key."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                                **client_security(settings))
    await consumer.start()
    state: dict[str, Any] = {}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        async def behind() -> bool:
            return any([await consumer.position(tp) < end for tp, end in ends.items()])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    assert r.key is not None  # every changelog record is keyed
                    key = json.loads(r.key)
                    if r.value is None:
                        state.pop(key, None)
                    else:
                        state[key] = json.loads(r.value)
    finally:
        await consumer.stop()
    return state


async def run(base: Settings, n: int, progress: bool = True) -> dict[str, Any]:
    from streams.app import headcount_topic, monitoring_app_id

    async with BenchRun(base, "headcount") as run_:
        tag = f"B{run_.tag}"
        first, after = workload(n, tag)
        local = await in_process(first, after, run_.settings.intake_batch_max)
        three, four = local["after_3_months"], local["after_4_months"]
        say(f"headcount: in process {len(first):,} contributions over 3 months → {three['entries']:,} entries, "
            f"{three['keys']:,} keys, {three['json_bytes'] / 1e6:.1f} MB as JSON, {three['heap_bytes'] / 1e6:.1f} MB heap, "
            f"{local['per_s']:,}/s; after a 4th month {four['entries']:,} entries")
        streams = await run_.start_streams(["si.contributions"])
        # The probe takes logical names; these two are physical already.
        internal = run_.settings.topics.logical(headcount_topic(run_.settings))
        group = run_.settings.topics.logical(monitoring_app_id(run_.settings))
        canary = f"{tag}CANARY"

        async def agent_done() -> bool:
            streams.check()
            try:
                ends = await run_.kafka.ends([internal])
            except BenchError:  # not declared by the faust app yet
                return False
            return sum(ends.values()) > 0 and await run_.kafka.lag(group, ends) == 0

        # The faust app starts after the intake (which the canaries proved); the agent consumes
        # once its group has the internal topic: one employer contribution through it first.
        await produce(run_.settings, [contribution(f"{canary}P", 0, "2020-01", canary)], 1, "canary", False)
        await wait_for(agent_done, f"the headcount agent to consume {internal} (a faust group that assigned "
                       "before the topic was visible ignores it: 'Ignoring missing topic' in the streams log)",
                       timeout=300, interval=0.5)
        streams.pause()
        rows = first + after
        records = (contribution(person, i, month, enterprise) for i, (enterprise, month, person) in enumerate(rows))
        produce_seconds = await produce(run_.settings, records, len(rows), "contributions", progress)
        started = time.perf_counter()
        streams.resume()

        async def intake_done() -> bool:
            streams.check()
            return await run_.kafka.lag(run_.settings.consumer_group, await run_.kafka.ends(["si.contributions"])) == 0

        timeout = max(600, len(rows) / 100)
        await wait_for(intake_done, f"{len(rows):,} contributions committed by the intake", timeout=timeout, interval=0.2)
        intake_seconds = time.perf_counter() - started
        async def how_far() -> str:
            ends = await run_.kafka.ends([internal])
            return f"{await run_.kafka.lag(group, ends):,} of {sum(ends.values()):,} messages of {internal} to go"

        await wait_for(agent_done, f"the headcount agent at the end of {internal}", timeout=timeout, interval=0.2,
                       progress=how_far, every=30)
        seconds = time.perf_counter() - started
        alerts = {r["alert_id"] for r in await run_.fetch("SELECT alert_id FROM alerts WHERE kind = $1", headcount_drop.ALERT)}
        recovered = await changelog_state(run_.settings, await run_.kafka.partitions([f"{group}-headcount-changelog"]))
        recovered = {k: v for k, v in recovered.items() if not k.startswith(f"{canary}|")}
    figures = state_figures(recovered)
    wanted = expected_alerts(first)
    same_state = recovered == local["state"]
    say(f"headcount: on the stack {len(rows):,} contributions in {seconds:.1f} s ({len(rows) / seconds:,.0f}/s; intake "
        f"done after {intake_seconds:.1f} s); recovered Table {figures['entries']:,} entries, {figures['keys']:,} keys, "
        f"{figures['json_bytes'] / 1e6:.1f} MB; {len(alerts)} alerts (expected {len(wanted)}), same state as in process: {same_state}")
    return {
        "benchmark": "headcount", "contributions": len(first), "months": len(MONTHS), "enterprises": ENTERPRISES,
        "after_3_months": three, "after_4_months": four, "in_process_per_s": local["per_s"],
        "stack_contributions": len(rows), "stack_seconds": round(seconds, 1), "stack_per_s": round(len(rows) / seconds),
        "intake_seconds": round(intake_seconds, 1), "produce_seconds": round(produce_seconds, 1),
        "recovered": figures, "same_state": same_state, "alerts": len(alerts), "expected_alerts": len(wanted),
        "target": "bounded: a 4th month holds no more than 3 did; the recovered Table equals the in-process state; "
                  "the expected alerts, each once",
        "met": four["entries"] <= three["entries"] * 1.01 and same_state and alerts == wanted == set(local["alerts"]),
    }


if __name__ == "__main__":  # python -m bench.headcount_bench [N]: the in-process figures only, no stack
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows_3, rows_4 = workload(count, "L")
    result = asyncio.run(in_process(rows_3, rows_4, 1000))
    result.pop("state")
    result["alerts"] = len(result["alerts"])
    print(json.dumps({"contributions": len(rows_3), **result}, indent=2))
