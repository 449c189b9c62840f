"""PostgreSQL from Debian's packages: the distribution's cluster (`<version>/main`), managed
with its own tools (pg_ctlcluster, pg_conftool), plus the role, database and migrations
`JIUYE_DATABASE_URL` asks for.

Role and database are created through psql as the `postgres` OS user (peer authentication on
the Unix socket), because the configured role cannot create itself; everything after that
connects as the configured role over TCP, exactly as the services will.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from contracts.settings import Settings, get_settings
from deploy.migrate import migrate

from .common import ServiceStatus, StackError, log_tail, port_open, run_async, run_quiet, say, wait_until

NAME = "postgres"
CLUSTER = "main"
START_TIMEOUT = 60.0
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
_LISTENS_LOCALLY = {"*", "0.0.0.0", "localhost", "127.0.0.1"}


@dataclass(frozen=True)
class Target:
    """What `database_url` asks for."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def local(self) -> bool:
        return self.host in _LOCAL_HOSTS


@dataclass(frozen=True)
class Cluster:
    version: str
    port: int
    online: bool
    data_dir: Path
    log_file: Path


def parse_url(database_url: str) -> Target:
    parts = urlsplit(database_url)
    database = parts.path.lstrip("/")
    if not (parts.username and parts.password and database):
        raise StackError(f"database_url must name user, password and database: {_redact(database_url)}")
    return Target(parts.hostname or "", parts.port or 5432, unquote(parts.username), unquote(parts.password),
                  unquote(database))


def with_database(database_url: str, database: str) -> str:
    """`database_url` pointing at another database on the same server, as the same role."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + database))


def _redact(database_url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", database_url)


# --- the Debian cluster ----------------------------------------------------------------------


def installed_versions() -> list[str]:
    """Server major versions under /usr/lib/postgresql, oldest first."""
    found = [p.parent.parent.name for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]
    return sorted(found, key=lambda v: int(v) if v.isdigit() else 0)


def _clusters() -> list[Cluster]:
    out = run_quiet(["pg_lsclusters", "-h"], what="listing PostgreSQL clusters", timeout=30)
    clusters = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[1] == CLUSTER:
            clusters.append(Cluster(fields[0], int(fields[2]), fields[3].startswith("online"),
                                    Path(fields[5]), Path(fields[6])))
    return clusters


def _find_cluster() -> Cluster | None:
    """The `main` cluster of the newest installed server that has one."""
    versions = installed_versions()
    by_version = {c.version: c for c in _clusters()}
    for version in reversed(versions):
        if version in by_version:
            return by_version[version]
    return None


def _require_server() -> str:
    versions = installed_versions()
    if not versions:
        raise StackError("postgres: no PostgreSQL server is installed; run `bash deploy/setup.sh` "
                         "(installs Debian's postgresql package)")
    return versions[-1]


def _conf_value(cluster: Cluster, key: str) -> str | None:
    try:
        return run_quiet(["pg_conftool", "-s", cluster.version, CLUSTER, "show", key],
                         what=f"reading {key}", timeout=30).strip().strip("'")
    except StackError:
        return None  # not set: the server default applies


def _configure(cluster: Cluster, target: Target) -> bool:
    """Make the cluster listen on localhost and the configured port; True if that changed."""
    changed = False
    if cluster.port != target.port:
        say(f"postgres: setting port {target.port} (was {cluster.port}) in cluster {cluster.version}/{CLUSTER}")
        run_quiet(["pg_conftool", cluster.version, CLUSTER, "set", "port", str(target.port)],
                  what="setting the port", timeout=30)
        changed = True
    listen = _conf_value(cluster, "listen_addresses") or "localhost"  # unset means localhost
    if not {a.strip() for a in listen.split(",")} & _LISTENS_LOCALLY:
        say(f"postgres: setting listen_addresses to localhost (was {listen!r})")
        run_quiet(["pg_conftool", cluster.version, CLUSTER, "set", "listen_addresses", "localhost"],
                  what="setting listen_addresses", timeout=30)
        changed = True
    return changed


def _ensure_cluster(target: Target) -> Cluster:
    cluster = _find_cluster()
    if cluster is None:
        version = _require_server()
        say(f"postgres: creating cluster {version}/{CLUSTER} on port {target.port}")
        # An explicit UTF-8 locale: a container's environment often has none, which would give
        # an SQL_ASCII cluster that cannot hold the Chinese names the events carry.
        run_quiet(["pg_createcluster", "--port", str(target.port), "--encoding", "UTF8",
                   "--locale", "C.UTF-8", version, CLUSTER], what="creating the cluster", timeout=120)
        cluster = _find_cluster()
        if cluster is None:
            raise StackError(f"postgres: pg_createcluster {version} {CLUSTER} left no cluster behind")
    return cluster


def _as_postgres(argv: list[str]) -> list[str]:
    """Run `argv` as the postgres OS user, whom the cluster trusts on its Unix socket."""
    if getpass.getuser() == "postgres":
        return argv
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return ["sudo", "-n", "-u", "postgres", "--", *argv]


_ROLE_AND_DATABASE = r"""
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'role', :'password')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0', :'db', :'role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec
"""


def _psql_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _ensure_role_and_database(cluster: Cluster, target: Target) -> None:
    # psql variables set on stdin, not on the command line (where `ps` shows the password), and
    # quoted by format(%I, %L) on the server, so any name or password works.
    # CREATEDB lets tests make throw-away databases (fresh_database) without root.
    script = (f"\\set role {_psql_literal(target.user)}\n"
              f"\\set password {_psql_literal(target.password)}\n"
              f"\\set db {_psql_literal(target.database)}\n") + _ROLE_AND_DATABASE
    psql = str(Path("/usr/lib/postgresql") / cluster.version / "bin" / "psql")
    run_quiet(_as_postgres([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", str(cluster.port), "-d", "postgres"]),
              what=f"creating role {target.user} and database {target.database}", input=script,
              cwd="/", timeout=60)


def _postmaster_pid(cluster: Cluster) -> int | None:
    try:
        return int((cluster.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


# --- lifecycle -------------------------------------------------------------------------------


def up(settings: Settings) -> None:
    """Start Debian's cluster (creating it if there is none) on the configured port, ensure the
    role and database exist, and apply the migrations."""
    target = parse_url(settings.database_url)
    if not target.local:
        say(f"postgres: database_url points at {target.host}; not managing a server there, only migrating")
    else:
        _require_server()
        cluster = _ensure_cluster(target)
        restart = _configure(cluster, target)
        if cluster.online and restart:
            say(f"postgres: restarting cluster {cluster.version}/{CLUSTER} for the new settings")
            run_quiet(["pg_ctlcluster", cluster.version, CLUSTER, "restart", "-m", "fast"],
                      what="restarting PostgreSQL", timeout=120)
        elif cluster.online:
            say(f"postgres: already running (cluster {cluster.version}/{CLUSTER}, pid {_postmaster_pid(cluster)})")
        else:
            say(f"postgres: starting cluster {cluster.version}/{CLUSTER} on port {target.port} "
                f"(log {cluster.log_file})")
            try:
                run_quiet(["pg_ctlcluster", cluster.version, CLUSTER, "start"], what="starting PostgreSQL",
                          timeout=120)
            except StackError as exc:
                raise StackError(f"{exc}\nLast lines of {cluster.log_file}:\n"
                                 f"{log_tail(cluster.log_file)}") from exc
        host = "127.0.0.1" if target.host in ("", "localhost") else target.host
        wait_until(lambda: port_open(host, target.port), what="postgres", timeout=START_TIMEOUT,
                   log_file=cluster.log_file)
        _ensure_role_and_database(_find_cluster() or cluster, target)  # re-read: the port may have changed
    applied = run_async(lambda: migrate(settings.database_url))
    say(f"postgres: applied migrations {', '.join(applied)}" if applied else "postgres: migrations up to date")
    say(f"postgres: ready at {target.host}:{target.port}/{target.database}")


def down(settings: Settings) -> None:
    """Stop the cluster (fast mode: open sessions are disconnected, data is safe)."""
    target = parse_url(settings.database_url)
    if not target.local:
        say(f"postgres: {target.host} is not ours to stop")
        return
    cluster = _find_cluster()
    if cluster is None or not cluster.online:
        say("postgres: not running")
        return
    say(f"postgres: stopping cluster {cluster.version}/{CLUSTER}")
    run_quiet(["pg_ctlcluster", cluster.version, CLUSTER, "stop", "-m", "fast"], what="stopping PostgreSQL",
              timeout=120)


async def _probe(database_url: str) -> str:
    connection = await asyncpg.connect(database_url, timeout=5)
    try:
        count = await connection.fetchval("SELECT count(*) FROM schema_migrations")
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return f"PostgreSQL {version.split()[0]}, {count} migrations applied"


def status(settings: Settings) -> ServiceStatus:
    target = parse_url(settings.database_url)
    address = f"{target.host}:{target.port}/{target.database}"
    pid = None
    if target.local:
        if not installed_versions():
            return ServiceStatus(NAME, False, address, None, "not installed; run deploy/setup.sh")
        cluster = _find_cluster()
        if cluster is None or not cluster.online:
            return ServiceStatus(NAME, False, address, None, "cluster down" if cluster else "no cluster")
        pid = _postmaster_pid(cluster)
    try:
        detail = run_async(lambda: _probe(settings.database_url))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return ServiceStatus(NAME, False, address, pid, f"cannot connect as {target.user}: {exc}")
    return ServiceStatus(NAME, True, address, pid, detail)


# --- tests -----------------------------------------------------------------------------------


async def drop_database(name: str, settings: Settings | None = None) -> None:
    """Drop the throw-away database `name` (if it exists), whoever is connected to it."""
    settings = settings or get_settings()
    admin = await asyncpg.connect(with_database(settings.database_url, "postgres"))
    try:
        await _drop(admin, '"' + name.replace('"', '""') + '"')
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection, quoted: str) -> None:
    attempts = 60
    for attempt in range(attempts):
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            return
        except asyncpg.InsufficientPrivilegeError:
            # An autovacuum worker (a backend of no role, which our role may not terminate) is in
            # it; it finishes within moments, on a loaded machine within seconds.
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)


async def fresh_database(name: str, settings: Settings | None = None) -> str:
    """Create an empty database `name` (dropping any old one) owned by the configured role, run
    the migrations in it, and return its URL. Needs the stack's PostgreSQL up; no root needed."""
    settings = settings or get_settings()
    target = parse_url(settings.database_url)
    if name in (target.database, "postgres") or name.startswith("template"):
        raise ValueError(f"fresh_database refuses to drop {name!r}")
    quoted = '"' + name.replace('"', '""') + '"'
    admin = await asyncpg.connect(with_database(settings.database_url, "postgres"))
    try:
        await _drop(admin, quoted)
        await admin.execute(f"CREATE DATABASE {quoted} ENCODING 'UTF8' TEMPLATE template0")
    finally:
        await admin.close()
    url = with_database(settings.database_url, name)
    await migrate(url)
    return url
