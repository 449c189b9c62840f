"""Record one committed history per case kind from the committed simulate scenarios.

Usage (from the repository root)::

    .venv/bin/python -m tests.histories.record_scenarios
    .venv/bin/python -m tests.histories.record_scenarios --name template_scenario --with-k1
    .venv/bin/python -m tests.histories.record_scenarios --name corrections \
        --scenarios 'k2_corrections*' --kinds unemployment_insurance

Each scenario in tests/scenarios/ runs as `jiuye simulate` runs it (same intake, routing,
workflows, in-memory store, time-skipping server); for every kind, the closed case with the
longest history across all scenarios is written as ``tests/histories/<kind>_<name>.json``
(name ``scenario`` by default). K1's hand-built histories come from ``tests.histories.record``;
``--with-k1`` adds K1's scenario too; ``--scenarios`` (a file name pattern) and ``--kinds``
record from some scenarios, for some kinds only; ``--case`` records that one case instead of the
longest (e.g. a capped K6a payment). Re-record only when a workflow change is meant to change
the commands cases emit (see that module's docstring), and then under a new ``--name``, beside
the old histories: those stand for cases still running on the old commands.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from activities.memory_store import MemoryStore
from activities.store import Origin
from app.simulate import ListSink, advance_business_clock, drain_activities, quiet_runtime, read_scenario, test_server_path
from app.worker import build_worker
from contracts.temporal import DATA_CONVERTER
from policy.calendar import start_of_day
from policy.pack import load_pack
from streams.gateway import CaseGateway
from streams.intake import Intake

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parent / "scenarios"


async def record(with_k1: bool = False, pattern: str = "k*", case: str | None = None) -> dict[str, tuple[int, str, dict]]:
    best: dict[str, tuple[int, str, dict]] = {}
    pack = load_pack()
    for path in sorted(SCENARIOS.glob(f"{pattern}.jsonl")):
        if path.name.startswith("k1_") and not with_k1:
            continue
        scenario = read_scenario(path)
        last = max(e.time for _, e, _ in scenario.events)
        end = start_of_day((last + timedelta(days=800)).date())
        async with await WorkflowEnvironment.start_time_skipping(
            data_converter=DATA_CONVERTER, test_server_existing_path=test_server_path(), runtime=quiet_runtime()
        ) as env:
            offset = int(((scenario.events[0][1].time - timedelta(days=1)) - await env.get_current_time()).total_seconds())
            queue = f"record-{uuid.uuid4()}"
            store = MemoryStore()
            intake = Intake(store, CaseGateway(env.client, queue, clock_offset_seconds=offset, search_attributes=False), ListSink(), pack)
            async with build_worker(env.client, queue, store, pack):
                for number, event, raw in scenario.events:
                    await advance_business_clock(env, event.time, offset)
                    await intake.handle(raw, Origin(topic=path.name, offset=number))
                await advance_business_clock(env, end, offset)
                await drain_activities(env, store)
                for case_id, rec in store.cases.items():
                    if case is not None and case_id != case:
                        continue
                    handle = env.client.get_workflow_handle(case_id)
                    if (await handle.describe()).status != WorkflowExecutionStatus.COMPLETED:
                        continue
                    history = await handle.fetch_history()
                    size = len(history.events)
                    if size > best.get(rec.kind, (0, "", {}))[0]:
                        best[rec.kind] = (size, case_id, json.loads(history.to_json()))
        print(f"recorded {path.name}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="scenario", help="file names <kind>_<name>.json (default: scenario)")
    parser.add_argument("--with-k1", action="store_true", help="record K1 from its scenario too")
    parser.add_argument("--scenarios", default="k*", help="scenario file names to run, without .jsonl (default: k*)")
    parser.add_argument("--kinds", nargs="*", help="write only these case kinds (default: every kind recorded)")
    parser.add_argument("--case", help="record this case id (closed) instead of each kind's longest")
    args = parser.parse_args()
    for kind, (size, case_id, history) in sorted(asyncio.run(record(args.with_k1, args.scenarios, args.case)).items()):
        if args.kinds and kind not in args.kinds:
            continue
        target = HERE / f"{kind}_{args.name}.json"
        target.write_text(json.dumps({"workflow_id": case_id, "history": history}, indent=1) + "\n", encoding="utf-8")
        print(f"{target.name}: {case_id}, {size} events")


if __name__ == "__main__":
    main()
