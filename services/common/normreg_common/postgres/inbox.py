"""Consumer positions and applied sequences on PostgreSQL (see normreg_common.inbox for the idea).

Two replicas may hold the same partition for a moment during a rebalance and apply the same batch:
the sequence check is one atomic upsert, so exactly one of them applies a given event and the other
sees it as already applied (its transaction waits for the first one's row, then re-reads it).
"""

from __future__ import annotations

from collections.abc import Sequence

from normreg_common.eventlog.port import Delivery, PositionLoader
from normreg_common.postgres.database import Conn, PostgresDatabase


def position_loader(db: PostgresDatabase, group: str) -> PositionLoader:
    async def load(topic: str, partition: int) -> int | None:
        async with db.connection() as conn:
            cursor = await conn.execute(
                'SELECT "offset" FROM consumer_positions WHERE grp = %s AND topic = %s AND partition = %s',
                (group, topic, partition),
            )
            row = await cursor.fetchone()
        return None if row is None else int(row[0])

    return load


def save_positions(conn: Conn, group: str, deliveries: Sequence[Delivery]) -> None:
    last: dict[tuple[str, int], int] = {}
    for d in deliveries:
        last[(d.topic, d.partition)] = max(d.offset, last.get((d.topic, d.partition), -1))
    with conn.cursor() as cursor:
        cursor.executemany(
            'INSERT INTO consumer_positions (grp, topic, partition, "offset") VALUES (%s, %s, %s, %s) '
            'ON CONFLICT (grp, topic, partition) DO UPDATE SET "offset" = '
            'GREATEST(consumer_positions."offset", excluded."offset")',
            [(group, topic, partition, offset) for (topic, partition), offset in sorted(last.items())],
        )


def accept_sequence(conn: Conn, source: str, subject: str, sequence: int) -> bool:
    """True, and remembered, when `sequence` is newer than anything applied for the stream."""
    row = conn.execute(
        "INSERT INTO inbox_sequences (source, subject, sequence) VALUES (%s, %s, %s) "
        "ON CONFLICT (source, subject) DO UPDATE SET sequence = excluded.sequence "
        "WHERE inbox_sequences.sequence < excluded.sequence RETURNING 1",
        (source, subject, sequence),
    ).fetchone()
    return row is not None
