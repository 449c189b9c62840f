"""Worker and stream-processor subprocesses the fault tests start (and alone kill, by pid)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.harness import free_port
from contracts.settings import Settings, settings_env

REPO = Path(__file__).resolve().parents[2]
JIUYE = Path(sys.executable).parent / "jiuye"


class Process:
    """One subprocess with its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path):
        self.name = name
        self.log = folder / f"{name}.log"
        self._out = self.log.open("ab")
        self.popen = subprocess.Popen(argv, env=env, cwd=REPO, stdout=self._out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no activity completion."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    async def died(self, timeout: float) -> int:
        """Wait for the process to end by itself; its return code."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.popen.poll() is None:
            if loop.time() > deadline:
                raise AssertionError(f"{self.name} still running after {timeout} s; log: {self.log}")
            await asyncio.sleep(0.2)
        return int(self.popen.returncode)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it does not end)."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


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
