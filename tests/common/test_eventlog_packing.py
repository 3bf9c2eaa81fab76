"""The embedded log stores large values packed and hands every consumer the bytes it was given; a
log file written before packing is read as it was and takes new records beside the old."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.packing import SMALL, pack, unpack

TEXT = "第一条 为了规范行政规范性文件的制定和备案审查工作，根据有关法律、法规，结合本市实际，制定本办法。\n" * 40


async def from_start(topic: str, partition: int) -> int | None:
    return None


@settings(deadline=None)
@given(st.binary(max_size=4 * SMALL))
def test_a_packed_value_unpacks_to_what_was_given(value: bytes) -> None:
    stored, packed = pack(value)
    assert unpack(stored, packed) == value
    assert packed == (len(value) >= SMALL)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode)), max_size=6))
async def test_the_log_gives_back_every_value_as_given(tmp_path: Path, values: list[bytes]) -> None:
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    log = SqliteEventLog(path)
    await log.start()
    try:
        await log.publish([Record("t", "k", v) for v in values])
        consumer = log.consumer(["t"], "g", from_start)
        await consumer.start()
        assert [d.value for d in await consumer.poll(timeout=0)] == values
    finally:
        await log.close()


async def test_a_large_value_is_stored_packed(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    await log.start()
    value = TEXT.encode()
    await log.publish([Record("t", "k", value)])
    await log.close()
    with sqlite3.connect(tmp_path / "log.db") as conn:
        stored, packed = conn.execute("SELECT value, packed FROM records").fetchone()
    assert packed == 1
    assert len(stored) < len(value) / 4


async def test_a_log_written_before_packing_is_read_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    old = TEXT.encode()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE records (topic TEXT NOT NULL, offset INTEGER NOT NULL, key TEXT NOT NULL, "
            "value BLOB NOT NULL, appended_at REAL NOT NULL, PRIMARY KEY (topic, offset)) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO records VALUES ('t', 0, 'k', ?, 0)", (old,))
    # A consumer started before its producer migrates the file itself.
    reader = SqliteEventLog(path)
    consumer = reader.consumer(["t"], "g", from_start)
    await consumer.start()
    assert [d.value for d in await consumer.poll(timeout=0)] == [old]
    writer = SqliteEventLog(path)
    await writer.start()
    new = ("新" + TEXT).encode()
    await writer.publish([Record("t", "k", new)])
    assert [(d.offset, d.value) for d in await consumer.poll(timeout=0)] == [(1, new)]
    await writer.close()
    await reader.close()
