"""`jiuye bench`: bring the stack up, run the issue-7 benchmarks in isolated runs, print one table
(stdout; progress on stderr) or JSON.

    jiuye bench [--only intake,capacity,filter,mixed,simulate,memory,latency,headcount] [--size small|full|both] [--json]
                [--streams N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import signal
import sys
import time
import traceback
from typing import Any

from testkit.errors import KitError

BENCHMARKS = ("intake", "capacity", "filter", "mixed", "simulate", "memory", "latency", "headcount")
SIZES: dict[str, dict[str, int]] = {
    "intake": {"small": 1_000, "full": 2_000},        # relevant events
    "capacity": {"small": 15, "full": 60},            # seconds each offered rate is held
    "filter": {"small": 200_000, "full": 1_000_000},  # contributions
    "mixed": {"small": 200_000, "full": 1_000_000},   # contributions, 1 % relevant
    "simulate": {"small": 250, "full": 1_000},        # K2 cases over 2 simulated years
    "memory": {"small": 2_500, "full": 10_000},       # open cases
    "latency": {"small": 300, "full": 1_000},         # paid applications
    "headcount": {"small": 20_000, "full": 100_000},  # contributions over 3 months (M2's state)
}
# The capacity benchmark's raw baseline: one-local-activity workflows in a burst.
RAW_WORKFLOWS = {"small": 1_000, "full": 2_000}


def register(sub: Any) -> None:
    """Add `bench` to the `jiuye` subcommands."""
    parser = sub.add_parser(
        "bench",
        help="run the performance benchmarks (issues 7 and 16) on the real stack and print the figures",
        description="Bring the stack up (jiuye dev up), then run each benchmark in an isolated run (a fresh "
        "database, consumer group, task queue, run tag and Kafka topics under a run prefix, deleted at the end; "
        "real `jiuye worker` and `jiuye streams` subprocesses) and print one table: the figure, the side-by-side baseline, the ratio, the target, "
        "met or not, and the machine. capacity steps a constant offered rate of K11 applications (15 s a step at small, 60 s at full) "
        "to the highest the Kafka → ledger path keeps up with, against a raw one-local-activity workflow on its own bench worker; "
        "latency runs at half that capacity (a fixed 10/s without it). Progress goes to stderr.",
    )
    parser.add_argument("--only", type=_only, default=list(BENCHMARKS),
                        help=f"comma-separated benchmarks to run (default all: {','.join(BENCHMARKS)})")
    parser.add_argument("--size", choices=("small", "full", "both"), default="both",
                        help="small (a few minutes each), full (the issue's sizes) or both (default)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of the table")
    parser.add_argument("--streams", type=_positive, default=1, metavar="N",
                        help="filter: N `jiuye streams` processes in the run's group sharing the partitions "
                             "(default 1; issue 16's scale-out question)")
    parser.add_argument("--topology", choices=("single", "cluster"), default="single",
                        help="the stack to measure: single (default) or cluster (`jiuye dev up --topology "
                             "cluster`: the Temporal server on PostgreSQL, three Kafka nodes)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number ≥ 1, not {text!r}")
    return int(text)


def _only(text: str) -> list[str]:
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in BENCHMARKS]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(f"unknown benchmark(s) {', '.join(unknown) or '(none)'}; choose from {','.join(BENCHMARKS)}")
    return [b for b in BENCHMARKS if b in wanted]


def run(args: argparse.Namespace) -> int:
    from bench.harness import base_settings, ensure_stack, machine_info, postgres_version, say

    settings = base_settings(args.topology)
    sizes = ["small", "full"] if args.size == "both" else [args.size]
    started = time.monotonic()
    try:
        ensure_stack(settings, args.topology)
    except KitError as exc:
        print(f"jiuye bench: {exc}", file=sys.stderr)
        return 2
    try:
        results = asyncio.run(_run_all(settings, args.only, sizes, streams=args.streams))
    except KitError as exc:
        print(f"jiuye bench: {exc}", file=sys.stderr)
        return 2
    except asyncio.CancelledError:
        print("jiuye bench: stopped by SIGTERM; the running benchmark's processes, database and topics were removed",
              file=sys.stderr)
        return 128 + signal.SIGTERM
    machine = machine_info(settings, asyncio.run(postgres_version(settings)))
    say(f"done in {time.monotonic() - started:.0f} s")
    if args.json:
        print(json.dumps({"machine": machine, "results": results}, indent=2, ensure_ascii=False))
    else:
        print(render(results, machine))
    return 0 if all(r.get("met") for r in results) else 1


async def _run_all(settings: Any, only: list[str], sizes: list[str], streams: int = 1) -> list[dict[str, Any]]:
    from bench.harness import ensure_namespace, say

    # SIGTERM cancels the run, so that the running benchmark's `async with BenchRun` stops its
    # worker and streams subprocesses and drops its database and topics, as Ctrl-C does; the
    # default action would end this process and leave them running.
    main = asyncio.current_task()
    assert main is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    await ensure_namespace(settings)
    results: list[dict[str, Any]] = []
    for size in sizes:
        for name in only:
            n = SIZES[name][size]
            say(f"=== {name} ({size}, {n:,}) ===")
            began = time.monotonic()
            try:
                result = await _one(name, settings, n, size, results, streams)
            except (KitError, Exception) as exc:  # one failing benchmark does not stop the others
                say(f"{name} ({size}) failed: {type(exc).__name__}: {exc}")
                if not isinstance(exc, KitError):
                    traceback.print_exc(file=sys.stderr)
                result = {"benchmark": name, "error": f"{type(exc).__name__}: {exc}"}
            result.update(size=size, size_n=n, seconds=round(time.monotonic() - began, 1))
            results.append(result)
    return results


def _found(results: list[dict[str, Any]], name: str, size: str, key: str) -> Any:
    """`key` of the `name` result of the same size, else of any size, else None."""
    for wanted in (size, None):
        for r in results:
            if r.get("benchmark") == name and key in r and (wanted is None or r.get("size") == wanted):
                return r[key]
    return None


async def _one(name: str, settings: Any, n: int, size: str, results: list[dict[str, Any]],
               streams: int = 1) -> dict[str, Any]:
    if name == "intake":
        from bench import intake_bench

        return await intake_bench.run(settings, n)
    if name == "capacity":
        from bench import capacity_bench

        return await capacity_bench.run(settings, hold=n, raw_n=RAW_WORKFLOWS[size])
    if name == "filter":
        from bench import filter_bench

        return await filter_bench.run_filter(settings, n, streams_n=streams)
    if name == "mixed":
        from bench import filter_bench

        return await filter_bench.run_mixed(settings, n, filter_seconds=_found(results, "filter", size, "streams_seconds"),
                                            intake_rate=_found(results, "intake", size, "intake_per_s"))
    if name == "memory":
        from bench import memory_bench

        return await memory_bench.run(settings, n)
    if name == "latency":
        from bench import latency_bench

        # Below capacity, so that it measures the path and not a queue (issue 16).
        capacity = _found(results, "capacity", size, "capacity_per_s")
        return await latency_bench.run(settings, n, rate=capacity / 2 if capacity else None)
    if name == "simulate":
        return await _simulate(n)
    if name == "headcount":
        from bench import headcount_bench

        return await headcount_bench.run(settings, n)
    raise ValueError(name)


async def _simulate(n: int) -> dict[str, Any]:
    """bench/simulate_bench.py's `run(size) -> dict`, imported only when asked for."""
    try:
        module = importlib.import_module("bench.simulate_bench")
        function = module.run
    except (ImportError, AttributeError):
        return {"benchmark": "simulate", "met": False, "available": False,
                "error": "not available (bench/simulate_bench.py with run(size) not found)"}
    return dict(await asyncio.to_thread(function, n))


# --- the table ---------------------------------------------------------------------------------


def _processes(r: dict[str, Any]) -> str:
    n = r.get("streams_processes", 1)
    return "streams " if n == 1 else f"{n} streams processes "


def _row(r: dict[str, Any]) -> list[str]:
    name, size = r["benchmark"], f"{r['size']} ({r['size_n']:,})"
    if "error" in r:
        return [name, size, "—", "—", "—", "", "ERROR", r["error"][:120]]
    met = "met" if r.get("met") else "NOT met"
    if name == "intake":
        return [name, size, f"{r['intake_per_s']:,.0f}/s", f"raw SWS {r['raw_per_s']:,.0f}/s", f"{r['ratio']:.2f}",
                "ratio ≥ 0.8", met,
                f"intake {r['intake_seconds']} s (from first produce; produce {r['produce_seconds']} s), raw {r['raw_seconds']} s"]
    if name == "capacity":
        fell = f"fell behind at {r['fell_behind_at_per_s']:,.1f}/s" if r.get("fell_behind_at_per_s") else "never fell behind"
        return [name, size, f"{r['capacity_per_s']:,.1f} settled/s", f"raw 1-local-activity {r['raw_per_s']:,.1f}/s",
                f"{r['ratio']:.2f}", "ratio ≥ 0.8", met,
                f"kept up {r['hold_seconds']} s a step (all paid ≤ {r['grace_seconds']:g} s after the last emit), {fell}; "
                f"{len(r['steps'])} steps; raw {r['raw_n']:,} in {r['raw_seconds']} s"]
    if name == "filter":
        return [name, size, f"{r['streams_per_s']:,}/s", f"bare aiokafka {r['bare_per_s']:,}/s"
                + (f", empty faust agent {r['faust_ceiling_per_s']:,}/s" if r.get("faust_ceiling_per_s") else ""), f"{r['ratio']:.3f}",
                "≥ 50,000/s, ratio ≥ 0.2, 0 to Temporal", met,
                f"{_processes(r)}{r['streams_seconds']} s to lag 0, bare {r['bare_seconds']} s; workflows "
                f"{r['workflows_before']}→{r['workflows_after']}, inbox {r['inbox_states']}; facts: "
                f"{r['facts_rows_added']:,} rows for {r['facts_pairs']:,} (person, month) = {r['facts_rows_per_pair']} "
                f"per pair (≤ 2: {'met' if r['facts_met'] else 'NOT met'})"]
    if name == "mixed":
        predicted = f"filter + rel/intake {r['predicted_seconds']} s" if r["predicted_seconds"] else "— (filter not run)"
        return [name, size, f"wall {r['wall_seconds']} s", predicted, f"{r['ratio']:.2f}" if r["ratio"] else "—",
                "all relevant applied, wall ≈ prediction", met,
                f"{r['relevant_applied']:,}/{r['relevant']:,} relevant applied, {r['per_s']:,}/s overall, "
                f"intake rate used {r['intake_rate_used']}/s"]
    if name == "simulate":
        rate = r.get("case_years_per_minute")
        target = r.get("target", 3000)
        return [name, size, f"{rate:,.0f} case-years/min" if rate is not None else "—", "—",
                f"{rate / target:.2f} of target" if rate is not None else "—", f"≥ {target:,} case-years/min", met,
                f"{r.get('cases')} K2 cases, {r.get('simulated_years')} years, wall {r.get('wall_seconds')} s, "
                f"CPU {r.get('cpu_seconds')} s ({r.get('cpu_ms_per_case_year')} ms a case-year)"]
    if name == "memory":
        return [name, size, f"worker {r['worker_mb_per_10k']} / streams {r['streams_mb_per_10k']} MB per 10k",
                f"idle worker {r['idle_mb']['worker']} / streams {r['idle_mb']['streams']} MB", "—",
                "≤ 50 MB per 10k cases", met,
                f"with {r['k']:,} open cases: worker {r['loaded_mb']['worker']} MB, streams {r['loaded_mb']['streams']} MB; "
                f"marginal (after {r['warm_k']:,} warm-up cases) worker {r['marginal_mb_per_10k']['worker']} / "
                f"streams {r['marginal_mb_per_10k']['streams']} MB per 10k"]
    if name == "latency":
        offered = f"at {r['rate_per_s']}/s" + (" (½ capacity)" if r.get("rate_source") == "capacity" else " (fixed)")
        return [name, size, f"p50 {r['p50_s']} s, p99 {r['p99_s']} s", offered, f"paid {r['paid_per_s']}/s", "p99 ≤ 1 s", met,
                f"max {r['max_s']} s; emit→inbox applied p50 {r['intake_p50_s']} / p99 {r['intake_p99_s']} s, "
                f"applied→ledger p50 {r['case_p50_s']} / p99 {r['case_p99_s']} s"]
    if name == "headcount":
        local, held, timed = r["in_process"], r["held"], r["statement"]
        return [name, size, f"{local['asked']:,} statements / {local['batches']:,} batches",
                f"stack {r['stack_per_s']:,}/s", f"{local['asked'] / max(1, local['batches']):.2f}",
                "≤ 1 statement a batch; alerts as expected", met,
                f"{r['contributions']:,} contributions over {r['months']} months + a 4th, {r['enterprises']:,} enterprises; "
                f"held: {held['fact_rows']:,} fact rows (K7's), {held['judged_rows']:,} judged rows "
                f"({held['judged_bytes'] / 1e3:.0f} kB); statement {timed['new_month']['ms']} ms for 1,000 new months, "
                f"{timed['compared']['ms']} ms for 1,000 compared (employer index: {timed['new_month']['uses_employer_index']}, "
                f"seq scan: {timed['new_month']['seq_scan']}, JIT: {timed['new_month']['jit']}); "
                f"in process {local['per_s']:,}/s; alerts {r['alerts']}/{r['expected_alerts']} "
                f"({r['unexpected_with_month_still_arriving']} unexpected ones judged while M was still arriving)"]
    return [name, size, "", "", "", "", met, json.dumps(r)[:120]]


def render(results: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    header = ["benchmark", "size", "measured", "baseline (same run)", "ratio", "target", "", "absolute"]
    rows = [header] + [_row(r) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1] for row in rows]
    m = machine
    lines += ["", f"machine: {m['cores']} cores, {m['ram_gb']} GB RAM, {m['cpu']}; {m['platform']}",
              f"date {m['date']}, git {m['git_commit']}; Python {m['python']}, {m['temporal'] or 'temporal ?'}, "
              f"Kafka {m['kafka']}, PostgreSQL {m['postgresql'] or '?'}"]
    return "\n".join(lines)
