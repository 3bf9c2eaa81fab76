"""The search service as a witness of the registry's history: every signed checkpoint that arrives
on an event is kept, in search.db, in a table that can only grow.

The registry cannot write here (another service, another database); `normreg verify` reads the
checkpoints back (SearchService.ListCheckpoints) and has the registry check its database against
them. The witness does not judge the signatures: it keeps what it was shown.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

WITNESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS witnessed_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    token TEXT NOT NULL,
    UNIQUE (document, sequence)
);
CREATE TRIGGER IF NOT EXISTS witnessed_checkpoints_no_update BEFORE UPDATE ON witnessed_checkpoints
BEGIN SELECT RAISE(ABORT, 'witnessed checkpoints are never changed'); END;
CREATE TRIGGER IF NOT EXISTS witnessed_checkpoints_no_delete BEFORE DELETE ON witnessed_checkpoints
BEGIN SELECT RAISE(ABORT, 'witnessed checkpoints are never deleted'); END;
"""


@dataclass(frozen=True)
class Witnessed:
    id: int
    document: str
    sequence: int
    token: str


def keep(conn: sqlite3.Connection, seen: Sequence[tuple[str, int, str]]) -> None:
    """Records (document, sequence, token) triples; one already kept stays as it was."""
    conn.executemany("INSERT OR IGNORE INTO witnessed_checkpoints (document, sequence, token) VALUES (?, ?, ?)", seen)


def page(conn: sqlite3.Connection, after: int, limit: int) -> list[Witnessed]:
    rows = conn.execute(
        "SELECT id, document, sequence, token FROM witnessed_checkpoints WHERE id > ? ORDER BY id LIMIT ?",
        (after, limit),
    ).fetchall()
    return [Witnessed(int(r[0]), str(r[1]), int(r[2]), str(r[3])) for r in rows]
