"""What the console's queries cost at 100,000 cases (a script, not a test).

Fills a fresh database `jiuye_bench_console` (dropped at the end unless --keep) with generated
rows through COPY — 100,000 cases over 14 cities and the case kinds, their case_keys, ~20,000
tasks (a third open), ~400,000 ledger rows, 1,000 alerts — runs ANALYZE, then every console query
exactly as the service layer builds it, under EXPLAIN (ANALYZE, BUFFERS), and prints the
execution time per query (best of 3, warm cache) and the plan's top node.

Usage: .venv/bin/python bench/console_queries.py [--cases 100000] [--keep] [--plans]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402

from console.service.queries import CaseQuery, case_list_sql  # noqa: E402
from contracts import kinds  # noqa: E402
from contracts.settings import get_settings  # noqa: E402
from deploy.stack import drop_database, fresh_database  # noqa: E402

DATABASE = "jiuye_bench_console"
CITIES = [f"21{n:02d}" for n in range(1, 15)]
KINDS = [kinds.INTERNSHIP_SUBSIDY, kinds.UNEMPLOYMENT_INSURANCE, kinds.UNEMPLOYMENT_ASSISTANCE, kinds.FLEXIBLE_EMPLOYMENT_SUBSIDY,
         kinds.PUBLIC_WELFARE_POST, kinds.UNEMPLOYED_FOLLOWUP, kinds.DIBAO_TAPER, kinds.HUBEI_GRADUATE_GRANT, kinds.LAYOFF_PLAN]
FUNDS = ["employment_subsidy_fund", "ui_fund", "local_fund", "dibao_fund"]
START = date(2020, 1, 1)


def generate(n: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    cases, keys, tasks, ledger = [], [], [], []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        city = CITIES[rng.randrange(len(CITIES))] if rng.random() > 0.3 else "2101"  # Shenyang is the big one
        person = f"P{i:07d}"
        opened = START + timedelta(days=rng.randrange(700))
        closed = opened + timedelta(days=rng.randrange(30, 400)) if rng.random() < 0.6 else None
        status = rng.choice(["completed", "ended", "rejected"]) if closed else rng.choice(["active", "active", "paused"])
        deadline = None if closed else opened + timedelta(days=rng.randrange(1, 500))
        case_id = f"{kind}/{person}/{opened.isoformat()}"
        cases.append((case_id, kind, f"person/{person}", city, status, opened, closed, deadline, json.dumps({"n": i}), 1))
        keys.append((f"person/{person}", case_id, kind, closed is None))
        if i % 3 == 0:
            keys.append((f"enterprise/E{i % 5000:05d}", case_id, kind, closed is None))
        if i % 5 == 0:
            state = "open" if (closed is None and i % 3 == 0) else rng.choice(["decided", "expired", "withdrawn"])
            tasks.append((f"{case_id}/task/1", case_id, "taper_decision", city, opened + timedelta(days=15), state, "{}"))
        for m in range(rng.randrange(0, 9)):
            due = opened + timedelta(days=30 * (m + 1))
            ledger.append((case_id, "p", f"month-{m + 1}", kind, f"person/{person}", rng.randrange(10000, 200000),
                           FUNDS[i % len(FUNDS)], due, city, "§"))
    return {"cases": cases, "case_keys": keys, "tasks": tasks, "ledger": ledger}


COLUMNS = {
    "cases": ("case_id", "kind", "subject", "city", "status", "opened_on", "closed_on", "next_deadline", "summary", "version"),
    "case_keys": ("key", "case_id", "kind", "open"),
    "tasks": ("task_id", "case_id", "kind", "city", "due_on", "state", "details"),
    "ledger": ("case_id", "program", "period", "kind", "payee", "amount_fen", "fund", "due_on", "city", "rule"),
}


def queries() -> list[tuple[str, str, list[Any]]]:
    """(name, SQL, args): the service layer's own SQL for the case list, plus the other reads."""
    out: list[tuple[str, str, list[Any]]] = []

    def case_list(name: str, params: dict[str, str], city: str | None) -> None:
        page, count, args = case_list_sql(CaseQuery.parse(params), city)
        out.append((f"cases: {name} (page)", page, args))
        out.append((f"cases: {name} (total)", count, args[:-2]))

    case_list("province, newest first", {}, None)
    case_list("city 2101, newest first", {}, "2101")
    case_list("city 2105, kind+status", {"kind": kinds.DIBAO_TAPER, "status": "active"}, "2105")
    case_list("city 2101, next deadline, open", {"sort": "next_deadline", "deadline_to": "2020-06-30"}, "2101")
    case_list("city 2101, has open task", {"has_open_task": "true"}, "2101")
    case_list("person", {"person": "P0012345"}, None)
    case_list("enterprise", {"enterprise": "E00042"}, None)
    case_list("opened in a month, deep page", {"opened_from": "2020-05-01", "opened_to": "2020-05-31", "offset": "1000"}, None)
    case_list("closed range", {"closed_from": "2021-01-01", "closed_to": "2021-01-31"}, "2101")
    out.append(("one case: row", "SELECT * FROM cases WHERE case_id = $1", ["dibao_taper/P0000006/2020-01-01"]))
    out.append(("one case: ledger", "SELECT * FROM ledger WHERE case_id = $1 ORDER BY due_on, period", ["x"]))
    out.append(("one case: tasks", "SELECT * FROM tasks WHERE case_id = $1", ["x"]))
    out.append(("task inbox: city open",
                "SELECT * FROM tasks t WHERE t.city = $1 AND t.state = 'open' ORDER BY t.due_on NULLS LAST, t.task_id LIMIT 50", ["2101"]))
    out.append(("task inbox: count", "SELECT count(*) FROM tasks t WHERE t.city = $1 AND t.state = 'open'", ["2101"]))
    out.append(("dashboard: counts (province)", "SELECT city, kind, status, count(*) FROM cases WHERE $1::text IS NULL OR city = $1 GROUP BY 1, 2, 3", [None]))
    out.append(("dashboard: counts (city)", "SELECT city, kind, status, count(*) FROM cases WHERE $1::text IS NULL OR city = $1 GROUP BY 1, 2, 3", ["2101"]))
    out.append(("dashboard: payments by fund+month (city)",
                "SELECT fund, to_char(due_on, 'YYYY-MM'), sum(amount_fen)::bigint, count(*) FROM ledger"
                " WHERE ($1::text IS NULL OR city = $1) GROUP BY 1, 2", ["2101"]))
    out.append(("ledger export: city+month",
                "SELECT * FROM ledger WHERE city = $1 AND due_on >= $2 AND due_on < $3 ORDER BY due_on, case_id, program, period",
                ["2101", date(2020, 6, 1), date(2020, 7, 1)]))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--plans", action="store_true", help="print every plan")
    args = parser.parse_args()
    settings = get_settings()
    url = await fresh_database(DATABASE, settings)
    conn = await asyncpg.connect(url)
    try:
        data = generate(args.cases)
        for table, rows in data.items():
            if table in ("cases",):
                await conn.copy_records_to_table(table, records=[r[:8] + (r[8], r[9]) for r in rows], columns=COLUMNS[table])
            else:
                await conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table])
        await conn.execute("ANALYZE")
        sizes = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in COLUMNS}
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
        print(f"{'query':<52} {'ms':>8}  plan")
        for name, sql, qargs in queries():
            best, plan = float("inf"), None
            for _ in range(3):
                explained = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *qargs)
                doc = json.loads(explained)[0] if isinstance(explained, str) else explained[0]
                if doc["Execution Time"] < best:
                    best, plan = doc["Execution Time"], doc
            assert plan is not None  # three runs above, each a plan
            top = plan["Plan"]
            node = top["Node Type"] + (f" on {top['Relation Name']}" if "Relation Name" in top else "")
            indexes = sorted(set(_indexes(top)))
            print(f"{name:<52} {best:>8.2f}  {node}; indexes: {', '.join(indexes) or 'none'}")
            if args.plans:
                print(json.dumps(plan["Plan"], indent=1)[:4000])
    finally:
        await conn.close()
        if not args.keep:
            await drop_database(DATABASE, settings)


def _indexes(node: dict[str, Any]) -> list[str]:
    found = [node["Index Name"]] if "Index Name" in node else []
    for child in node.get("Plans", []):
        found += _indexes(child)
    return found


if __name__ == "__main__":
    asyncio.run(main())
