"""Reads kept apart from the writes of one database, stopped at their deadline, and units that hold
a database's thread too long named in the log."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from normreg_common.sqlite import Database, ReadStopped

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
# Never ends by itself: only SQLite's interruption stops it.
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
# A guard against a hang, not a measure: a read that waited on the writer would never return.
GUARD_S = 60


def values(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT v FROM t ORDER BY k")]


def endless(conn: sqlite3.Connection) -> int:
    return int(conn.execute(ENDLESS).fetchone()[0])


async def test_a_read_kept_apart_answers_while_a_transaction_holds_the_writer(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True)
    await db.open()
    holding, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (k, v) VALUES (2, 'uncommitted')")
        holding.set()
        release.wait()

    try:
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (1, 'a')"))
        write = asyncio.create_task(db.transaction(hold))
        await asyncio.to_thread(holding.wait)
        try:
            # The last commit, not the write under way.
            assert await asyncio.wait_for(db.read(values), GUARD_S) == ["a"]
            assert not write.done()
        finally:
            release.set()
        await write
        # Read after commit: what a caller waited for is there for the next read.
        assert await db.read(values) == ["a", "uncommitted"]
    finally:
        release.set()
        await db.close()


async def test_a_database_in_memory_keeps_its_reads_on_its_one_thread() -> None:
    db = Database(":memory:", SCHEMA, separate_reads=True)
    await db.open()
    try:
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (1, 'a')"))
        assert await db.read(values) == ["a"]
    finally:
        await db.close()


@pytest.mark.parametrize("apart", [True, False], ids=["reads apart", "one thread"])
async def test_a_read_past_its_deadline_is_stopped_inside_sqlite_and_the_next_read_runs(
    tmp_path: Path, apart: bool
) -> None:
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=apart)
    await db.open()
    try:
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (1, 'a')"))
        with pytest.raises(ReadStopped):
            await asyncio.wait_for(db.read(endless, deadline=time.monotonic() + 0.05), GUARD_S)
        # The thread is free, the handler gone and no snapshot left open: a later commit is seen.
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (2, 'b')"))
        assert await asyncio.wait_for(db.read(values), GUARD_S) == ["a", "b"]
        # A read that waited past its deadline for the thread does not start.
        with pytest.raises(ReadStopped):
            await db.read(values, deadline=time.monotonic() - 1)
    finally:
        await db.close()


async def test_a_read_that_runs_past_its_budget_is_stopped_and_the_next_read_runs(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True)
    await db.open()
    try:
        with pytest.raises(ReadStopped):
            await asyncio.wait_for(db.read(endless, budget_s=0.05), GUARD_S)
        assert await asyncio.wait_for(db.read(values, budget_s=GUARD_S), GUARD_S) == []
    finally:
        await db.close()


async def test_a_reads_budget_counts_its_running_not_its_wait_for_the_thread(tmp_path: Path) -> None:
    now = [0.0]
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True, clock=lambda: now[0])
    await db.open()
    holding, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> list[str]:
        holding.set()
        release.wait()
        return values(conn)

    try:
        first = asyncio.create_task(db.read(hold))
        await asyncio.to_thread(holding.wait)
        queued = asyncio.create_task(db.read(values, budget_s=1.0))
        await asyncio.sleep(0)  # one turn of the loop: the read is handed to the database's thread
        # The second read waits for the thread a hundred times its budget, by the database's clock.
        now[0] = 100.0
        release.set()
        assert await first == []
        assert await asyncio.wait_for(queued, GUARD_S) == []
    finally:
        release.set()
        await db.close()


async def test_a_read_whose_caller_gave_up_is_stopped(tmp_path: Path) -> None:
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True)
    await db.open()
    try:
        started = threading.Event()

        def endless_once_started(conn: sqlite3.Connection) -> int:
            started.set()
            return endless(conn)

        running = asyncio.create_task(db.read(endless_once_started))
        await asyncio.to_thread(started.wait)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert await asyncio.wait_for(db.read(values), GUARD_S) == []
    finally:
        await db.close()


async def test_a_unit_that_holds_the_thread_too_long_is_logged_with_its_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Every reading of the clock is 3 s after the one before: each unit takes 3 s or more.
    ticks = itertools.count(step=3.0)
    db = Database(tmp_path / "slow.db", SCHEMA, separate_reads=True, clock=lambda: next(ticks))

    def insert_rows(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO t (k, v) VALUES (1, 'a')")

    with caplog.at_level(logging.WARNING, logger="normreg_common.sqlite"):
        await db.open()
        await db.transaction(insert_rows)
        await db.read(values)
        await db.close()
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        line.startswith("sqlite slow.db: a group of 1 transaction(s) held the database thread")
        and "insert_rows" in line
        for line in lines
    ), lines
    assert any(line.startswith("sqlite slow.db (reads): values held the database thread") for line in lines), lines
    assert any(line.startswith("sqlite slow.db: open held the database thread") for line in lines), lines


async def test_units_within_the_threshold_log_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = Database(tmp_path / "quick.db", SCHEMA, separate_reads=True, clock=lambda: 0.0)
    with caplog.at_level(logging.WARNING, logger="normreg_common.sqlite"):
        await db.open()
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (1, 'a')"))
        assert await db.read(values) == ["a"]
        await db.close()
    assert not caplog.records


async def test_a_read_interrupted_as_it_ends_with_a_cursor_still_held_leaves_the_next_read_answering(
    tmp_path: Path,
) -> None:
    # SQLite keeps an interruption in force while any statement of the connection is unfinished, so
    # one that lands as a read ends would otherwise stop its COMMIT and every read after it.
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True)
    await db.open()
    held: list[sqlite3.Cursor] = []

    def leaves_a_cursor(conn: sqlite3.Connection) -> str:
        held.append(conn.execute("SELECT v FROM t ORDER BY k"))
        first = str(held[-1].fetchone()[0])
        conn.interrupt()  # as the watch would, a moment too late to stop anything
        return first

    try:
        await db.transaction(lambda c: c.executemany("INSERT INTO t (k, v) VALUES (?, ?)", [(1, "a"), (2, "b")]))
        assert await asyncio.wait_for(db.read(leaves_a_cursor), GUARD_S) == "a"
        assert await asyncio.wait_for(db.read(values), GUARD_S) == ["a", "b"]
        await db.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (3, 'c')"))
        assert await asyncio.wait_for(db.read(values), GUARD_S) == ["a", "b", "c"]
    finally:
        await db.close()


async def test_a_read_whose_budget_passes_between_two_statements_is_stopped_in_the_next(tmp_path: Path) -> None:
    # SQLite drops an interruption that comes while none of the connection's statements runs: the
    # statement after it must be stopped all the same.
    db = Database(tmp_path / "x.db", SCHEMA, separate_reads=True)
    await db.open()

    def pause_then_endless(conn: sqlite3.Connection) -> int:
        conn.execute("SELECT count(*) FROM t").fetchone()
        time.sleep(0.3)  # the budget passes here, between statements
        return endless(conn)

    try:
        with pytest.raises(ReadStopped):
            await asyncio.wait_for(db.read(pause_then_endless, budget_s=0.05), GUARD_S)
        assert await asyncio.wait_for(db.read(values), GUARD_S) == []
    finally:
        await db.close()
