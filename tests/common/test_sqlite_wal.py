"""A service's SQLite file gives back the disk its WAL took during a burst of writes (a bulk import)
once a checkpoint has copied it into the database, instead of keeping its largest size for good."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from normreg_common import sqlite
from normreg_common.sqlite import Database


async def test_the_wal_is_cut_back_after_a_checkpoint_emptied_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite, "WAL_KEPT_BYTES", 64 * 1024)
    db = Database(tmp_path / "svc.db", "CREATE TABLE t (v BLOB);")
    await db.open()
    wal = tmp_path / "svc.db-wal"
    await db.transaction(lambda c: c.executemany("INSERT INTO t VALUES (?)", [(os.urandom(4000),) for _ in range(500)]))
    assert wal.stat().st_size > 1024 * 1024
    await db.read(lambda c: c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
    # The next write starts the WAL again from its beginning, and cuts the file back.
    await db.transaction(lambda c: c.execute("INSERT INTO t VALUES (x'00')"))
    assert wal.stat().st_size <= 64 * 1024
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 501
    await db.close()
