"""The SQLite store's sightings: a file written before they had positions and deadlines is brought up
to date when opened, and the missed filings are one range of the index of sightings still unfiled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from normreg_common.sqlite import Database
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore, _seen, upgrade

from tests.filing.test_filing_review_domain import received, seen

# The table as the earlier release made it.
EARLIER_SEEN = """
CREATE TABLE seen_promulgations (
    sender TEXT NOT NULL,
    document TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (sender, document, recipient)
);
"""


async def opened(path: Path) -> tuple[Database, SqliteFilingStore]:
    db = Database(path, SCHEMA, upgrade=upgrade)
    await db.open()
    return db, SqliteFilingStore(db)


async def test_a_file_of_the_earlier_release_gets_its_sightings_positions_deadlines_and_filed_marks(
    tmp_path: Path,
) -> None:
    path = tmp_path / "filing.db"
    db, store = await opened(path)
    await store.write(lambda r: r.save_filing(received("documents/b/versions/1")))
    await db.close()
    sightings = [
        seen("documents/c/versions/1"),
        seen("documents/b/versions/1"),
        seen("documents/a/versions/1", "wuhai"),
    ]
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE seen_promulgations")
        conn.executescript(EARLIER_SEEN)
        conn.executemany(
            "INSERT INTO seen_promulgations VALUES (?, ?, ?, ?)",
            [(p.sender, p.document, p.recipient, _seen.dump_json(p).decode()) for p in sightings],
        )
    conn.close()
    for _ in range(2):  # the second open finds nothing to do
        db, store = await opened(path)
        try:
            rows = await db.read(
                lambda c: c.execute(
                    "SELECT pos, document, promulgated, due, filed FROM seen_promulgations ORDER BY pos"
                ).fetchall()
            )
            assert [tuple(r) for r in rows] == [
                (1, "documents/b/versions/1", "2026-03-02", "2026-04-01", 1),
                (2, "documents/c/versions/1", "2026-03-02", "2026-04-01", 0),
                (3, "documents/a/versions/1", "2026-03-02", "2026-04-01", 0),
            ]
            missing = await store.read(lambda r: r.missing_after(0, 10))
            assert missing is not None
            assert [p.document for _, p in missing] == ["documents/c/versions/1", "documents/a/versions/1"]
            assert [p for _, p in missing] == [sightings[0], sightings[2]]
        finally:
            await db.close()


async def test_a_sighting_is_marked_filed_whichever_came_first_and_a_page_is_one_range_of_the_unfiled(
    tmp_path: Path,
) -> None:
    db, store = await opened(tmp_path / "filing.db")
    try:
        await store.write(lambda r: r.save_filing(received("documents/a/versions/1")))
        await store.write(lambda r: r.see(seen("documents/a/versions/1")))
        await store.write(lambda r: r.see(seen("documents/b/versions/1")))
        await store.write(lambda r: r.see(seen("documents/c/versions/1")))
        await store.write(lambda r: r.save_filing(received("documents/b/versions/1")))
        filed = await db.read(
            lambda c: c.execute("SELECT document, filed FROM seen_promulgations ORDER BY document").fetchall()
        )
        assert [tuple(r) for r in filed] == [
            ("documents/a/versions/1", 1),
            ("documents/b/versions/1", 1),
            ("documents/c/versions/1", 0),
        ]
        for sender, index in (("", "seen_unfiled"), ("chifeng", "seen_unfiled_of")):
            plans = await store.read(lambda r, s=sender: plan(r, s))
            assert any(f"USING INDEX {index}" in step for step in plans), plans
            assert not any("SCAN s" in step and "INDEX" not in step for step in plans), plans
    finally:
        await db.close()


def plan(repo: object, sender: str) -> list[str]:
    """The query plan of the page after a position, as the store asks it."""
    conn: sqlite3.Connection = repo._c  # type: ignore[attr-defined]
    steps: list[str] = []
    real = conn.execute

    def explaining(sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if sql.startswith("SELECT s.pos"):
            steps.extend(str(r[3]) for r in real("EXPLAIN QUERY PLAN " + sql, args).fetchall())
        return real(sql, args)

    repo._c = _Explaining(conn, explaining)  # type: ignore[attr-defined]
    repo.missing_after(1, 5, sender=sender)  # type: ignore[attr-defined]
    return steps


class _Explaining:
    def __init__(self, conn: sqlite3.Connection, execute: object) -> None:
        self._conn = conn
        self.execute = execute
