"""One SQLite connection on one thread, so async code never blocks the loop and writes never race.

Callers pass a whole unit of work as a function. Units that arrive while the thread is busy are
committed together (group commit): each runs inside its own SAVEPOINT, so a failing unit rolls back
alone, and one fsync makes the whole group durable. No caller is answered before that COMMIT.

A database may keep its reads apart (`separate_reads`): they run on a read-only connection and
thread of their own over the same file, each in one snapshot of the last commit, and never wait
behind the writes (WAL lets a reader run beside the writer). A read can be given a deadline and a
budget of running time, at which SQLite stops it; a read whose caller gave up is stopped too. A
unit that holds a thread longer than `slow_unit_s` is logged: what it was and how long, so a stall
names its cause.

A read is stopped from outside (`sqlite3.Connection.interrupt()`, by a watching thread at its deadline
or budget, or by its caller's loop when it gives up), never by a progress handler: SQLite would call
that handler, a Python function, every few thousand instructions, and each call waits for the
interpreter's lock, which a busy event loop holds for up to its switch interval (5 ms). Ten searches
took twice as long beside a thread busy in Python with a handler every 10,000 instructions as
without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from normreg_common import tracing
from normreg_common.files import private_file

T = TypeVar("T")

log = logging.getLogger(__name__)

# Bounds how long the first writer of a group waits for the others' work.
MAX_GROUP = 64
# What a WAL file is cut back to after a checkpoint that emptied it.
WAL_KEPT_BYTES = 32 * 1024 * 1024

# A unit of work (a read, or a group of transactions) holding the database's thread longer than
# this is logged at WARNING.
SLOW_UNIT_S = 2.0
# The watch over a read with a bound wakes at least this often: a clock given to the database (a
# test's) may move without the watcher's sleep ending.
WATCH_TICK_S = 1.0
# How often a read past its bound is interrupted again until it ends.
REINTERRUPT_S = 0.01

# (work, its name for the log, the caller's future, the caller's loop)
_Unit = tuple[Callable[[sqlite3.Connection], Any], str, asyncio.Future[Any], asyncio.AbstractEventLoop]


class ReadStopped(Exception):
    """A read stopped by SQLite because its deadline passed, it ran its budget, or its caller gave up."""

    def __init__(self, name: str, what: str) -> None:
        super().__init__(f"{name}: {what} was stopped at its deadline or budget")
        self.what = what


class _Stop:
    """The progress handler of one read: non-zero (SQLite interrupts the statement) once the
    caller's deadline (time.monotonic()) has passed, the read has run its budget (by the database's
    clock, from when it started: waiting for the thread is not running), or its caller gave up."""

    def __init__(self, deadline: float | None, budget_s: float | None, clock: Callable[[], float]) -> None:
        self.deadline = deadline
        self.budget_s = budget_s
        self.clock = clock
        self.limit: float | None = None
        self.cancelled = False
        self.tripped = False

    def start(self) -> None:
        if self.budget_s is not None:
            self.limit = self.clock() + self.budget_s

    def due(self) -> bool:
        return (
            self.cancelled
            or (self.deadline is not None and time.monotonic() >= self.deadline)
            or (self.limit is not None and self.clock() >= self.limit)
        )

    @property
    def bounded(self) -> bool:
        return self.cancelled or self.deadline is not None or self.limit is not None

    def left_s(self) -> float:
        """Seconds until the nearer of the deadline and the budget's end (only when bounded)."""
        lefts = [WATCH_TICK_S]
        if self.deadline is not None:
            lefts.append(self.deadline - time.monotonic())
        if self.limit is not None:
            lefts.append(self.limit - self.clock())
        return min(lefts)


class _Watch:
    """Interrupts the read running on one connection once its deadline or budget passes or its caller
    gives up, from a thread of its own, and again every REINTERRUPT_S until the read ends: SQLite
    drops an interruption that comes between two statements of a read (none running), and the next
    statement would then run unbounded. An interruption is only ever delivered while that read's work
    runs (the lock), so it never stops the read after it or its COMMIT."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._changed = threading.Condition()
        self._current: tuple[_Stop, sqlite3.Connection] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def begin(self, stop: _Stop, conn: sqlite3.Connection) -> None:
        with self._changed:
            self._current = (stop, conn)
            if stop.bounded:
                self._watching()

    def end(self) -> None:
        with self._changed:
            self._current = None

    def cancel(self, stop: _Stop) -> None:
        """The caller gave up: its read is stopped now if it runs (and before it starts otherwise:
        the read checks first)."""
        with self._changed:
            stop.cancelled = True
            if self._current is not None and self._current[0] is stop:
                self._interrupt()
                self._watching()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify()

    def _watching(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"sqlite watch:{self._label}", daemon=True)
            self._thread.start()
        self._changed.notify()

    def _interrupt(self) -> None:
        assert self._current is not None
        stop, conn = self._current
        stop.tripped = True
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
            conn.interrupt()

    def _run(self) -> None:
        with self._changed:
            while not self._closed:
                current = self._current
                if current is None or not current[0].bounded:
                    self._changed.wait()
                elif current[0].due():
                    self._interrupt()
                    self._changed.wait(REINTERRUPT_S)
                else:
                    self._changed.wait(min(max(current[0].left_s(), 0.001), WATCH_TICK_S))


def _name_of(work: Callable[..., Any]) -> str:
    return str(getattr(work, "__qualname__", None) or repr(work))


class Database:
    def __init__(
        self,
        path: Path | str,
        schema: str,
        *,
        synchronous: str = "FULL",
        read_only: bool = False,
        separate_reads: bool = False,
        slow_unit_s: float = SLOW_UNIT_S,
        clock: Callable[[], float] = time.monotonic,
        upgrade: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """`read_only`: a reader of a database another process writes (WAL lets both run at once). It
        neither creates nor changes anything, and SQLite refuses any write it would attempt.

        `separate_reads`: `read()` runs on a read-only connection of its own (see the module's
        docstring). A database in memory, or named by a URI, has no second connection to give: its
        reads stay on the one thread, between the writes. `clock` times units (for the slow-unit log)
        and reads' budgets. `upgrade` runs at open before `schema`, for what a script of CREATE ... IF
        NOT EXISTS cannot do to a file an earlier release wrote (a table given new columns)."""
        # FULL: a transaction acknowledged to a client survives power loss, not only a process crash.
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self._read_only = read_only
        self._path = str(path)
        self._name = Path(path).name
        self._schema = schema
        self._upgrade = upgrade
        self._synchronous = synchronous
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite:{Path(path).name}")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._pending: list[_Unit] = []
        self._flush_scheduled = False
        # Set when close() begins: no unit is taken after it.
        self._closing = False
        # Set by a close that was cancelled: queued units are refused instead of run.
        self._abandoned = False
        self._slow_unit_s = slow_unit_s
        self._clock = clock
        self._label = f"{self._name} (reads)" if read_only else self._name
        self._watch = _Watch(self._label)
        on_disk = self._path != ":memory:" and not self._path.startswith("file:")
        self._reads = (
            Database(path, schema, read_only=True, slow_unit_s=slow_unit_s, clock=clock)
            if separate_reads and on_disk and not read_only
            else None
        )

    async def open(self) -> None:
        await self._submit(self._open, "open")
        if self._reads is not None:
            # After the writer: it makes the file, its schema and WAL mode, which the reader needs.
            await self._reads.open()

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
        if self._upgrade is not None:
            self._upgrade(conn)
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
        """Closes once the units queued before have run. Cancelled meanwhile (a stop past its bound,
        `normreg_common.stopping`), it interrupts the statements running now and refuses what is
        still queued, so the database's threads end at once instead of holding up the exit: nothing
        is lost, an interrupted unit rolls back and none of them was answered."""
        self._closing = True
        try:
            if self._reads is not None:
                await self._reads.close()
            if self._conn is not None:
                await self._submit(self._conn.close, "close")
                self._conn = None
        except asyncio.CancelledError:
            self._abandon()
            raise
        self._watch.close()
        self._executor.shutdown(wait=True)

    def _abandon(self) -> None:
        if self._reads is not None:
            self._reads._abandon()
        self._abandoned = True
        if self._conn is not None:
            # It may be closing on its thread right now.
            with contextlib.suppress(sqlite3.ProgrammingError):
                self._conn.interrupt()
        with self._lock:
            refused, self._pending = self._pending, []
        closing = sqlite3.OperationalError(f"{self._label} is closing")
        for _, _, future, loop in refused:
            loop.call_soon_threadsafe(_settle_all, [(future, False, closing)])
        self._executor.shutdown(wait=False)

    def _refuse_when_closing(self) -> None:
        if self._closing:
            raise sqlite3.OperationalError(f"{self._label} is closed")

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._read_only:
            raise sqlite3.OperationalError(f"{self._name} is opened read-only in this process")
        self._refuse_when_closing()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # The unit runs on the database thread in its caller's context: the events it writes carry the
        # request's trace, not this span's.
        context = contextvars.copy_context()
        with tracing.span("normreg.sqlite", f"sqlite transaction {self._name}", **{"db.system": "sqlite"}):
            with self._lock:
                self._pending.append((lambda conn: context.run(work, conn), _name_of(work), future, loop))
                schedule = not self._flush_scheduled
                self._flush_scheduled = True
            if schedule:
                self._executor.submit(self._flush)
            return await future

    async def read(
        self,
        work: Callable[[sqlite3.Connection], T],
        *,
        deadline: float | None = None,
        budget_s: float | None = None,
    ) -> T:
        """Runs `work` on the reading connection. SQLite stops it, and ReadStopped is raised, at
        `deadline` (a time.monotonic() value: the caller's, waiting for the thread included) or once
        it has run `budget_s` seconds; a read whose caller is cancelled is stopped too, so a caller
        that gave up never leaves its work holding the thread."""
        self._refuse_when_closing()
        if self._reads is not None:
            return await self._reads.read(work, deadline=deadline, budget_s=budget_s)
        stop = _Stop(deadline, budget_s, self._clock)
        try:
            return await self._submit(lambda: self._bounded(work, stop), _name_of(work))
        except asyncio.CancelledError:
            self._watch.cancel(stop)
            raise

    def _bounded(self, work: Callable[[sqlite3.Connection], T], stop: _Stop) -> T:
        what = _name_of(work)
        stop.start()
        if stop.due():  # passed while the read waited for the thread
            raise ReadStopped(self._label, what)
        conn = self._connection()
        if self._read_only:
            # Another connection writes: the statements of one unit must all see the same commit
            # (hits and facet counts of one search, the generation and the tables it names).
            conn.execute("BEGIN")
        self._watch.begin(stop, conn)
        try:
            return work(conn)
        except sqlite3.OperationalError as exc:
            if stop.tripped and exc.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
                # The work's frames hold its cursors: cleared, their statements end, and with them
                # the interruption (SQLite keeps it while any statement of the connection runs).
                traceback.clear_frames(exc.__traceback__)
                raise ReadStopped(self._label, what) from None
            raise
        finally:
            # Before the COMMIT, which an interruption would otherwise stop, leaving the snapshot open.
            self._watch.end()
            if self._read_only and conn.in_transaction:
                self._end_read(conn)

    def _end_read(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
                raise
            # An interruption that came as the read ended stays in force while a statement of it is
            # unfinished (a cursor still held): every later statement of this connection would be
            # interrupted too, beginning with this COMMIT. A fresh connection has none.
            log.warning("sqlite %s: a read left a statement unfinished as it was stopped; reconnecting", self._label)
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._conn = self._open_read_only()

    def _connection(self) -> sqlite3.Connection:
        if self._abandoned:
            raise sqlite3.OperationalError(f"{self._label} is closing")
        if self._conn is None:
            raise RuntimeError(f"database {self._path} is not open")
        return self._conn

    def _flush(self) -> None:
        with self._lock:
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            if self._pending and not self._abandoned:
                self._executor.submit(self._flush)
            else:
                self._flush_scheduled = False
        if not group:
            return
        outcomes: list[tuple[bool, Any]] = []
        started = self._clock()
        slowest, slowest_s, commit_s = "", 0.0, 0.0
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            for work, name, _, _ in group:
                unit_started = self._clock()
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
                if (took := self._clock() - unit_started) >= slowest_s:
                    slowest, slowest_s = name, took
            committing = self._clock()
            conn.execute("COMMIT")
            commit_s = self._clock() - committing
        except BaseException as exc:  # the whole group failed: every caller hears it
            if self._conn is not None and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            outcomes = [(False, exc)] * len(group)
        ended = self._clock()
        if ended - started >= self._slow_unit_s:
            # The COMMIT apart: a checkpoint of the WAL runs inside it.
            log.warning(
                "sqlite %s: a group of %d transaction(s) held the database thread %.1f s "
                "(the longest %s, %.1f s; the commit %.1f s)",
                self._label,
                len(group),
                ended - started,
                slowest,
                slowest_s,
                commit_s,
            )
        # One wake-up of each caller's loop for the whole group, not one per unit: each costs the
        # loop a system call and an iteration, which a busy group would pay sixty-four times.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_, _, future, loop), (ok, value) in zip(group, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)

    async def _submit(self, fn: Callable[[], T], what: str) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._timed, fn, what)

    def _timed(self, fn: Callable[[], T], what: str) -> T:
        started = self._clock()
        try:
            return fn()
        finally:
            if (took := self._clock() - started) >= self._slow_unit_s:
                log.warning("sqlite %s: %s held the database thread %.1f s (1 unit)", self._label, what, took)


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.cancelled():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
