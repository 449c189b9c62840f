"""`jiuye bench`'s command line and table (the benchmarks themselves are scripts, not tests)."""

from __future__ import annotations

import argparse

import pytest

from app.cli import build_parser
from bench.cli import BENCHMARKS, SIZES, _only, render


def test_every_benchmark_of_the_issue_runs_at_two_sizes_the_full_one_at_the_issues_size() -> None:
    assert set(BENCHMARKS) == {"intake", "capacity", "filter", "mixed", "simulate", "memory", "latency", "headcount"}
    assert all(SIZES[b]["small"] < SIZES[b]["full"] for b in BENCHMARKS)
    assert SIZES["intake"]["full"] >= 2_000 and SIZES["filter"]["full"] == 1_000_000
    assert SIZES["simulate"]["full"] == 1_000 and SIZES["memory"]["full"] == 10_000
    assert SIZES["headcount"]["full"] == 100_000  # issue 17: 100,000 contributions over 3 months
    assert SIZES["capacity"]["full"] == 60  # issue 16: keeps up for 60 s


def test_capacity_runs_before_latency_which_is_measured_at_half_of_it() -> None:
    assert BENCHMARKS.index("capacity") < BENCHMARKS.index("latency")
    assert _only("latency,capacity") == ["capacity", "latency"]


def test_only_keeps_the_benchmarks_order_and_refuses_unknown_names() -> None:
    assert _only("latency,intake") == ["intake", "latency"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown benchmark"):
        _only("intake,speed")


def test_bench_is_a_jiuye_subcommand() -> None:
    args = build_parser().parse_args(["bench", "--only", "filter", "--size", "small", "--json"])
    assert args.only == ["filter"] and args.size == "small" and args.json


def test_bench_streams_takes_a_count_of_processes_for_the_filter() -> None:
    assert build_parser().parse_args(["bench", "--only", "filter"]).streams == 1
    assert build_parser().parse_args(["bench", "--only", "filter", "--streams", "2"]).streams == 2
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["bench", "--streams", bad])


def test_the_table_says_met_or_not_and_names_the_machine() -> None:
    machine = {"cores": 2, "ram_gb": 23.5, "cpu": "cpu", "platform": "linux", "date": "2026-11-27", "git_commit": "abc",
               "python": "3.11", "temporal": "temporal 1.9.1", "kafka": "4.1.1", "postgresql": "15"}
    results = [
        {"benchmark": "intake", "size": "small", "size_n": 1000, "intake_per_s": 90.0, "raw_per_s": 100.0, "ratio": 0.9,
         "met": True, "intake_seconds": 11.1, "produce_seconds": 0.1, "raw_seconds": 10.0},
        {"benchmark": "simulate", "size": "small", "size_n": 250, "error": "boom"},
    ]
    table = render(results, machine)
    assert "ratio ≥ 0.8" in table and " met " in table and "ERROR" in table and "2 cores" in table


def test_the_capacity_row_shows_the_raw_one_local_activity_baseline_and_latency_says_its_rate() -> None:
    machine = {"cores": 2, "ram_gb": 23.5, "cpu": "cpu", "platform": "linux", "date": "2026-12-02", "git_commit": "abc",
               "python": "3.11", "temporal": "temporal 1.9.1", "kafka": "4.1.1", "postgresql": "15"}
    steps = [{"rate_per_s": 10.0, "n": 150, "kept_up": True}, {"rate_per_s": 15.0, "n": 225, "kept_up": False}]
    results = [
        {"benchmark": "capacity", "size": "small", "size_n": 15, "capacity_per_s": 12.5, "raw_per_s": 50.0, "ratio": 0.25,
         "met": False, "hold_seconds": 15, "grace_seconds": 2.0, "fell_behind_at_per_s": 15.0, "steps": steps,
         "raw_n": 1000, "raw_seconds": 20.0},
        {"benchmark": "latency", "size": "small", "size_n": 300, "p50_s": 0.2, "p99_s": 0.6, "rate_per_s": 6.2,
         "rate_source": "capacity", "paid_per_s": 6.1, "met": True, "max_s": 0.7, "intake_p50_s": 0.1,
         "intake_p99_s": 0.2, "case_p50_s": 0.1, "case_p99_s": 0.4},
    ]
    capacity_line, latency_line = render(results, machine).splitlines()[1:3]
    assert "12.5 settled/s" in capacity_line and "raw 1-local-activity 50.0/s" in capacity_line
    assert "0.25" in capacity_line and "NOT met" in capacity_line and "fell behind at 15.0/s" in capacity_line
    assert "at 6.2/s (½ capacity)" in latency_line and "p99 0.6 s" in latency_line


def test_sigterm_stops_the_run_through_the_running_benchmarks_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM cancels `jiuye bench`'s run, so the running benchmark leaves through its
    `async with BenchRun` (subprocesses stopped, database and topics removed) instead of the
    process ending with them left running."""
    import asyncio
    import os
    import signal

    import bench.cli as cli
    import bench.harness as harness

    cleaned: list[str] = []

    async def no_namespace(settings: object) -> None:
        return None

    async def running_benchmark(name: str, *args: object, **kwargs: object) -> dict[str, object]:
        try:
            asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
            await asyncio.sleep(30)
            return {"benchmark": name}
        finally:
            cleaned.append(name)

    monkeypatch.setattr(harness, "ensure_namespace", no_namespace)
    monkeypatch.setattr(cli, "_one", running_benchmark)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cli._run_all(object(), ["intake", "filter"], ["small"]))
    assert cleaned == ["intake"]  # the running one left through its cleanup; no other began
