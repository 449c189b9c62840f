"""The `simulate` benchmark (issue 7): N unemployment-insurance (K2) cases over 2 simulated years
through the real `jiuye simulate` command (a script, not a test).

Generates a scenario of `size` `ui.claim.filed` events spread over the first three months of
2020 across Liaoning's 14 cities, with a sprinkle of follow-up events: re-employment for about a
fifth of the claimants (`employment.registered` or `contract.signed`), the province's epidemic
declared and lifted, and a price linkage for one city. Some claims are ineligible (voluntary
separation, too few insured months) and open a K3 case; a few claimants retire within the two
years. The scenario is written as JSONL to a temporary directory and run as

    jiuye simulate FILE --until <first claim + 2 years> --json

in a subprocess of the installed CLI, so the wall time is the real command's (process start,
the time-skipping server, the whole replay). Target (issue 16): >= 3,000 case-years per wall
minute at 1,000 cases, and a per-case-year cost flat within ±25 % from 250 to 4,000 cases (compare
`cpu_ms_per_case_year` across sizes run on one machine: steadier than wall time when it is shared).

Usage: .venv/bin/python bench/simulate_bench.py [SIZE ...] [--seed N] [--keep DIR] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from contracts import kinds
from policy.calendar import SHANGHAI
from testkit.events import cloud_event, line

TARGET = 3000  # case-years per wall minute at 1,000 cases (issue 16; issue 7 asked 1,000)
CITIES = [f"21{n:02d}" for n in range(1, 15)]
FIRST_CLAIM = date(2020, 1, 2)
CLAIM_SPREAD_DAYS = 90
YEARS = 2


def _jiuye() -> str:
    """The installed CLI next to this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "jiuye"
    return str(beside) if beside.exists() else "jiuye"


def _event(ident: str, source: str, type_: str, subject: str, on: date, hour: int, minute: int, data: dict[str, Any]) -> str:
    when = datetime.combine(on, datetime.min.time(), SHANGHAI).replace(hour=hour, minute=minute)
    return line(cloud_event(id=ident, source=source, type=type_, subject=subject, on=when, data=data)).decode()


def generate(size: int, seed: int = 7) -> tuple[list[str], date]:
    """The scenario's lines (any order; simulate orders them by time) and the --until date."""
    rng = random.Random(seed)
    lines: list[str] = []
    until = date(FIRST_CLAIM.year + YEARS, FIRST_CLAIM.month, FIRST_CLAIM.day)
    for i in range(size):
        person = f"P{i:07d}"
        city = CITIES[0] if rng.random() < 0.3 else rng.choice(CITIES)  # Shenyang is the big one
        claim_on = FIRST_CLAIM + timedelta(days=rng.randrange(CLAIM_SPREAD_DAYS))
        roll = rng.random()
        if roll < 0.04:
            insured = rng.randrange(1, 12)  # too few months: ineligible, K3
        elif roll < 0.70:
            insured = rng.randrange(12, 60)  # 12 months
        elif roll < 0.90:
            insured = rng.randrange(60, 120)  # 18 months
        else:
            insured = rng.randrange(120, 360)  # 24 months
        involuntary = rng.random() >= 0.05  # voluntary separation: ineligible, K3
        if rng.random() < 0.03:
            retirement = claim_on + timedelta(days=rng.randrange(200, 700))  # retires inside the window
        else:
            retirement = date(2030 + rng.randrange(20), rng.randrange(1, 13), 1)
        lines.append(
            _event(
                f"bench-claim-{i}", f"si/{city}", "ui.claim.filed", f"person/{person}", claim_on, 9, rng.randrange(60),
                {
                    "person_id": person,
                    "city": city,
                    "claim_on": claim_on.isoformat(),
                    "insured_months": insured,
                    "involuntary": involuntary,
                    "retirement_date": retirement.isoformat(),
                },
            )
        )
        if rng.random() < 0.2:
            on = claim_on + timedelta(days=rng.randrange(30, 2 * 365))
            if rng.random() < 0.5:
                lines.append(
                    _event(
                        f"bench-reg-{i}", f"reg/{city}", "employment.registered", f"person/{person}", on, 10, 0,
                        {"person_id": person, "city": city, "on": on.isoformat(), "kind": "employee", "employer_id": f"E{i % 97:05d}"},
                    )
                )
            else:
                lines.append(
                    _event(
                        f"bench-contract-{i}", f"labor/{city}", "contract.signed", f"person/{person}", on, 10, 0,
                        {
                            "person_id": person,
                            "employer_id": f"E{i % 97:05d}",
                            "signed_on": on.isoformat(),
                            "starts_on": (on + timedelta(days=rng.randrange(0, 20))).isoformat(),
                            "term_months": rng.choice([12, 24, 36, None]),
                        },
                    )
                )
    # Shared facts, fanned out to every open case of the kinds that hold them.
    declared, lifted = date(2020, 1, 25), date(2020, 5, 8)
    lines.append(_event("bench-epi-1", "policy/21", "policy.epidemic.declared", "province/21", declared, 8, 0, {"on": declared.isoformat()}))
    lines.append(_event("bench-epi-2", "policy/21", "policy.epidemic.lifted", "province/21", lifted, 8, 0, {"on": lifted.isoformat()}))
    linkage = date(2020, 6, 10)
    lines.append(
        _event("bench-link-1", f"policy/{CITIES[0]}", "policy.price_linkage.triggered", f"city/{CITIES[0]}", linkage, 8, 0,
               {"city": CITIES[0], "month": "2020-06", "amount": 5000})
    )
    return lines, until


def run(size: int, *, progress: bool = True, seed: int = 7, keep: Path | None = None) -> dict[str, Any]:
    """Generate `size` K2 cases, run them through `jiuye simulate`, return the figures."""
    lines, until = generate(size, seed)
    with tempfile.TemporaryDirectory(prefix="jiuye-simbench-") as tmp:
        path = Path(tmp) / f"k2_bench_{size}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            (keep / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        command = [_jiuye(), "simulate", str(path), "--until", until.isoformat(), "--json"]
        if progress:
            command.append("--progress")
            print(f"simulate bench: {size} cases, {len(lines)} events: {' '.join(command)}", file=sys.stderr)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=None if progress else subprocess.PIPE, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        detail = (done.stderr or b"").decode(errors="replace")[-2000:]
        raise RuntimeError(f"jiuye simulate exited {done.returncode}: {detail}")
    result = json.loads(done.stdout)
    cases = [c for c in result["cases"] if c["kind"] == kinds.UNEMPLOYMENT_INSURANCE]
    simulated_years = round((until - FIRST_CLAIM).days / 365.25, 3)
    case_years = round(len(cases) * simulated_years, 1)
    rate = case_years / (wall / 60) if wall > 0 else 0.0
    statuses: dict[str, int] = {}
    for c in result["cases"]:
        statuses[f"{c['kind']}:{c['status']}"] = statuses.get(f"{c['kind']}:{c['status']}", 0) + 1
    return {
        "benchmark": "simulate",
        "cases": len(cases),
        "events": len(lines),
        "all_cases": len(result["cases"]),
        "statuses": dict(sorted(statuses.items())),
        "simulated_years": simulated_years,
        "case_years": case_years,
        "wall_seconds": round(wall, 1),
        # CPU of the command and its time-skipping server (user + system): steadier than wall
        # time on a shared machine; above wall_seconds when both processes were busy at once.
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "case_years_per_minute": round(rate, 1),
        # The per-case-year cost whose flatness with N issue 16 asks for.
        "cpu_ms_per_case_year": round(1000 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
                                      / case_years, 1) if case_years else None,
        "payments": len(result["payments"]),
        "dead_letters": len(result["dead_letters"]),
        "target": TARGET,
        "met": rate >= TARGET,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000], help="cases per run (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="also write the generated scenario(s) to this directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    for size in args.sizes:
        print(json.dumps(run(size, progress=not args.quiet, seed=args.seed, keep=args.keep), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
