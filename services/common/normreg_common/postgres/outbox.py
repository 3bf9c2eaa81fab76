"""The outbox relay on PostgreSQL, safe with any number of replicas relaying at once.

Each relay locks a batch of unsent rows with `FOR UPDATE SKIP LOCKED`, so two relays never hold the
same row; it publishes them while holding the locks and marks them sent in the same transaction,
after the log acknowledged them. A relay killed in between leaves the rows unsent and unlocked:
another relay sends them again (consumers drop what they already applied, by sequence).

Skipping locked rows alone would reorder a document's events: while relay A holds event 4 of a
document, relay B could take event 5 and publish it first, and a consumer that has applied 5 drops
4 as stale. So a relay sends a row only when every earlier unsent row of the same key is in its own
batch; the rest of its batch it leaves for later. Rows of one key are written in order (each
transaction that writes a document's events holds that document's row lock), so order by id is
order by sequence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from normreg_common.eventlog.port import EventLog, Record
from normreg_common.outbox_relay import RelayLoop
from normreg_common.postgres.database import Conn, PostgresDatabase


def enqueue(conn: Conn, records: Sequence[Record]) -> None:
    """Adds events to the outbox inside the caller's transaction."""
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s)", [(r.topic, r.key, r.value) for r in records]
        )


class PostgresOutboxRelay(RelayLoop):
    def __init__(
        self,
        db: PostgresDatabase,
        log_: EventLog,
        *,
        batch_size: int = 500,
        idle_poll_s: float = 1.0,
        service: str = "",
    ) -> None:
        super().__init__(log_, batch_size=batch_size, idle_poll_s=idle_poll_s, service=service)
        self._db = db

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows this relay may send now; returns how many were sent."""
        held = sorted(self.held)
        async with self._db.connection() as conn, conn.transaction():
            cursor = await conn.execute(
                "SELECT id, topic, key, value FROM outbox WHERE sent_at IS NULL AND NOT (id = ANY(%s)) "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (held, self._batch_size),
            )
            rows = await cursor.fetchall()
            if not rows:
                return 0
            ours = {int(r[0]) for r in rows}
            # Every unsent row of these keys up to our last one, locked by anyone (a plain read does not
            # wait), but those this relay holds: the log refuses them, and they must not stop their key.
            cursor = await conn.execute(
                "SELECT id, key FROM outbox WHERE sent_at IS NULL AND key = ANY(%s) AND id <= %s "
                "AND NOT (id = ANY(%s)) ORDER BY id",
                (list({str(r[2]) for r in rows}), max(ours), held),
            )
            sendable_ids = sendable_prefix(ours, [(int(i), str(k)) for i, k in await cursor.fetchall()])
            sendable = [r for r in rows if int(r[0]) in sendable_ids]
            if not sendable:
                return 0
            # The locks are held while publishing, and the rows marked in the same transaction.
            sent = await self.publish_rows([(int(r[0]), str(r[1]), str(r[2]), bytes(r[3]), False) for r in sendable])
            await conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY(%s)", (sent,))
            return len(sent)

    async def pending(self) -> int:
        async with self._db.connection() as conn:
            cursor = await conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def backlog(self) -> tuple[int, float | None]:
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "SELECT count(*), extract(epoch FROM min(created_at)) FROM outbox WHERE sent_at IS NULL"
            )
            row = await cursor.fetchone()
        if row is None:
            return 0, None
        return int(row[0]), None if row[1] is None else float(row[1])


def sendable_prefix(ours: set[int], unsent: list[tuple[int, str]]) -> set[int]:
    """Of the rows we hold, those before the first unsent row of their key that we do not hold.

    `unsent` is every unsent (id, key) of our keys up to our highest id, ours and others'.
    """
    first_foreign: dict[str, int] = {}
    for row_id, key in unsent:
        if row_id not in ours and key not in first_foreign:
            first_foreign[key] = row_id
    by_key: dict[str, list[int]] = defaultdict(list)
    for row_id, key in unsent:
        if row_id in ours:
            by_key[key].append(row_id)
    return {i for key, ids in by_key.items() for i in ids if i < first_foreign.get(key, i + 1)}
