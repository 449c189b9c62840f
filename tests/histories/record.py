"""Record the committed workflow histories that `tests/workflow/test_replay.py` replays.

Usage (from the repository root)::

    .venv/bin/python -m tests.histories.record          # rewrite every history below
    .venv/bin/python -m tests.histories.record --check  # record afresh, compare event types only

Each recording runs one K1 case to its end on Temporal's time-skipping server, started as
production starts it (Intake → routing → CaseGateway, MemoryStore, business time in 2020; see
tests/workflow/harness.py), then writes ``handle.fetch_history()`` as
``tests/histories/<name>.json``: ``{"workflow_id": ..., "history": <history JSON>}``.

When to re-record: only when a workflow change is *meant* to change the commands a case emits
and running cases are handled (``workflow.patched()``, or none are running). A replay failure
after an unintended change is the test doing its job; re-recording would hide the defect.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from app.simulate import quiet_runtime, test_server_path
from contracts.temporal import DATA_CONVERTER
from tests.workflow.harness import World, agreement, internship_case_id, world

HERE = Path(__file__).resolve().parent
D = date


async def epidemic_pause_then_full_subsidy_hire(w: World) -> str:
    """Start 2020-03-02, P = 6 (D = 184); epidemic pause [03-20, 04-09) = 20 days, an epidemic
    lift on the way; months complete 04-22, 05-22, 06-22, 07-22; contract 08-01: S = 152 − 20 =
    132, D − S = 52 < 61.33 → months 5, 6 at once, `hired_full_subsidy`."""
    start = D(2020, 3, 2)
    who = {"person_id": "R001", "unit_id": "RU1"}
    await w.send("internship.agreement_signed", agreement("R001", "RU1", start, 6), start)
    await w.send("internship.interrupted", {**who, "on": "2020-03-20", "reason": "epidemic"}, D(2020, 3, 20))
    await w.send("policy.epidemic.lifted", {"on": "2020-04-08"}, D(2020, 4, 8), subject="province/21", source="policy/21")
    await w.send("internship.resumed", {**who, "on": "2020-04-09"}, D(2020, 4, 9))
    contract = {"person_id": "R001", "employer_id": "RU1", "signed_on": "2020-08-01", "starts_on": "2020-08-01", "term_months": 12}
    await w.send("contract.signed", contract, D(2020, 8, 1), source="lc/2101")
    return internship_case_id("R001", "RU1", start)


async def other_pause_then_hired(w: World) -> str:
    """Start 2020-05-06, P = 6 (D = 184); pause for another reason [05-20, 05-25) = 5 days;
    month 1 completes 06-11; contract 07-01: S = 56 − 5 = 51, D − S = 133 → `hired`, 1 month."""
    start = D(2020, 5, 6)
    who = {"person_id": "R002", "unit_id": "RU2"}
    await w.send("internship.agreement_signed", agreement("R002", "RU2", start, 6), start)
    await w.send("internship.interrupted", {**who, "on": "2020-05-20", "reason": "other"}, D(2020, 5, 20))
    await w.send("internship.resumed", {**who, "on": "2020-05-25"}, D(2020, 5, 25))
    contract = {"person_id": "R002", "employer_id": "RU2", "signed_on": "2020-07-01", "starts_on": "2020-07-01", "term_months": 12}
    await w.send("contract.signed", contract, D(2020, 7, 1), source="lc/2101")
    return internship_case_id("R002", "RU2", start)


RECORDINGS: dict[str, tuple[date, Callable[[World], Awaitable[str]], str]] = {
    "internship_subsidy_epidemic_pause_full_hire": (D(2020, 3, 2), epidemic_pause_then_full_subsidy_hire, "hired_full_subsidy"),
    "internship_subsidy_other_pause_hired": (D(2020, 5, 6), other_pause_then_hired, "hired"),
}


async def record(name: str) -> dict[str, object]:
    """Run one recording on a fresh time-skipping server and return its history document."""
    first_day, run, status = RECORDINGS[name]
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=DATA_CONVERTER, test_server_existing_path=test_server_path(), runtime=quiet_runtime()
    ) as env:
        async with world(env, first_day) as w:
            case = await run(w)
            outcome = await w.handle(case).result()
            if outcome["status"] != status:
                raise AssertionError(f"{name}: case closed {outcome['status']}, expected {status}")
            history = await w.handle(case).fetch_history()
    return {"workflow_id": history.workflow_id, "history": history.to_json_dict()}


def event_types(doc: dict[str, object]) -> list[str]:
    return [e["eventType"] for e in doc["history"]["events"]]  # type: ignore[index]


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="record afresh and compare event types; write nothing")
    parser.add_argument("names", nargs="*", default=sorted(RECORDINGS), help="recordings to make (default: all)")
    args = parser.parse_args(argv)
    failed = 0
    for name in args.names:
        doc = await record(name)
        path = HERE / f"{name}.json"
        if args.check:
            same = path.exists() and event_types(json.loads(path.read_text(encoding="utf-8"))) == event_types(doc)
            print(f"{path.name}: {'same event types' if same else 'DIFFERENT'}")
            failed += not same
        else:
            path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parents[1])} ({len(event_types(doc))} events)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
