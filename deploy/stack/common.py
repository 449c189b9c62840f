"""What the service modules share: the status record, progress lines, detached processes
with a pid file and a log file under `<state_dir>/<service>/`, and waiting for health."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class StackError(RuntimeError):
    """A service of the local stack could not be started, checked or stopped."""


@dataclass(frozen=True)
class ServiceStatus:
    """One line of `jiuye dev status`."""

    name: str
    running: bool
    address: str
    pid: int | None = None
    detail: str = ""


def select_services(services: Iterable[str] | None, known: Collection[str]) -> list[str]:
    """The chosen services in `known`'s (start) order, all of them when none are named; an
    unknown name is a StackError that lists the choices."""
    if services is None:
        return list(known)
    wanted = set(services)
    unknown = wanted - set(known)
    if unknown:
        raise StackError(f"unknown service(s): {', '.join(sorted(unknown))}; choose from {', '.join(known)}")
    return [name for name in known if name in wanted]


def say(message: str) -> None:
    """Print one progress line to stderr, where it does not mix with machine-readable output."""
    print(f"dev: {message}", file=sys.stderr, flush=True)


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """`host:port` → (host, port); the first entry wins when a list (`a:1,b:2`) is given."""
    first = address.split(",")[0].strip()
    if "://" in first:
        first = first.split("://", 1)[1]
    host, sep, port = first.rpartition(":")
    if not sep:
        return first, default_port
    return host.strip("[]"), int(port)


def service_dir(state_dir: Path, service: str) -> Path:
    path = Path(state_dir) / service
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def stack_lock(state_dir: Path) -> Iterator[None]:
    """Serialize `up`/`down` between processes, so two starters never launch two brokers."""
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(state_dir) / "stack.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("another `jiuye dev` is starting or stopping the stack; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --- processes -------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie of ours counts as gone and is reaped)."""
    with contextlib.suppress(ChildProcessError, OSError):
        # Started by this very Python (e.g. a test session), an exited service stays a zombie
        # until reaped, and kill(pid, 0) would still call it alive.
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def command_line(pid: int) -> str:
    """The command line of `pid`, or '' if it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def running_pid(pid_file: Path, marker: str) -> int | None:
    """The pid recorded in `pid_file` if that process still runs and is ours.

    `marker` must occur in its command line: after a reboot the recorded pid may belong to
    an unrelated process, which must never be reported as ours, let alone stopped.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid_alive(pid) and marker in command_line(pid):
        return pid
    return None


def start_detached(argv: Sequence[str], *, pid_file: Path, log_file: Path,
                   cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
    """Start `argv` in its own session (it outlives this CLI and ignores its Ctrl-C), with
    stdout and stderr appended to `log_file`; record and return its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=cwd, env=env, start_new_session=True,
        )
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def stop_process(pid: int, *, name: str, timeout: float = 30.0) -> None:
    """SIGTERM the process group `pid` leads (it was started with setsid), SIGKILL it if it is
    still there after `timeout` seconds."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    say(f"{name} did not stop within {timeout:.0f}s; killing it")
    send(signal.SIGKILL)
    for _ in range(50):
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    raise StackError(f"{name} (pid {pid}) survived SIGKILL")


# --- health ----------------------------------------------------------------------------------


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log, for error messages that explain themselves."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def wait_until(check: Callable[[], bool], *, what: str, timeout: float, log_file: Path | Sequence[Path],
               pid: int | None = None, interval: float = 0.25) -> None:
    """Poll `check` until it returns True; fail with the log's tail on timeout or as soon as
    the process `pid` has died (no point waiting a minute for a crashed broker). Several logs
    may be given (a JVM that dies before its logging starts writes only to stdout)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if pid is not None and not pid_alive(pid):
            raise StackError(f"{what}: the process exited during start-up. {_tails(log_file)}")
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not ready after {timeout:.0f}s. {_tails(log_file)}")
        time.sleep(interval)


def _tails(log_files: Path | Sequence[Path]) -> str:
    paths = [log_files] if isinstance(log_files, Path) else list(log_files)
    shown = [p for p in paths if p.exists() and p.stat().st_size > 0] or paths[:1]
    return "\n".join(f"Last lines of {p}:\n{log_tail(p)}" for p in shown)


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from this synchronous API, even when the caller (an async test) already
    has an event loop running in this thread."""

    async def main() -> T:
        return await make()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def run_quiet(argv: Sequence[str], *, what: str, timeout: float = 120.0,
              cwd: Path | str | None = None, input: str | None = None,
              env: dict[str, str] | None = None) -> str:
    """Run a short command, returning its stdout; its output is shown only when it fails."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                              cwd=cwd, input=input, env=env)
    except FileNotFoundError as exc:
        raise StackError(f"{what}: {argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise StackError(f"{what}: `{' '.join(argv)}` timed out after {timeout:.0f}s") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        raise StackError(f"{what} failed (exit {done.returncode}): `{' '.join(argv)}`\n{output}")
    return done.stdout
