"""`jiuye demo`: the whole stack with the demo scenario of the whole province (every case kind,
app/demo_scenario.py), end to end, then a summary and where to look.

Kafka orders a subject's events only within a topic's partition, while in life an agreement comes
months before the hire, a loan before its interest report, a registration before the
application. So the scenario goes out one business day at a time: each day's records are
produced once intake has taken every record of the days before (their inbox rows are in; a
contribution no case takes has none, only its fact row) and, before a day that speaks of a subject
of an earlier day, once the cases those records reached have acted on them (`_cases_idle`: no
workflow task, activity, child start or signal outstanding in their Temporal histories, twice in a
row with nothing new, console/idle.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from itertools import groupby
from pathlib import Path

import asyncpg
from temporalio.client import Client

from app import demo_disbursement
from app.demo_scenario import BUSINESS_DATE, DemoScenario, business_day, continuing, event_key, generate
from console.idle import wait_until_idle
from console.service import labels
from console.service.labels import both, pad, yuan
from console.service.queries import WORTH_FEN
from contracts import temporal
from contracts.settings import Settings

# What a run's rows are found by: every id of the run carries its tag.
OF_RUN = "position($1 in {column}) > 0"
# The run's records the intake has taken: those with an inbox row, and the contributions it
# ignored, which get none (issue 16) but are in contribution_facts, keyed by their event.
TAKEN = f"""SELECT count(*) FROM (
                SELECT source, event_id FROM inbox WHERE {OF_RUN.format(column='event_id')}
                UNION
                SELECT r.value->>'source', r.value->>'id' FROM contribution_facts CROSS JOIN LATERAL jsonb_each(reports) AS r
                 WHERE {OF_RUN.format(column="r.value->>'id'")}) AS taken"""
# How long the run's cases, ledger and tasks must stay unchanged to count as settled.
QUIET_SECONDS = 8.0
# finish_many keeps an inbox outcome to this many characters: a longer list of the cases an
# event reached (a province-wide fact) is cut, and then every open case of the run is waited for.
OUTCOME_CHARS = 1000
# How often the idle barrier looks at the cases' histories: console/idle.py's 20 ms suits the
# time-skipping server; on the real stack scanning dozens of histories that often starves the
# worker it waits for (workflow tasks timing out under load).
IDLE_POLL_SECONDS = 0.5
# The worker's disbursement interval in the demo, and the time its disbursement act may take
# beyond the run's timeout.
DISBURSE_SECONDS = 2.0
DISBURSEMENT_SECONDS = 180.0


def _start(name: str, settings: Settings, logs: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log = (logs / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", name],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )


def run_demo(settings: Settings, cases: int = 70, timeout: float = 900.0, serve: bool = False) -> int:
    from deploy import stack

    began = time.monotonic()
    stack.up(settings)
    tag = "D" + datetime.now().strftime("%y%m%d%H%M%S")
    folder = settings.state_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    scenario = generate(cases, tag)
    path = folder / f"scenario-{tag}.jsonl"
    path.write_text(scenario.text(), encoding="utf-8")
    print(f"demo: scenario {path}: {len(scenario.lines)} records — {scenario.internships} generated internships, "
          f"{len(scenario.scenarios)} committed scenarios (tests/scenarios), provincial applications, a headcount drop "
          f"at {scenario.headcount_enterprise}, {scenario.expected_dead_letters} bad records", file=sys.stderr)

    clock = {"JIUYE_BUSINESS_DATE": BUSINESS_DATE.isoformat()}
    print(f"demo: the cases run on a business clock that starts on {BUSINESS_DATE} (JIUYE_BUSINESS_DATE)", file=sys.stderr)
    # The worker's disbursement schedule runs on the same business clock, every DISBURSE_SECONDS;
    # the treasury stand-in answers its instructions (app/demo_disbursement.py).
    worker_env = {**clock, "JIUYE_DISBURSEMENT_INTERVAL_SECONDS": str(DISBURSE_SECONDS)}
    processes = {"worker": _start("worker", settings, folder, worker_env), "streams": _start("streams", settings, folder, clock),
                 "treasury-sim": _start("treasury-sim", settings, folder)}
    try:
        deadline = time.monotonic() + timeout
        emitted = asyncio.run(_emit_by_day(settings, scenario, deadline, processes))
        settled = emitted and asyncio.run(_wait_settled(settings, scenario, deadline, processes))
        disbursed = settled and asyncio.run(demo_disbursement.run(
            settings, tag, BUSINESS_DATE, folder, max(deadline, time.monotonic() + DISBURSEMENT_SECONDS),
            lambda: _dead(processes, settings)))
        print(asyncio.run(_summary(settings, scenario, time.monotonic() - began, settled, serve)))
        print(disbursed or "disbursement: NOT reconciled (see above)")
        settled = settled and bool(disbursed)
        if serve and settled:
            _serve(settings, folder, processes)
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


def _serve(settings: Settings, folder: Path, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """Keep worker and streams running and serve the console (with its development sign-in)
    until Ctrl-C, so that the cases answer their state queries and the tasks can be decided."""
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM (and SIGINT where a shell started the demo in the background, which ignores it)
    # stops the processes as Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processes["api"] = _start("api", settings, folder, {"JIUYE_CONSOLE_DEV_LOGIN": "true"})
    print(f"demo: serving the console on http://{settings.console_host}:{settings.console_port}/ "
          f"(worker, streams and api logs in {folder}); Ctrl-C stops them", file=sys.stderr)
    try:
        while all(proc.poll() is None for proc in processes.values()):
            time.sleep(1)
        print("demo: a process exited; see its log in " + str(folder), file=sys.stderr)
    except KeyboardInterrupt:
        pass


def _dead(processes: dict[str, subprocess.Popen[bytes]], settings: Settings) -> bool:
    for name, proc in processes.items():
        if proc.poll() is not None:
            print(f"\ndemo: {name} exited with {proc.returncode}; see {settings.state_dir / 'demo' / (name + '.log')}", file=sys.stderr)
            return True
    return False


async def _emit_by_day(settings: Settings, scenario: DemoScenario, deadline: float,
                       processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Produce the scenario day by day (see the module's docstring); False if the intake did not
    take a day's records before the deadline or a process died."""
    from app.emit import EmitError, route_line
    from contracts.kafka import make_producer

    days = [(day, list(lines)) for day, lines in groupby(sorted(scenario.lines, key=business_day), key=business_day)]
    follows = continuing([lines for _, lines in days])
    producer = make_producer(settings, linger_ms=5)
    await producer.start()
    conn = await asyncpg.connect(settings.database_url)
    client = await temporal.connect(settings)
    accepted: set[tuple[str, str]] = set()
    sent, began = 0, time.monotonic()
    try:
        for n, (day, lines) in enumerate(days, start=1):
            deliveries = []
            day_keys = [k for k in map(event_key, lines) if k is not None]
            for line in lines:
                topic, key, _ = route_line(line.encode())
                deliveries.append(await producer.send(settings.topics.physical(topic), value=line.encode(), key=key))
            accepted.update(day_keys)
            for result in await asyncio.gather(*deliveries, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise EmitError(f"a record of {day or 'the bad records'} was not acknowledged: {result}")
            sent += len(lines)
            while True:
                taken = await conn.fetchval(TAKEN, scenario.tag)
                waiting = await conn.fetchval(
                    f"SELECT count(*) FROM inbox WHERE {OF_RUN.format(column='event_id')} AND state = 'received'", scenario.tag)
                print(f"\rdemo: day {n}/{len(days)} {day or '(bad records)'}: {sent}/{len(scenario.lines)} records sent, "
                      f"{taken}/{len(accepted)} taken by intake   ", end="", file=sys.stderr)
                # The cases act on the day before a day that brings a fact of one of them.
                settle = n < len(days) and follows[n]
                if taken >= len(accepted) and waiting == 0 and (not settle or await _cases_idle(conn, client, day_keys, scenario.tag, deadline)):
                    break
                if time.monotonic() > deadline or _dead(processes, settings):
                    print(f"\ndemo: intake had not taken the records of {day} in time", file=sys.stderr)
                    return False
                await asyncio.sleep(0.1)
        print(f"\ndemo: {sent} records sent over {len(days)} business days in {time.monotonic() - began:.0f} s", file=sys.stderr)
        return True
    finally:
        await conn.close()
        await producer.stop()


async def _cases_idle(conn: asyncpg.Connection, client: Client, keys: list[tuple[str, str]], tag: str, deadline: float) -> bool:
    """Whether the cases the day's records reached (their inbox outcomes name them) have acted on
    them: console/idle.py's barrier over their Temporal histories (and the cases they opened).
    In life a day's facts meet cases that have long decided on the day before; without this wait
    a fact of the next day races the case's own decision (a correction in one run, a dead letter
    `no open … case` in the next)."""
    rows = await conn.fetch(
        """SELECT i.outcome FROM inbox i JOIN unnest($1::text[], $2::text[]) AS k(source, event_id)
                ON i.source = k.source AND i.event_id = k.event_id WHERE i.state = 'applied'""",
        [s for s, _ in keys], [e for _, e in keys])
    ids = {case for r in rows for case in reached(r["outcome"] or "")}
    if any(len(r["outcome"] or "") >= OUTCOME_CHARS for r in rows):
        ids |= {r["case_id"] for r in await conn.fetch(
            f"SELECT case_id FROM cases c WHERE {OF_RUN.format(column='c.case_id')} AND closed_on IS NULL", tag)}
    try:
        await wait_until_idle(client, ids, timeout=max(1.0, deadline - time.monotonic()), poll=IDLE_POLL_SECONDS)
    except AssertionError as busy:
        print(f"\ndemo: {busy}", file=sys.stderr)
        return False
    return True


def reached(outcome: str) -> list[str]:
    """The cases an inbox outcome says the event went to: `→ a, b (late for c)` gives a and b
    (a late case took nothing)."""
    if not outcome.startswith("→ "):
        return []
    named = outcome[2:].split(" (late for ", 1)[0]
    return [case for case in (part.strip() for part in named.split(",")) if case and " " not in case]


async def _wait_settled(settings: Settings, scenario: DemoScenario, deadline: float,
                        processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Until the run's cases are quiet: every dead letter is in, the outbox is empty, and for
    QUIET_SECONDS the cases, their ledger and their tasks have not changed. Closed is not the
    test: a case may rightly wait for a fact that the scenario never brings (a dibao household's
    employment, a loan's next interest report) or for a supervisor (an open task)."""
    conn = await asyncpg.connect(settings.database_url)
    tag = scenario.tag
    quiet_since, last = time.monotonic(), None
    try:
        while time.monotonic() < deadline:
            if _dead(processes, settings):
                return False
            now = await conn.fetchrow(
                f"""SELECT (SELECT count(*) FROM cases c WHERE {OF_RUN.format(column='c.case_id')}) AS cases,
                           (SELECT count(*) FROM cases c WHERE {OF_RUN.format(column='c.case_id')} AND closed_on IS NOT NULL) AS closed,
                           (SELECT count(*) FROM tasks t WHERE {OF_RUN.format(column='t.case_id')} AND t.state = 'open') AS tasks,
                           (SELECT count(*) FROM ledger l WHERE {OF_RUN.format(column='l.case_id')}) AS ledger,
                           (SELECT count(*) FROM dead_letters WHERE position($1::bytea in raw) > 0) AS letters,
                           (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS unpublished""", tag)
            assert now is not None  # an aggregate answers one row
            if now != last:
                quiet_since, last = time.monotonic(), now
            print(f"\rdemo: cases {now['cases']} ({now['closed']} closed, {now['tasks']} open tasks), ledger rows {now['ledger']}, "
                  f"dead letters {now['letters']}/{scenario.expected_dead_letters}, outbox pending {now['unpublished']}   ",
                  end="", file=sys.stderr)
            if (now["letters"] >= scenario.expected_dead_letters and now["unpublished"] == 0
                    and time.monotonic() - quiet_since >= QUIET_SECONDS):
                print(file=sys.stderr)
                return True
            await asyncio.sleep(1)
        print("\ndemo: not settled within the timeout (--timeout)", file=sys.stderr)
        return False
    finally:
        await conn.close()


async def _summary(settings: Settings, scenario: DemoScenario, seconds: float, settled: bool, serve: bool) -> str:
    tag = scenario.tag
    of_case = OF_RUN.format(column="case_id")
    conn = await asyncpg.connect(settings.database_url)
    try:
        statuses = await conn.fetch(f"SELECT kind, status, count(*) AS n FROM cases WHERE {of_case} GROUP BY 1, 2 ORDER BY 1, 2", tag)
        funds = await conn.fetch(
            f"""SELECT c.kind, l.fund, count(*) FILTER (WHERE l.entry = 'payment') AS payments,
                       count(*) FILTER (WHERE l.entry <> 'payment') AS corrections, sum({WORTH_FEN}) AS fen
                  FROM ledger l JOIN cases c USING (case_id) WHERE {OF_RUN.format(column='l.case_id')}
                 GROUP BY 1, 2 ORDER BY 1, 2""", tag)
        tasks = await conn.fetch(
            f"""SELECT kind, count(*) AS n, min(case_id) AS example FROM tasks
                 WHERE state = 'open' AND {of_case} GROUP BY 1 ORDER BY 1""", tag)
        alerts = await conn.fetch(
            """SELECT kind, count(*) AS n, min(city) AS city FROM alerts
                WHERE raised_at >= now() - make_interval(secs => $1) GROUP BY 1 ORDER BY 1""", seconds)
        causes = await conn.fetch(
            f"""SELECT l.entry, l.rule, l.cause, count(*) AS n FROM ledger l
                 WHERE {OF_RUN.format(column='l.case_id')} AND l.entry <> 'payment' GROUP BY 1, 2, 3""", tag)
        cities = await conn.fetch(f"SELECT DISTINCT city FROM cases WHERE {of_case} AND city IS NOT NULL ORDER BY 1", tag)
        letters = await conn.fetch(
            "SELECT topic, kafka_offset, reason FROM dead_letters WHERE position($1::bytea in raw) > 0 ORDER BY id", tag.encode())
        applied = await conn.fetchval(f"SELECT count(*) FROM inbox WHERE {OF_RUN.format(column='event_id')} AND state = 'applied'", tag)
        published = await conn.fetchval(
            f"SELECT count(*) FROM outbox WHERE key IN (SELECT case_id FROM cases WHERE {of_case}) AND published_at IS NOT NULL", tag)
    finally:
        await conn.close()
    per_kind: dict[str, list[str]] = defaultdict(list)
    for r in statuses:
        per_kind[r["kind"]].append(f"{labels.name('status', r['status'])} {r['status']} {r['n']}")
    per_fund: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in funds:
        per_fund[r["fund"]] = [a + b for a, b in zip(per_fund[r["fund"]], (r["payments"], r["corrections"], r["fen"]), strict=True)]
    console_url = f"http://{settings.console_host}:{settings.console_port}/"
    lines = [
        "",
        f"jiuye demo {tag}: {'settled' if settled else 'NOT settled'} in {seconds:.0f} s",
        f"cases by kind and status / 各类案件及状态 ({sum(r['n'] for r in statuses)} cases, {len(per_kind)} kinds, "
        f"{len(cities)} cities: {', '.join(labels.name('city', r['city']) for r in cities)}):",
        *(f"  {pad(both('kind', kind), 44)} {', '.join(parts)}" for kind, parts in sorted(per_kind.items())),
        "ledger by kind and fund / 按类别和资金 (payments, corrections, net):",
        *(f"  {pad(both('kind', r['kind']), 44)} {pad(both('fund', r['fund']), 36)} {r['payments']:>4} payments "
          f"{r['corrections']:>3} corrections {yuan(r['fen']):>16}" for r in funds),
        "ledger by fund / 按资金:",
        *(f"  {pad(both('fund', fund), 44)} {p:>4} payments {c:>3} corrections {yuan(fen):>16}"
          for fund, (p, c, fen) in sorted(per_fund.items())),
        f"province-wide facts of the run / 全省政策事实: {', '.join(scenario.province_facts)}",
        f"corrections by rule and the fact that caused them / 更正及其原因 ({sum(r['corrections'] for r in funds)}; "
        f"the cases run on {BUSINESS_DATE}, so a case pays its past months when it opens and a later fact corrects them):",
        *(f"  {n:>4} {entry:<11} {rule}  ← {cause}" for (entry, rule, cause), n in correction_causes(causes, scenario.event_types())),
        "tasks waiting in the console's inbox / 待办任务:",
        *(f"  {pad(both('task_type', r['kind']), 44)} {r['n']:>4}  e.g. {r['example']}" for r in tasks),
        *([] if tasks else ["  none"]),
        "alerts raised during the run / 预警 (monitoring M1 and M2):",
        *(f"  {pad(both('alert_kind', r['kind']), 44)} {r['n']:>4}  e.g. {both('city', r['city'])}" for r in alerts),
        *([] if alerts else ["  none"]),
        f"  (the demo's contributions of {scenario.headcount_enterprise} drop from {scenario.headcount_before} to "
        f"{scenario.headcount_after} insured persons from 2020-03 to 2020-04: M2's headcount_drop)",
        f"events applied: {applied}  lifecycle events published to cases.lifecycle: {published}",
        f"dead letters ({len(letters)}: the demo's {scenario.expected_dead_letters} bad records, the committed scenarios' "
        "own refused records, and facts that reached a case after it had decided; README, 'The demo'):",
        *(f"  {r['topic']}@{r['kafka_offset']}: {r['reason']}" for r in letters),
        "where to look:",
        *_console_steps(settings, console_url, serve),
        f"  Temporal Web UI   {settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}/workflows"
        + (" (payloads are encrypted: run jiuye codec-server to read them there)" if settings.payload_encryption else ""),
        "  command line      jiuye case list --kind startup_loan_interest; jiuye case show <case_id>; jiuye task list; jiuye alert list",
        "  disbursement      jiuye disbursement batches|returned|awaiting|reconcile [--csv]; the console's Disbursement view",
        f"  Kafka bootstrap   {settings.kafka_bootstrap} (topics cases.lifecycle, events.dlq, alerts, payments.instructions)",
        f"  PostgreSQL        {_safe_dsn(settings.database_url)} (tables cases, ledger, tasks, alerts, inbox, dead_letters)",
        f"  logs              {settings.state_dir}/demo/ and {settings.state_dir}/<service>/",
        "  stop the stack    jiuye dev down   (Temporal, Kafka and PostgreSQL keep running until then)",
    ]
    return "\n".join(lines)


def correction_causes(rows: list[asyncpg.Record] | list[dict[str, object]], types: dict[str, str]) -> list[tuple[tuple[str, str, str], int]]:
    """The run's corrections (entry, rule, cause) counted by entry, rule (its first words, up to
    the colon that ends its citation) and the type of the event that caused them (`cause` is the
    event's source#id; its type from the scenario), most first."""
    counted: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in rows:
        # A deduction names the period it recovers; counted together, whichever period.
        rule = re.sub(r"of the overpayment of \S+", "of an overpayment", str(r["rule"] or "(no rule)")).split(": ", 1)[0][:60]
        cause = types.get(str(r["cause"] or ""), "the case's own clock" if not r["cause"] else "another record")
        counted[(str(r["entry"]), rule, cause)] += int(str(r["n"]))
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


def _console_steps(settings: Settings, url: str, serve: bool) -> list[str]:
    start = ("  console / 监管控制台  " + url + " (served now: under 'Development only' / 仅限开发, role province, city empty)"
             if serve else f"  console / 监管控制台  jiuye demo --serve (or: jiuye worker & jiuye streams & jiuye api) → {url}")
    return [
        start,
        "                    sign in with a token: jiuye token issue --role province --sub you (中文 by default, English switch)",
        f"    {url}#tasks         待办任务 Tasks: guarantee_claim (K13), provincial_selection (K16: the eleventh approval",
        "                    of 2020 is refused), overpayment_recovery, followup_escalation … each with its decision; Decide",
        f"    {url}#cases         案件 Cases: filter by kind and city → a case: timeline, ledger, corrections, disbursements",
        f"    {url}#dashboard     总览 Dashboard: the 14 cities, paid against settled per month and fund",
        f"    {url}#alerts        预警 Alerts: weekly_surge, mass_unemployment, headcount_drop",
        f"    {url}#disbursement  资金发放 Disbursement: the returned payment and its re-send, reconciliation",
    ]


def _safe_dsn(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
