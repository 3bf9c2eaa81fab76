"""One SQLite connection on one thread, so async code never blocks the loop and writes never race.

Callers pass a whole unit of work as a function; it runs inside BEGIN IMMEDIATE ... COMMIT.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class Database:
    def __init__(self, path: Path | str, schema: str, *, synchronous: str = "FULL") -> None:
        # FULL: a transaction acknowledged to a client survives power loss, not only a process crash.
        self._path = str(path)
        self._schema = schema
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite:{Path(path).name}")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._submit(self._open)

    def _open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.executescript(self._schema)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._submit(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._submit(lambda: self._in_transaction(work))

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._submit(lambda: work(self._connection()))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"database {self._path} is not open")
        return self._conn

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def _submit(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn)
