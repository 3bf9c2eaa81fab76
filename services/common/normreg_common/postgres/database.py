"""A service's PostgreSQL database: its own schema, migrated at start, and a pool of connections.

Units of work are the same synchronous functions the SQLite adapter runs (the domain is pure and
the use cases do no I/O of their own), run on worker threads, each in its own transaction on a
pooled connection. Several units, and several replicas, write at once: they coordinate through the
database — row locks on what they change, advisory transaction locks on counters — and PostgreSQL
groups their commits into shared WAL flushes itself, so nothing is batched client-side (a client-side
group would hold every member's row locks until the slowest finished, and across replicas two groups
deadlock on rows neither needs together). A unit the server aborts for a deadlock or a serialization
failure had no effect and runs again; any other error reaches the caller.

The long-lived async work (migrations, the outbox relay, leases, consumer positions) uses psycopg's
async API on a second, small pool.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from normreg_common.errors import Unavailable
from normreg_common.postgres import migrations

log = logging.getLogger(__name__)

T = TypeVar("T")
Conn = psycopg.Connection[Any]
AsyncConn = psycopg.AsyncConnection[Any]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")
# A unit aborted by the server for these had no effect, so running it again is safe.
RETRYABLE: tuple[type[Exception], ...] = (errors.SerializationFailure, errors.DeadlockDetected)
ATTEMPTS = 8
# How long a unit waits for a connection before the call is answered UNAVAILABLE (well inside the
# deadlines clients set), e.g. while the database restarts.
CONNECT_TIMEOUT_S = 5.0


class PostgresDatabase:
    def __init__(
        self,
        url: str,
        schema: str,
        migrations_dir: Path,
        *,
        pool_size: int = 8,
        application_name: str = "normreg",
    ) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema name {schema!r}: lower-case letters, digits and _ only")
        self.url = url
        self.schema = schema
        self._migrations = migrations.load(migrations_dir)
        kwargs: dict[str, Any] = {
            "autocommit": True,
            "options": f"-c search_path={schema}",
            "application_name": application_name,
        }
        # Connections are checked when taken from the pool: after a restart of the server the dead
        # ones are replaced instead of failing the next call.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs=kwargs,
            open=False,
            name=schema,
            timeout=CONNECT_TIMEOUT_S,
            check=ConnectionPool.check_connection,
        )
        self._async_pool = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=4,
            kwargs=kwargs,
            open=False,
            name=f"{schema}-async",
            timeout=CONNECT_TIMEOUT_S,
            check=AsyncConnectionPool.check_connection,
        )
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix=f"pg:{schema}")

    @property
    def description(self) -> str:
        return f"PostgreSQL schema {self.schema}"

    async def open(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            applied = await migrations.migrate(conn, self.schema, self._migrations)
        if applied:
            log.info("schema %s: migrations %s applied", self.schema, applied)
        await self._async_pool.open(wait=True)
        await asyncio.get_running_loop().run_in_executor(self._executor, lambda: self._pool.open(wait=True))

    async def close(self) -> None:
        await self._async_pool.close()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._pool.close)
        self._executor.shutdown(wait=True)

    async def transaction(self, work: Callable[[Conn], T]) -> T:
        """Runs `work` in a read-write transaction; it is answered only after COMMIT."""
        return await self._submit(lambda: self._run(work, read_only=False))

    async def read(self, work: Callable[[Conn], T]) -> T:
        return await self._submit(lambda: self._run(work, read_only=True))

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConn]:
        """An async connection (autocommit) for work outside use cases: relay, leases, positions."""
        async with self._async_pool.connection() as conn:
            yield conn

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Yields whether this process holds the lease `name`, which at most one session holds at a time.

        A session-level advisory lock on a connection kept for the duration: released at the end, or
        by the server when the process dies and its connection closes.
        """
        async with self._async_pool.connection() as conn:
            cursor = await conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (name,))
            row = await cursor.fetchone()
            held = bool(row and row[0])
            try:
                yield held
            finally:
                if held:
                    await conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", (name,))

    def _run(self, work: Callable[[Conn], T], *, read_only: bool) -> T:
        try:
            return self._attempts(work, read_only=read_only)
        except (psycopg.OperationalError, PoolTimeout) as exc:
            # The server is down, restarting or unreachable: the caller may try again later. (Cut off
            # during COMMIT, the change may have been applied: retries carry request ids or find the
            # transition made, as after a crash of this process.)
            log.warning("%s: database unavailable: %s", self.schema, exc)
            raise Unavailable(f"the database is unavailable ({type(exc).__name__}); try again") from None

    def _attempts(self, work: Callable[[Conn], T], *, read_only: bool) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            with self._pool.connection() as conn:
                # Stores read it: in a read-only transaction they lock nothing.
                conn.read_only = read_only
                try:
                    with conn.transaction():
                        return work(conn)
                except RETRYABLE as exc:
                    if attempt == ATTEMPTS:
                        raise
                    log.info("%s: %s, running the unit again (attempt %d)", self.schema, type(exc).__name__, attempt)
            # Jittered, so that two units that deadlocked do not meet again at once.
            time.sleep(random.uniform(0.005, 0.02 * attempt))  # noqa: S311 - jitter, not secrecy
        raise AssertionError("unreachable")

    async def _submit(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
