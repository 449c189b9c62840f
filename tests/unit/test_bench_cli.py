"""`jiuye bench`'s command line and table (the benchmarks themselves are scripts, not tests)."""

from __future__ import annotations

import argparse

import pytest

from app.cli import build_parser
from bench.cli import BENCHMARKS, SIZES, _only, render


def test_every_benchmark_of_the_issue_runs_at_two_sizes_the_full_one_at_the_issues_size() -> None:
    assert set(BENCHMARKS) == {"intake", "filter", "mixed", "simulate", "memory", "latency", "headcount"}
    assert all(SIZES[b]["small"] < SIZES[b]["full"] for b in BENCHMARKS)
    assert SIZES["intake"]["full"] >= 2_000 and SIZES["filter"]["full"] == 1_000_000
    assert SIZES["simulate"]["full"] == 1_000 and SIZES["memory"]["full"] == 10_000
    assert SIZES["headcount"]["full"] == 100_000  # issue 17: 100,000 contributions over 3 months


def test_only_keeps_the_benchmarks_order_and_refuses_unknown_names() -> None:
    assert _only("latency,intake") == ["intake", "latency"]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown benchmark"):
        _only("intake,speed")


def test_bench_is_a_jiuye_subcommand() -> None:
    args = build_parser().parse_args(["bench", "--only", "filter", "--size", "small", "--json"])
    assert args.only == ["filter"] and args.size == "small" and args.json


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
