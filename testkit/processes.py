"""`jiuye` subprocesses with their output in a log file, signalled only by their own pid (the
machine is shared: never by name), and free local ports to give them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from contracts.settings import REPO_ROOT
from testkit.errors import KitError

# The `jiuye` console script of the interpreter running this (the project's own .venv).
JIUYE = Path(sys.executable).parent / "jiuye"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at this moment."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB (VmRSS of /proc/<pid>/status)."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s*(\d+)\s*kB", text, re.M)
    if not match:
        raise KitError(f"no VmRSS for pid {pid}")
    return int(match.group(1)) / 1024


class Process:
    """One subprocess (run in the repository root) with its output in `<folder>/<name>.log`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path):
        self.name = name
        self.log = folder / f"{name}.log"
        self._out = self.log.open("ab")
        self.popen = subprocess.Popen(argv, env=env, cwd=REPO_ROOT, stdout=self._out, stderr=subprocess.STDOUT)
        self.paused = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def check(self) -> None:
        """KitError, with the log's tail, if the process has ended."""
        if not self.alive():
            raise KitError(f"{self.name} exited with {self.popen.returncode}; log {self.log}:\n{self.tail()}")

    def pause(self) -> None:
        """SIGSTOP: the process stays connected but does nothing until `resume`."""
        self.check()
        os.kill(self.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused and self.alive():
            os.kill(self.pid, signal.SIGCONT)
        self.paused = False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no activity completion."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    async def died(self, timeout: float) -> int:
        """Wait for the process to end by itself; its return code (KitError after `timeout` s)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.alive():
            if loop.time() > deadline:
                raise KitError(f"{self.name} still running after {timeout} s; log: {self.log}")
            await asyncio.sleep(0.2)
        return int(self.popen.returncode)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it has not ended after 30 s)."""
        if self.alive():
            self.resume()
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()

    def rss_mb(self) -> float:
        self.check()
        return rss_mb(self.pid)

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
