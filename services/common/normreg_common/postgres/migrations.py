"""Versioned schema migrations: an ordered set of plain SQL files, applied at start.

A service's migrations are the files `NNNN_name.sql` in one folder. Each file runs once, in its own
transaction together with the row that records it in `schema_migrations`, so a crash mid-migration
leaves nothing half applied. Replicas starting together serialise on an advisory lock; the second
finds everything applied. A file changed after it was applied is refused (its checksum is kept):
a migration is history, a change to the schema is a new file. A database migrated by a newer
release (versions this code does not know) is accepted as long as what we know matches, so an
older replica keeps running through a rolling upgrade; migrations are written to allow that
(add, never rename or drop what the previous release reads).

Why plain SQL files and these sixty lines rather than a migration tool: Alembic needs SQLAlchemy,
which nothing else here uses, and its autogeneration would compare against models we do not have;
yoyo and similar tools are synchronous, know nothing of our schema-per-service layout, and would
still need the advisory lock for replicas starting together. What a tool would add beyond this
(down-migrations, branching) is what we do not want in production: migrations only go forward.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Arbitrary, fixed: the advisory lock id every normreg process takes while migrating.
_LOCK = 0x6E726D67


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load(folder: Path) -> list[Migration]:
    """The migrations in `folder`, in version order; versions must run 1, 2, 3… without gaps."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: a migration is named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{folder}: migration versions must be 1..{len(found)} without gaps, found {versions}")
    return found


async def migrate(conn: psycopg.AsyncConnection[Any], schema: str, migrations: list[Migration]) -> list[int]:
    """Brings `schema` up to date; returns the versions applied now. `conn` must be in autocommit mode."""
    applied_now: list[int] = []
    ident = sql.Identifier(schema)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        await conn.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(ident)
        )
        cursor = await conn.execute(
            sql.SQL("SELECT version, name, checksum FROM {}.schema_migrations ORDER BY version").format(ident)
        )
        done = {int(v): (str(n), str(c)) for v, n, c in await cursor.fetchall()}
        known = {m.version for m in migrations}
        for version, (name, _) in done.items():
            if version not in known:
                log.warning("schema %s has migration %d (%s), newer than this release", schema, version, name)
        await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(ident))
        for m in migrations:
            if m.version in done:
                if done[m.version][1] != m.checksum:
                    raise MigrationError(
                        f"schema {schema}: migration {m.version:04d}_{m.name}.sql changed after it was applied; "
                        "write a new migration instead"
                    )
                continue
            log.info("schema %s: applying migration %04d_%s", schema, m.version, m.name)
            await conn.execute(m.sql.encode())
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )
            applied_now.append(m.version)
    return applied_now
