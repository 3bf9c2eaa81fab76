"""Versioned schema migrations: an ordered set of plain SQL files, applied at start.

A service's migrations are the files `NNNN_name.sql` in one folder. Each file runs once, in its own
transaction together with the row that records it in `schema_migrations`, so a crash mid-migration
leaves nothing half applied. Replicas starting together serialise on an advisory lock; the second
finds everything applied. A file changed after it was applied is refused (its checksum is kept):
a migration is history, a change to the schema is a new file. A database migrated by a newer
release (versions this code does not know) is accepted as long as what we know matches, so an
older replica keeps running through a rolling upgrade; migrations are written to allow that
(add, never rename or drop what the previous release reads).

Some statements cannot run in a transaction, and one of them matters on a large table: CREATE INDEX
CONCURRENTLY builds an index without blocking writes, where a plain CREATE INDEX stops every write
to the table until it ends. A file whose first line is `-- normreg: no transaction` runs outside
one, statement by statement (one per `;` at the end of a line), and is recorded after its last.
Cut off part way, it is run again from its first statement at the next start, so each statement
must be safe to repeat: the file is refused unless each says IF NOT EXISTS or IF EXISTS. An index
that a cut-off CONCURRENTLY build left invalid is dropped before it is built again (IF NOT EXISTS
would otherwise keep it, unused by every query). The lock replicas wait on is then taken by polling
rather than by waiting in the server: a replica blocked inside pg_advisory_lock holds a snapshot,
and a concurrent build waits for every older snapshot to end, so each would wait on the other.

Why plain SQL files and these sixty lines rather than a migration tool: Alembic needs SQLAlchemy,
which nothing else here uses, and its autogeneration would compare against models we do not have;
yoyo and similar tools are synchronous, know nothing of our schema-per-service layout, and would
still need the advisory lock for replicas starting together. What a tool would add beyond this
(down-migrations, branching) is what we do not want in production: migrations only go forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql\Z")
# Arbitrary, fixed: the advisory lock id every normreg process takes while migrating.
_LOCK = 0x6E726D67
_NO_TRANSACTION = re.compile(r"\A--\s*normreg:\s*no transaction\s*$", re.MULTILINE)
_STATEMENT_END = re.compile(r";[ \t]*(?:--[^\n]*)?$", re.MULTILINE)
_REPEATABLE = re.compile(r"\bIF\s+(?:NOT\s+)?EXISTS\b", re.IGNORECASE)
_CONCURRENT_INDEX = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE
)
# How long a replica waits between two tries of the migration lock another replica holds.
_LOCK_POLL_S = 0.1


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

    @property
    def in_transaction(self) -> bool:
        return _NO_TRANSACTION.match(self.sql) is None

    @property
    def file(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"

    def statements(self) -> list[str]:
        """The statements of a file run outside a transaction, each a piece ending in `;` at a line's
        end (comments and blank pieces dropped)."""
        pieces = (piece.strip() for piece in _STATEMENT_END.split(self.sql))
        return [piece for piece in pieces if _code(piece)]


def _code(piece: str) -> str:
    return "\n".join(line for line in piece.splitlines() if not line.strip().startswith("--")).strip()


def _check(m: Migration) -> None:
    if m.in_transaction:
        return
    statements = m.statements()
    if not statements:
        raise MigrationError(f"{m.file}: a migration outside a transaction holds no statement")
    for statement in statements:
        if "$$" in statement:
            raise MigrationError(
                f"{m.file}: a migration outside a transaction is split at each ';', so it cannot hold $$"
            )
        if not _REPEATABLE.search(_code(statement)):
            raise MigrationError(
                f"{m.file}: outside a transaction a migration cut off part way runs again from its start, "
                f"so every statement must say IF NOT EXISTS or IF EXISTS: {_code(statement)[:80]!r}"
            )


def load(folder: Path) -> list[Migration]:
    """The migrations in `folder`, in version order; versions must run 1, 2, 3… without gaps."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: a migration is named NNNN_name.sql")
        migration = Migration(int(match[1]), match[2], path.read_text(encoding="utf-8"))
        _check(migration)
        found.append(migration)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{folder}: migration versions must be 1..{len(found)} without gaps, found {versions}")
    return found


async def migrate(conn: psycopg.AsyncConnection[Any], schema: str, migrations: list[Migration]) -> list[int]:
    """Brings `schema` up to date; returns the versions applied now. `conn` must be in autocommit mode."""
    await _lock(conn)
    try:
        return await _migrate(conn, schema, migrations)
    finally:
        # A connection that is gone has released the lock with it.
        with contextlib.suppress(psycopg.OperationalError):
            await conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK,))


async def _lock(conn: psycopg.AsyncConnection[Any]) -> None:
    while True:
        cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK,))
        row = await cursor.fetchone()
        if row is not None and row[0]:
            return
        await asyncio.sleep(_LOCK_POLL_S)


async def _migrate(conn: psycopg.AsyncConnection[Any], schema: str, migrations: list[Migration]) -> list[int]:
    ident = sql.Identifier(schema)
    # The schema's set-up and the migrations up to the first that runs outside a transaction share
    # one transaction: a failure among them leaves the schema as it was, not even created.
    async with conn.transaction():
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
        pending = _pending(schema, migrations, done)
        await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(ident))
        first = 0
        for m in pending:
            if not m.in_transaction:
                break
            await _apply(conn, schema, m)
            first += 1
    for m in pending[first:]:
        if m.in_transaction:
            async with conn.transaction():
                await conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(ident))
                await _apply(conn, schema, m)
        else:
            await _apply_outside_a_transaction(conn, schema, m)
    return [m.version for m in pending]


def _pending(schema: str, migrations: list[Migration], done: dict[int, tuple[str, str]]) -> list[Migration]:
    known = {m.version for m in migrations}
    for version, (name, _) in done.items():
        if version not in known:
            log.warning("schema %s has migration %d (%s), newer than this release", schema, version, name)
    for m in migrations:
        if m.version in done and done[m.version][1] != m.checksum:
            raise MigrationError(
                f"schema {schema}: migration {m.file} changed after it was applied; write a new migration instead"
            )
    return [m for m in migrations if m.version not in done]


async def _apply(conn: psycopg.AsyncConnection[Any], schema: str, m: Migration) -> None:
    log.info("schema %s: applying migration %s", schema, m.file)
    await conn.execute(m.sql.encode())
    await _record(conn, m)


async def _record(conn: psycopg.AsyncConnection[Any], m: Migration) -> None:
    await conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
        (m.version, m.name, m.checksum),
    )


async def _apply_outside_a_transaction(conn: psycopg.AsyncConnection[Any], schema: str, m: Migration) -> None:
    log.info("schema %s: applying migration %s outside a transaction", schema, m.file)
    await conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
    try:
        for statement in m.statements():
            index = _CONCURRENT_INDEX.search(_code(statement))
            if index is not None:
                await _drop_if_invalid(conn, schema, index[1])
            await conn.execute(statement.encode())
        async with conn.transaction():
            await _record(conn, m)
    finally:
        await conn.execute("RESET search_path")


async def _drop_if_invalid(conn: psycopg.AsyncConnection[Any], schema: str, name: str) -> None:
    cursor = await conn.execute(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND NOT i.indisvalid",
        (schema, name.lower()),
    )
    if await cursor.fetchone() is not None:
        log.warning("schema %s: index %s was left invalid by a build cut off part way; building it again", schema, name)
        await conn.execute(
            sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                sql.Identifier(schema), sql.Identifier(name.lower())
            )
        )
