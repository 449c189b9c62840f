"""headcount: what M2 (§23 headcount_drop) costs now that its headcounts are counted from the stored
contribution facts (issue 16 item 2), for N contributions over 3 months; it was the size of a
faust Table until then (issue 17: "Show the state size for 100,000 contributions over 3 months").

The workload: 1,000 enterprises of skewed sizes (a few thousand persons down to a handful),
their N employer contributions over 3 months, each enterprise's payroll produced together (as an
SI system sends it); then a 4th month (the same persons, every 10th enterprise with 30 % fewer
in month 3, which the 4th month's first contribution finds: a `headcount_drop` alert each).

Two measurements of the same stream:
  (a) in process: MemoryStore and `HeadcountMonitor` as `jiuye simulate` runs them, fed in
      batches of `intake_batch_max` records (facts stored, then judged): the store statements
      M2 makes (comparisons asked, months recorded), the months compared, and the rate;
  (b) on the stack: the contributions produced to Kafka for a real `jiuye streams`, month by
      month (stopped while a month is produced, then continued until the intake committed it; M2
      is judged inside each batch, before its commit, so there is nothing after); the rate is N /
      the sum of those times;
      then what PostgreSQL holds for M2 (the `contribution_facts` rows K7 keeps anyway, and
      `headcount_judged`, one row per enterprise and month compared), the alerts (must be the
      expected ones), and the comparison statement itself, timed with EXPLAIN ANALYZE for a
      batch that brings a new month for all 1,000 enterprises (the worst batch: every arrival
      counted) and for one whose months are compared already (the common batch).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from activities.memory_store import MemoryStore
from bench.events import contribution, produce
from bench.harness import BenchRun, say, wait_for
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


def batches(rows: Iterable[tuple[str, str, str]], batch: int) -> Iterator[list[tuple[str, str, str]]]:
    stream = iter(rows)
    while chunk := list(itertools.islice(stream, batch)):
        yield chunk


class CountingStore(MemoryStore):
    """MemoryStore counting M2's statements (the figure (a) reports), nothing else changed."""

    asked = 0
    recorded = 0

    async def headcount_comparisons(self, arrivals: Sequence[headcount_drop.Arrival]) -> list[headcount_drop.Comparison]:
        self.asked += 1
        return await super().headcount_comparisons(arrivals)

    async def mark_headcount_judged(self, judged: Sequence[tuple[str, str]]) -> None:
        self.recorded += 1
        await super().mark_headcount_judged(judged)


async def in_process(first: list[tuple[str, str, str]], after: list[tuple[str, str, str]], batch: int) -> dict[str, Any]:
    """The figures of (a)."""
    from bench.events import contribution as record
    from contracts.events import parse_event
    from policy.pack import load_pack
    from streams.headcount_monitor import HeadcountMonitor
    from streams.intake import Outcome

    pack = load_pack()
    store = CountingStore()
    monitor = HeadcountMonitor(pack, store)
    chunks = [[Outcome("ignored", "", parse_event(record(p, i, m, e)[2])) for i, (e, m, p) in enumerate(chunk)]
              for chunk in batches(first + after, batch)]
    started = time.perf_counter()
    for outcomes in chunks:
        await store.store_subject_facts([(o.event, []) for o in outcomes if o.event is not None])
        await monitor.judge(outcomes)
    seconds = time.perf_counter() - started
    return {"batches": len(chunks), "asked": store.asked, "recorded": store.recorded,
            "months_compared": len(store.headcount_judged), "per_s": round(len(first + after) / seconds),
            "alerts": sorted(a["alert_id"] for a in store.alerts)}


async def statement_ms(run_: BenchRun, tag: str, months: tuple[str, str]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the comparison statement for all enterprises arriving in `months[0]` (M+1)
    and for all arriving in `months[1]`: execution ms and whether the plan reads the employer index."""
    from activities.headcount_facts import _COMPARISONS, comparison_arguments

    figures: dict[str, Any] = {}
    for label, month in zip(("new_month", "compared"), months, strict=True):
        arrivals = headcount_drop.arrivals((f"{tag}E{e:04d}", month) for e in range(ENTERPRISES))
        plan = await run_.scalar(f"EXPLAIN (ANALYZE, FORMAT JSON) {_COMPARISONS}", *comparison_arguments(arrivals))
        doc = json.loads(plan)[0] if isinstance(plan, str) else plan[0]
        text = json.dumps(doc)
        figures[label] = {"ms": round(doc["Execution Time"], 1), "rows": doc["Plan"].get("Actual Rows"),
                          "uses_employer_index": "contribution_facts_by_employer" in text,
                          "seq_scan": '"Seq Scan"' in text, "jit": '"JIT"' in text}
    return figures


async def run(base: Settings, n: int, progress: bool = True) -> dict[str, Any]:
    async with BenchRun(base, "headcount") as run_:
        tag = f"B{run_.tag}"
        first, after = workload(n, tag)
        local = await in_process(first, after, run_.settings.intake_batch_max)
        say(f"headcount: in process {len(first) + len(after):,} contributions in {local['batches']:,} batches → "
            f"{local['asked']:,} comparison statements, {local['recorded']:,} judged-month writes, "
            f"{local['months_compared']:,} months compared, {local['per_s']:,}/s")
        streams = await run_.start_streams(["si.contributions"])
        rows = first + after

        async def intake_done() -> bool:
            streams.check()
            return await run_.kafka.lag(run_.settings.consumer_group, await run_.kafka.ends(["si.contributions"])) == 0

        # Month by month, as an SI system sends its monthly files: each produced while the streams
        # process is stopped, then timed from SIGCONT until committed. Months produced back to back
        # would reach the intake's partitions at different paces (records are keyed by person), and
        # a batch bringing M+1 could judge M while M's rest is still on other partitions.
        seconds = produce_seconds = 0.0
        timeout = max(600, len(rows) / 100)
        offset = 0
        for month in (*MONTHS, NEXT_MONTH):
            monthly = [r for r in rows if r[1] == month]
            streams.pause()
            records = (contribution(person, offset + i, m, enterprise) for i, (enterprise, m, person) in enumerate(monthly))
            produce_seconds += await produce(run_.settings, records, len(monthly), f"contributions {month}", progress)
            offset += len(monthly)
            started = time.perf_counter()
            streams.resume()
            await wait_for(intake_done, f"{len(monthly):,} contributions of {month} committed by the intake",
                           timeout=timeout, interval=0.2)
            seconds += time.perf_counter() - started
        raised = await run_.fetch("SELECT alert_id, details FROM alerts WHERE kind = $1", headcount_drop.ALERT)
        alerts = {r["alert_id"] for r in raised}
        # An alert not expected: was month M still arriving on other partitions when M+1's first
        # batch judged it (its headcount then below the month's final one)?
        partial = 0
        for r in raised:
            if r["alert_id"] not in expected_alerts(first):
                details = json.loads(r["details"]) if isinstance(r["details"], str) else r["details"]
                final = await run_.scalar("SELECT count(*) FROM contribution_facts WHERE employer_id = $1 AND month = $2",
                                          details["enterprise_id"], details["month"])
                partial += final > details["headcount"]
        held = {
            "fact_rows": await run_.scalar("SELECT count(*) FROM contribution_facts"),
            "judged_rows": await run_.scalar("SELECT count(*) FROM headcount_judged"),
            "judged_bytes": await run_.scalar("SELECT pg_total_relation_size('headcount_judged')"),
        }
        await run_.scalar("VACUUM ANALYZE contribution_facts")
        timed = await statement_ms(run_, tag, ("2020-07", NEXT_MONTH))
    wanted = expected_alerts(first)
    say(f"headcount: on the stack {len(rows):,} contributions in {seconds:.1f} s ({len(rows) / seconds:,.0f}/s); "
        f"{held['fact_rows']:,} fact rows, {held['judged_rows']:,} judged rows ({held['judged_bytes'] / 1e3:.0f} kB); "
        f"{len(alerts)} alerts (expected {len(wanted)}); statement for 1,000 new months {timed['new_month']['ms']} ms, "
        f"for 1,000 compared {timed['compared']['ms']} ms")
    return {
        "benchmark": "headcount", "contributions": len(first), "months": len(MONTHS), "enterprises": ENTERPRISES,
        "in_process": {k: v for k, v in local.items() if k != "alerts"},
        "stack_contributions": len(rows), "stack_seconds": round(seconds, 1), "stack_per_s": round(len(rows) / seconds),
        "produce_seconds": round(produce_seconds, 1), "held": held, "statement": timed,
        "alerts": len(alerts), "expected_alerts": len(wanted), "unexpected_with_month_still_arriving": partial,
        "target": "one comparison statement per batch at most; state = the facts plus one row per enterprise and month "
                  "compared; the expected alerts, each once",
        "met": (local["asked"] <= local["batches"] and alerts == wanted == set(local["alerts"])
                and held["judged_rows"] <= ENTERPRISES * (len(MONTHS) + 1)),
    }


if __name__ == "__main__":  # python -m bench.headcount_bench [N]: the in-process figures only, no stack
    import sys

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rows_3, rows_4 = workload(count, "L")
    result = asyncio.run(in_process(rows_3, rows_4, 1000))
    result["alerts"] = len(result["alerts"])
    print(json.dumps({"contributions": len(rows_3), **result}, indent=2))
