"""Worker and stream-processor subprocesses the fault tests start (and alone kill, by pid)."""

from __future__ import annotations

import sys
from pathlib import Path

from contracts.settings import Settings, settings_env
from testkit.processes import JIUYE, Process, free_port


def worker(settings: Settings, folder: Path, name: str = "worker", kill_after_payments: int | None = None,
           kill_on: tuple[str, str] | None = None) -> Process:
    """`jiuye worker` (or, with `kill_after_payments`, the one that SIGKILLs itself after that
    many committed ledger rows — counting only those of `kill_on` = (entry, period) if given —
    tests/faults/_killing_worker.py)."""
    if kill_after_payments is None:
        return Process(name, [str(JIUYE), "worker"], settings_env(settings), folder)
    only = {"JIUYE_FAULT_KILL_ON_ENTRY": kill_on[0], "JIUYE_FAULT_KILL_ON_PERIOD": kill_on[1]} if kill_on else {}
    env = settings_env(settings, JIUYE_FAULT_KILL_AFTER_PAYMENTS=str(kill_after_payments), **only)
    return Process(name, [sys.executable, "-m", "tests.faults._killing_worker"], env, folder)


def streams(settings: Settings, folder: Path, name: str = "streams") -> Process:
    """`jiuye streams` on the test's consumer group, with a web port of its own."""
    return Process(name, [str(JIUYE), "streams"], settings_env(settings, JIUYE_STREAMS_WEB_PORT=str(free_port())), folder)
