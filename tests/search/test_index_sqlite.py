"""The embedded SQLite FTS5 index against the index contract, plus what is particular to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.sqlite import Database
from normreg_search.index.port import SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex

from tests.search.contract import ALL, IndexContract
from tests.search.helpers import change


class TestSqliteFtsIndex(IndexContract):
    @pytest.fixture
    async def index(self, tmp_path: Path) -> AsyncIterator[SearchIndex]:
        db = Database(tmp_path / "search.db", INBOX_SCHEMA + META_SCHEMA)
        await db.open()
        index = SqliteFtsIndex(db)
        await index.open()
        yield index
        await index.close()
        await db.close()


async def test_the_index_and_its_generation_survive_a_restart(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    build = await index.begin_rebuild()
    await build.apply([change(v) for v in ALL])
    await build.switch()
    before = await index.entries()
    await db.close()

    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    reopened = SqliteFtsIndex(db)
    await reopened.open()
    assert reopened.generation == 2
    assert await reopened.entries() == before
    await db.close()


async def test_positions_commit_with_the_writes_or_not_at_all(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()

    def fail(conn: object) -> None:
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await index.apply([change(ALL[0])], on_commit=fail)
    assert await index.entries() == {}
    await db.close()
