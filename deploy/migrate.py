"""A deliberately small migration runner for the plain SQL files in `deploy/migrations/`.

Each `NNNN_name.sql` is applied once, in order, in its own transaction, and recorded with its
sha256 in `schema_migrations`. An applied file must never change: the runner refuses to go on
when one has (write a new file instead). A transaction-scoped advisory lock makes concurrent
starters (two `jiuye dev up`, parallel test sessions) take turns instead of racing.

Usage: `python -m deploy.migrate [DATABASE_URL]` (default: the configured `JIUYE_DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_FILE_NAME = re.compile(r"^(?P<version>\d{4})_[A-Za-z0-9_-]+\.sql$")
# Any constant shared by all runners; spells "jiuye" so it is recognisable in pg_locks.
_LOCK_KEY = int.from_bytes(b"jiuye", "big")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text        PRIMARY KEY,
    name       text        NOT NULL,
    sha256     text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(RuntimeError):
    """The migrations on disk and those recorded in the database disagree."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in `directory`, ordered by version."""
    found: dict[str, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        version = match["version"]
        if version in found:
            raise MigrationError(f"two migrations share version {version}: {found[version].name}, {path.name}")
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def migrate(database_url: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet applied to `database_url`; return their versions.

    Raises MigrationError if a file that was applied earlier has been edited since.
    """
    migrations = discover(directory)
    applied: list[str] = []
    connection = await asyncpg.connect(database_url)
    try:
        for migration in migrations:
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
                await connection.execute(_CREATE_TABLE)
                recorded = await connection.fetchval(
                    "SELECT sha256 FROM schema_migrations WHERE version = $1", migration.version)
                if recorded is not None:
                    if recorded != migration.sha256:
                        raise MigrationError(
                            f"{migration.name} was applied with sha256 {recorded[:12]}… but the file now hashes "
                            f"to {migration.sha256[:12]}…; applied migrations must not change — add a new "
                            "file instead (or recreate a development database)")
                    continue
                await connection.execute(migration.sql)
                await connection.execute(
                    "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.sha256)
                applied.append(migration.version)
    finally:
        await connection.close()
    return applied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        url = args[0]
    else:
        from contracts.settings import get_settings

        url = get_settings().database_url
    try:
        applied = asyncio.run(migrate(url))
    except MigrationError as exc:
        print(f"migrate: {exc}", file=sys.stderr)
        return 1
    print(f"migrate: applied {', '.join(applied)}" if applied else "migrate: up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
