"""`jiuye demo`: the whole stack with the demo scenario of the whole province (every case kind,
app/demo_scenario.py), end to end, then a summary and where to look.

The cases run on a business clock past 2020, so a case opens behind business time: it waits
for a quiet spell (workflows/case_base.py `gather_burst`, BURST_QUIET) and then judges its
subject's whole burst in date order, paying each month once with every fact known. The scenario
is therefore sent as stories (`emission_plan`): the province's facts first (stored before any
case opens) with the records the intake cannot parse; then each story — a committed scenario,
or one subject of the demo's own records — its business days back to back, each day once intake
has taken the one before (its inbox rows in, so a case the day opened is registered and the
next day's records route to it; a contribution no case takes has no inbox row, only its fact
row), STORIES_AT_ONCE stories at a time; a story's later rounds (its late facts, reported
more than a month after their date, and a subject's second opening: a new claim after the first
ended) each once its cases have decided on the round before (`_decided`: idle in their Temporal
histories, console/idle.py, the burst's quiet spell, idle again), so a late fact corrects what
was paid; last, once every open case of the run decided, the backdated parameter change.
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
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client

from app import demo_disbursement
from app.demo_scenario import BUSINESS_DATE, DemoScenario, Story, emission_plan, event_key, generate
from console.idle import wait_until_idle
from console.service import labels
from console.service.labels import both, pad, yuan
from console.service.queries import WORTH_FEN
from contracts import temporal
from contracts.settings import Settings
from workflows.case_base import BURST_QUIET

# What a run's rows are found by: every id of the run carries its tag.
OF_RUN = "position($1 in {column}) > 0"
# The run's records the intake has taken: those with an inbox row, and the contributions it
# ignored, which get none (issue 16) but are in contribution_facts, keyed by their event.
TAKEN = f"""SELECT count(*) FROM (
                SELECT source, event_id FROM inbox WHERE {OF_RUN.format(column='event_id')}
                UNION
                SELECT r.value->>'source', r.value->>'id' FROM contribution_facts CROSS JOIN LATERAL jsonb_each(reports) AS r
                 WHERE {OF_RUN.format(column="r.value->>'id'")}) AS taken"""
# Every key of the run the intake has taken (see TAKEN), for the senders waiting on their records.
TAKEN_KEYS = f"""SELECT source, event_id FROM inbox WHERE {OF_RUN.format(column='event_id')} AND state <> 'received'
                 UNION
                 SELECT r.value->>'source', r.value->>'id' FROM contribution_facts CROSS JOIN LATERAL jsonb_each(reports) AS r
                  WHERE {OF_RUN.format(column="r.value->>'id'")}"""
TAKEN_POLL_SECONDS = 0.1
# Stories told at the same time: enough to keep the intake's batches full, few enough that a
# story's next day still follows its last within the cases' quiet spell on a loaded machine.
STORIES_AT_ONCE = 16
# A case that opened behind business time judges its burst after this much quiet (plus a margin).
BURST_QUIET_SECONDS = BURST_QUIET.total_seconds() + 1.0
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
        emitted = asyncio.run(_emit_stories(settings, scenario, deadline, processes))
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


async def _emit_stories(settings: Settings, scenario: DemoScenario, deadline: float,
                        processes: dict[str, subprocess.Popen[bytes]]) -> bool:
    """Produce the scenario in the order of its `emission_plan` (see the module's docstring);
    False if the intake did not take a record, or the cases did not decide, before the deadline,
    or a process died."""
    from contracts.kafka import make_producer

    plan = emission_plan(scenario)
    producer = make_producer(settings, linger_ms=5)
    await producer.start()
    # The poller and the stories waiting for their cases query at the same time.
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    client = await temporal.connect(settings)
    taken = _Taken(pool, scenario.tag)
    poller = asyncio.create_task(taken.poll())
    progress = _Progress(len(scenario.lines), len(plan.stories))
    began = time.monotonic()

    async def send(lines: list[str]) -> None:
        await _send(settings, producer, lines)
        progress.sent += len(lines)
        await taken.all_of([k for k in map(event_key, lines) if k is not None], deadline, processes, settings)

    async def tell(story: Story) -> None:
        async with at_once:
            for n, days in enumerate(story.rounds):
                if n > 0:
                    await _decided(pool, client, taken.keys_of(story), scenario.tag, deadline, every_open_case=False)
                for day in days:
                    await send(day)
            progress.told += 1

    at_once = asyncio.Semaphore(STORIES_AT_ONCE)
    try:
        await send(plan.first)
        await asyncio.gather(*(tell(story) for story in plan.stories))
        if plan.last:
            await _decided(pool, client, [], scenario.tag, deadline, every_open_case=True)
            await send(plan.last)
        print(f"\ndemo: {progress.sent} records sent as {len(plan.stories)} stories in {time.monotonic() - began:.0f} s", file=sys.stderr)
        return True
    except _NotTaken as late:
        print(f"\ndemo: {late}", file=sys.stderr)
        return False
    finally:
        poller.cancel()
        progress.stop()
        await pool.close()
        await producer.stop()


async def _send(settings: Settings, producer: Any, lines: list[str]) -> None:
    from app.emit import EmitError, route_line

    deliveries = []
    for line in lines:
        topic, key, _ = route_line(line.encode())
        deliveries.append(await producer.send(settings.topics.physical(topic), value=line.encode(), key=key))
    for result in await asyncio.gather(*deliveries, return_exceptions=True):
        if isinstance(result, BaseException):
            raise EmitError(f"a record was not acknowledged: {result}")


class _NotTaken(Exception):
    pass


class _Progress:
    """The one status line the emission keeps rewriting on stderr."""

    def __init__(self, records: int, stories: int) -> None:
        self.records, self.stories, self.sent, self.told = records, stories, 0, 0
        self.task = asyncio.create_task(self.show())

    async def show(self) -> None:
        while True:
            print(f"\rdemo: {self.sent}/{self.records} records sent, {self.told}/{self.stories} stories told   ",
                  end="", file=sys.stderr)
            await asyncio.sleep(1)

    def stop(self) -> None:
        self.task.cancel()


class _Taken:
    """The run's records the intake has taken (`TAKEN_KEYS`), polled for every sender at once."""

    def __init__(self, pool: asyncpg.Pool, tag: str) -> None:
        self.pool, self.tag = pool, tag
        self.seen: set[tuple[str, str]] = set()
        self.changed = asyncio.Event()
        self.sent_keys: dict[str, list[tuple[str, str]]] = defaultdict(list)

    async def poll(self) -> None:
        while True:
            rows = await self.pool.fetch(TAKEN_KEYS, self.tag)
            fresh = {(r["source"], r["event_id"]) for r in rows} - self.seen
            if fresh:
                self.seen |= fresh
                self.changed.set()
                self.changed = asyncio.Event()
            await asyncio.sleep(TAKEN_POLL_SECONDS)

    async def all_of(self, keys: list[tuple[str, str]], deadline: float,
                     processes: dict[str, subprocess.Popen[bytes]], settings: Settings) -> None:
        while not self.seen.issuperset(keys):
            if time.monotonic() > deadline or _dead(processes, settings):
                raise _NotTaken(f"intake had not taken {sorted(set(keys) - self.seen)[:3]} in time")
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=1.0)
            except TimeoutError:
                pass

    def keys_of(self, story: Story) -> list[tuple[str, str]]:
        return [k for k in map(event_key, story.lines()) if k is not None and k in self.seen]


async def _decided(pool: asyncpg.Pool, client: Client, keys: list[tuple[str, str]], tag: str, deadline: float,
                   every_open_case: bool) -> None:
    """Until the cases `keys` reached (or every open case of the run) have decided on them: idle
    (`_cases_idle`), then idle again once a case that opened behind business time has had its
    quiet spell (case_base.gather_burst) and judged its burst — waiting on a timer is idle."""
    for attempt in range(2):
        if not await _cases_idle(pool, client, keys, tag, deadline, every_open_case):
            raise _NotTaken("the cases had not decided in time")
        if attempt == 0:
            await asyncio.sleep(BURST_QUIET_SECONDS)


async def _cases_idle(db: asyncpg.Pool, client: Client, keys: list[tuple[str, str]], tag: str, deadline: float,
                      every_open_case: bool = False) -> bool:
    """Whether the cases the day's records reached (their inbox outcomes name them) have acted on
    them: console/idle.py's barrier over their Temporal histories (and the cases they opened).
    In life a day's facts meet cases that have long decided on the day before; without this wait
    a fact of the next day races the case's own decision (a correction in one run, a dead letter
    `no open … case` in the next)."""
    rows = await db.fetch(
        """SELECT i.outcome FROM inbox i JOIN unnest($1::text[], $2::text[]) AS k(source, event_id)
                ON i.source = k.source AND i.event_id = k.event_id WHERE i.state = 'applied'""",
        [s for s, _ in keys], [e for _, e in keys])
    ids = {case for r in rows for case in reached(r["outcome"] or "")}
    if every_open_case or any(len(r["outcome"] or "") >= OUTCOME_CHARS for r in rows):
        ids |= {r["case_id"] for r in await db.fetch(
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
        f"each case judges its story at once; these are the facts the scenario reports late, after the cases paid):",
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
