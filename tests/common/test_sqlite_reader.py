"""A process that only reads a SQLite database another process writes (the search readers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from normreg_common.sqlite import Database

SCHEMA = "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"


async def test_a_read_only_database_sees_the_writers_commits_and_cannot_write(tmp_path: Path) -> None:
    writer = Database(tmp_path / "x.db", SCHEMA, synchronous="NORMAL")
    await writer.open()
    reader = Database(tmp_path / "x.db", SCHEMA, read_only=True)
    await reader.open()
    try:
        await writer.transaction(lambda c: c.execute("INSERT INTO t (k, v) VALUES (1, 'a')"))
        assert await reader.read(lambda c: c.execute("SELECT v FROM t").fetchall()[0][0]) == "a"
        await writer.transaction(lambda c: c.execute("UPDATE t SET v = 'b'"))
        assert await reader.read(lambda c: c.execute("SELECT v FROM t").fetchall()[0][0]) == "b"

        with pytest.raises(sqlite3.OperationalError):
            await reader.transaction(lambda c: c.execute("DELETE FROM t"))
        # Even a write smuggled into a read is refused by SQLite itself.
        with pytest.raises(sqlite3.OperationalError):
            await reader.read(lambda c: c.execute("DELETE FROM t"))
        assert await writer.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 1
    finally:
        await reader.close()
        await writer.close()


async def test_a_read_only_database_never_creates_the_file(tmp_path: Path) -> None:
    reader = Database(tmp_path / "missing.db", SCHEMA, read_only=True)
    with pytest.raises(sqlite3.OperationalError):
        await reader.open()
    await reader.close()
    assert not (tmp_path / "missing.db").exists()
