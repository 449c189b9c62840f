"""`jiuye demo`: the whole stack with a demo scenario, end to end, then a summary."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import asyncpg

from console.demo_scenario import generate
from console.service.queries import WORTH_FEN
from contracts.settings import Settings


def _start(name: str, settings: Settings, logs: Path) -> subprocess.Popen[bytes]:
    log = (logs / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "console.cli", name],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
        env=os.environ.copy(),
        start_new_session=True,
    )


def run_demo(settings: Settings, cases: int = 36, timeout: float = 180.0) -> int:
    from deploy import stack

    began = time.monotonic()
    stack.up(settings)
    tag = "D" + datetime.now().strftime("%y%m%d%H%M%S")
    folder = settings.state_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = generate(cases, tag)
    path = folder / f"scenario-{tag}.jsonl"
    path.write_text(scenario.text(), encoding="utf-8")
    print(f"demo: scenario {path} ({len(scenario.lines)} records, {scenario.internships} internships)", file=sys.stderr)

    processes = {name: _start(name, settings, folder) for name in ("worker", "streams")}
    try:
        from console.emit import emit

        # Contracts travel on labor.contracts, agreements on employment.service; Kafka orders a
        # subject's events only within a topic, and in life a hire comes months after the
        # agreement. So the contracts go once intake has registered the agreements' cases.
        first, contracts = _split_contracts(path)
        report = asyncio.run(emit(first, settings, progress=True))
        print(f"demo: {report.describe()}", file=sys.stderr)
        asyncio.run(_wait_opened(settings, tag, scenario.internships, timeout))
        report = asyncio.run(emit(contracts, settings, progress=True))
        print(f"demo: {report.describe()}", file=sys.stderr)
        settled = asyncio.run(_wait_settled(settings, tag, scenario.internships, scenario.expected_dead_letters, timeout, processes))
        print(asyncio.run(_summary(settings, tag, time.monotonic() - began, settled)))
        return 0 if settled else 1
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _split_contracts(path: Path) -> tuple[Path, Path]:
    """The scenario as two files: everything but contract.signed, then the contracts."""
    import json

    first: list[str] = []
    contracts: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            is_contract = json.loads(line).get("type") == "contract.signed"
        except (ValueError, AttributeError):
            is_contract = False
        (contracts if is_contract else first).append(line)
    paths = (path.with_suffix(".1.jsonl"), path.with_suffix(".2-contracts.jsonl"))
    for target, lines in zip(paths, (first, contracts), strict=True):
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


async def _wait_opened(settings: Settings, tag: str, cases: int, timeout: float) -> None:
    """Until intake has registered every internship case of the run (its relevance keys)."""
    conn = await asyncpg.connect(settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if await conn.fetchval("SELECT count(DISTINCT case_id) FROM case_keys WHERE case_id LIKE $1",
                                   f"internship/{tag}%") >= cases:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def _wait_settled(settings: Settings, tag: str, cases: int, dead: int, timeout: float,
                        processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Until every case of the run is closed, every dead letter is in, and the outbox is empty."""
    conn = await asyncpg.connect(settings.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(f"demo: {name} exited with {proc.returncode}; see {settings.state_dir / 'demo' / (name + '.log')}", file=sys.stderr)
                    return False
            counted = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE closed_on IS NOT NULL), count(*) FROM cases WHERE subject LIKE $1",
                f"person/{tag}%",
            )
            assert counted is not None  # an aggregate answers one row
            closed, total = counted
            letters = await conn.fetchval("SELECT count(*) FROM dead_letters WHERE position($1::bytea in raw) > 0", tag.encode())
            unpublished = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            print(f"\rdemo: cases closed {closed}/{cases}, dead letters {letters}/{dead}, outbox pending {unpublished}   ",
                  end="", file=sys.stderr)
            if total == cases and closed == cases and letters >= dead and unpublished == 0:
                print(file=sys.stderr)
                return True
            await asyncio.sleep(1)
        print(f"\ndemo: not settled within {timeout:.0f} s", file=sys.stderr)
        return False
    finally:
        await conn.close()


async def _summary(settings: Settings, tag: str, seconds: float, settled: bool) -> str:
    conn = await asyncpg.connect(settings.database_url)
    try:
        statuses = await conn.fetch(
            "SELECT kind, status, count(*) AS n FROM cases WHERE subject LIKE $1 GROUP BY 1, 2 ORDER BY 1, 2", f"person/{tag}%"
        )
        funds = await conn.fetch(
            f"""SELECT fund, count(*) AS n, sum({WORTH_FEN}) AS fen FROM ledger
                WHERE case_id IN (SELECT case_id FROM cases WHERE subject LIKE $1) GROUP BY 1 ORDER BY 1""",
            f"person/{tag}%",
        )
        letters = await conn.fetch(
            "SELECT topic, kafka_offset, reason FROM dead_letters WHERE position($1::bytea in raw) > 0 ORDER BY id", tag.encode()
        )
        applied = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE event_id LIKE $1 AND state = 'applied'", f"{tag}-%"
        )
        published = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE key IN (SELECT case_id FROM cases WHERE subject LIKE $1) AND published_at IS NOT NULL",
            f"person/{tag}%",
        )
    finally:
        await conn.close()
    host = settings.temporal_address.rsplit(":", 1)[0]
    lines = [
        "",
        f"jiuye demo {tag}: {'settled' if settled else 'NOT settled'} in {seconds:.0f} s",
        "cases by status:",
        *(f"  {r['kind']:<22} {r['status']:<20} {r['n']:>4}" for r in statuses),
        "payments by fund:",
        *(f"  {r['fund']:<24} {r['n']:>4} payments {r['fen'] / 100:>14,.2f} yuan" for r in funds),
        f"events applied: {applied}  lifecycle events published to cases.lifecycle: {published}",
        f"dead letters ({len(letters)}):",
        *(f"  {r['topic']}@{r['kafka_offset']}: {r['reason']}" for r in letters),
        "where to look:",
        f"  Temporal Web UI   {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows"
        + (" (payloads are encrypted: run jiuye codec-server to read them there)" if settings.payload_encryption else ""),
        f"  console           jiuye token issue --role province --sub you; jiuye api   → http://{settings.console_host}:{settings.console_port}/",
        f"  Kafka bootstrap   {settings.kafka_bootstrap} (topics cases.lifecycle, events.dlq, alerts)",
        f"  PostgreSQL        {_safe_dsn(settings.database_url)} (tables cases, ledger, inbox, dead_letters)",
        "  a case            jiuye case list --status hired_full_subsidy; jiuye case show <case_id>",
        f"  logs              {settings.state_dir}/demo/ and {settings.state_dir}/<service>/",
        f"  stop the stack    jiuye dev down   (Temporal {host}, Kafka, PostgreSQL keep running until then)",
    ]
    return "\n".join(lines)


def _safe_dsn(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
