"""One SQLite connection on one thread, so async code never blocks the loop and writes never race.

Callers pass a whole unit of work as a function. Units that arrive while the thread is busy are
committed together (group commit): each runs inside its own SAVEPOINT, so a failing unit rolls back
alone, and one fsync makes the whole group durable. No caller is answered before that COMMIT.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from normreg_common import tracing
from normreg_common.files import private_file

T = TypeVar("T")

# Bounds how long the first writer of a group waits for the others' work.
MAX_GROUP = 64
# What a WAL file is cut back to after a checkpoint that emptied it.
WAL_KEPT_BYTES = 32 * 1024 * 1024

_Unit = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any], asyncio.AbstractEventLoop]


class Database:
    def __init__(self, path: Path | str, schema: str, *, synchronous: str = "FULL", read_only: bool = False) -> None:
        """`read_only`: a reader of a database another process writes (WAL lets both run at once). It
        neither creates nor changes anything, and SQLite refuses any write it would attempt."""
        # FULL: a transaction acknowledged to a client survives power loss, not only a process crash.
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self._read_only = read_only
        self._path = str(path)
        self._name = Path(path).name
        self._schema = schema
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite:{Path(path).name}")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pending: list[_Unit] = []
        self._flush_scheduled = False

    async def open(self) -> None:
        await self._submit(self._open)

    def _open(self) -> None:
        if self._read_only:
            self._conn = self._open_read_only()
            return
        if self._path != ":memory:" and not self._path.startswith("file:"):
            # SQLite gives its -wal and -shm files the database file's mode.
            private_file(Path(self._path))
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        # The WAL file keeps the size of its longest stretch between checkpoints (a bulk import's) for
        # good unless told to give it back once a checkpoint has emptied it.
        conn.execute(f"PRAGMA journal_size_limit={WAL_KEPT_BYTES}")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(self._schema)
        self._conn = conn

    def _open_read_only(self) -> sqlite3.Connection:
        # The writer made the file, its schema and WAL mode; a reader that finds no file must not make one.
        uri = f"file:{Path(self._path).resolve()}?mode=rw"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        # query_only, not mode=ro: a reader of a WAL database must be able to share its -shm index.
        conn.execute("PRAGMA query_only=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._submit(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._read_only:
            raise sqlite3.OperationalError(f"{self._name} is opened read-only in this process")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # The unit runs on the database thread in its caller's context: the events it writes carry the
        # request's trace, not this span's.
        context = contextvars.copy_context()
        with tracing.span("normreg.sqlite", f"sqlite transaction {self._name}", **{"db.system": "sqlite"}):
            with self._lock:
                self._pending.append((lambda conn: context.run(work, conn), future, loop))
                schedule = not self._flush_scheduled
                self._flush_scheduled = True
            if schedule:
                self._executor.submit(self._flush)
            return await future

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._read_only:
            return await self._submit(lambda: self._in_snapshot(work))
        return await self._submit(lambda: work(self._connection()))

    def _in_snapshot(self, work: Callable[[sqlite3.Connection], T]) -> T:
        # Another process writes: the statements of one unit must all see the same commit (hits and
        # facet counts of one search, the generation and the tables it names).
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"database {self._path} is not open")
        return self._conn

    def _flush(self) -> None:
        with self._lock:
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            if self._pending:
                self._executor.submit(self._flush)
            else:
                self._flush_scheduled = False
        if not group:
            return
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            for work, _, _ in group:
                conn.execute("SAVEPOINT unit")
                try:
                    result = work(conn)
                except BaseException as exc:  # handed to that unit's caller
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    outcomes.append((False, exc))
                else:
                    conn.execute("RELEASE unit")
                    outcomes.append((True, result))
            conn.execute("COMMIT")
        except BaseException as exc:  # the whole group failed: every caller hears it
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            outcomes = [(False, exc)] * len(group)
        # One wake-up of each caller's loop for the whole group, not one per unit: each costs the
        # loop a system call and an iteration, which a busy group would pay sixty-four times.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_, future, loop), (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)

    async def _submit(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
