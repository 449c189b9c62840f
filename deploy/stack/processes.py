"""Our own processes on the cluster topology: `jiuye streams` and `jiuye worker` members, each
started detached with a pid file and a log under `<state_dir>/cluster/<role>-<n>/`, its own
observability ports and (streams) its own instance id, all else from the same settings.

A member is ready when its `/healthz/ready` answers 200 (connected to PostgreSQL, Temporal and
Kafka; a streams member also has partitions assigned).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from contracts.settings import Settings, settings_env
from observability.paths import READY_PATH

from .common import ServiceStatus, StackError, pid_alive, running_pid, say, start_detached, stop_process, wait_until
from .topology import STREAMS, WORKERS, ClusterLayout, Member

START_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0  # SIGTERM lets a streams member finish its batch and leave the group
_MARKER = {"streams": "streams", "worker": "worker"}
def jiuye_command() -> str:
    return str(Path(sys.executable).parent / "jiuye")


def _paths(layout: ClusterLayout, member: Member) -> tuple[Path, Path, Path]:
    home = layout.home / member.name
    home.mkdir(parents=True, exist_ok=True)
    return home, home / f"{member.role}.pid", home / f"{member.role}.log"


def member_pid(layout: ClusterLayout, member: Member) -> int | None:
    return running_pid(_paths(layout, member)[1], _MARKER[member.role])


def ready(layout: ClusterLayout, member: Member, settings: Settings | None = None) -> bool:
    """Whether the member's ready probe answers 200 (not listening yet, or 503: not ready)."""
    host = (settings or layout.settings).observability_host
    try:
        with urllib.request.urlopen(f"http://{host}:{member.http_port}{READY_PATH}", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.HTTPError, OSError):
        return False


def start(layout: ClusterLayout, member: Member, settings: Settings | None = None, *, wait: bool = True) -> int:
    """Start `member` unless it runs, with `settings` (the topology's client settings by default)
    and its own ports; wait until it is ready unless `wait` is False. Its pid."""
    home, pid_file, log_file = _paths(layout, member)
    pid = member_pid(layout, member)
    if pid is not None:
        say(f"{member.name}: already running (pid {pid})")
        return pid
    settings = settings or layout.client_settings()
    env = settings_env(settings, **member.environment(settings.consumer_group))
    say(f"{member.name}: starting `jiuye {member.role}` (log {log_file})")
    pid = start_detached([jiuye_command(), member.role], pid_file=pid_file, log_file=log_file, cwd=home, env=env)
    if wait:
        wait_ready(layout, member, pid, settings)
    return pid


def wait_ready(layout: ClusterLayout, member: Member, pid: int,
               settings: Settings | None = None, timeout: float = START_TIMEOUT) -> float:
    """Seconds until `member` (pid) was ready; fails with its log's tail if it died or timed out."""
    started = time.monotonic()
    wait_until(lambda: ready(layout, member, settings), what=member.name, timeout=timeout,
               log_file=_paths(layout, member)[2], pid=pid, interval=0.25)
    return time.monotonic() - started


def stop(layout: ClusterLayout, member: Member) -> None:
    """SIGTERM (a graceful leave), SIGKILL after STOP_TIMEOUT."""
    pid_file = _paths(layout, member)[1]
    pid = member_pid(layout, member)
    if pid is None:
        say(f"{member.name}: not running")
    else:
        say(f"{member.name}: stopping (pid {pid})")
        stop_process(pid, name=member.name, timeout=STOP_TIMEOUT)
    pid_file.unlink(missing_ok=True)


def kill(layout: ClusterLayout, member: Member) -> None:
    """SIGKILL `member`'s process group: no shutdown, no commit, no leave."""
    pid = member_pid(layout, member)
    if pid is None:
        raise StackError(f"{member.name} is not running")
    os.killpg(pid, signal.SIGKILL)
    for _ in range(100):
        if not pid_alive(pid):
            break
        time.sleep(0.1)
    _paths(layout, member)[1].unlink(missing_ok=True)


def running_members(layout: ClusterLayout) -> list[Member]:
    """Every member with a folder under the topology's home (the two of `up`, and any added)."""
    found = []
    for role, count in (("streams", STREAMS), ("worker", WORKERS)):
        index = 1
        while index <= count or (layout.home / f"{role}-{index}").is_dir():
            found.append(layout.member(role, index))
            index += 1
    return found


def status(layout: ClusterLayout) -> list[ServiceStatus]:
    rows = []
    for member in running_members(layout):
        pid = member_pid(layout, member)
        if pid is None:
            if member.index <= (STREAMS if member.role == "streams" else WORKERS):
                rows.append(ServiceStatus(member.name, False, f"127.0.0.1:{member.http_port}", None, "not running"))
            continue
        ok = ready(layout, member)
        rows.append(ServiceStatus(member.name, ok, f"127.0.0.1:{member.http_port}", pid,
                                  f"log {_paths(layout, member)[2]}" if ok else "starting"))
    return rows
