"""The PostgreSQL outbox relay with several relays at once: every row sent, once, each key in order."""

from __future__ import annotations

import asyncio
import collections
import json
import random
from collections.abc import AsyncIterator, Sequence

import pytest
from normreg_common.eventlog.port import Consumer, EventLog, PositionLoader, Record, RecordRefused
from normreg_common.postgres.database import PostgresDatabase
from normreg_common.postgres.outbox import PostgresOutboxRelay, sendable_prefix
from normreg_registry.adapters.postgres_store import MIGRATIONS


class SlowLog(EventLog):
    """Acknowledges after a random pause, so relays overlap; `fail_after_ack` batches are recorded and
    then reported as failed, like a relay that died between the log's acknowledgement and its commit."""

    def __init__(self, seed: int, fail_after_ack: int = 0) -> None:
        self.records: list[Record] = []
        self._rng = random.Random(seed)
        self._fail_after_ack = fail_after_ack

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError

    async def publish(self, records: Sequence[Record]) -> None:
        await asyncio.sleep(self._rng.uniform(0, 0.01))
        self.records.extend(records)
        if self._fail_after_ack > 0 and self._rng.random() < 0.3:
            self._fail_after_ack -= 1
            raise ConnectionError("acknowledged, but the relay never heard it")


@pytest.fixture
async def db(postgres_url: str, postgres_schema_prefix: str) -> AsyncIterator[PostgresDatabase]:
    database = PostgresDatabase(postgres_url, f"{postgres_schema_prefix}relay", MIGRATIONS, pool_size=2)
    await database.open()
    yield database
    await database.close()


async def fill(db: PostgresDatabase, keys: int, per_key: int, seed: int) -> None:
    """Rows of `keys` keys interleaved at random, each key's sequence increasing."""
    rng = random.Random(seed)
    order = [k for k in range(keys) for _ in range(per_key)]
    rng.shuffle(order)
    counters: collections.Counter[int] = collections.Counter()
    rows = []
    for k in order:
        counters[k] += 1
        rows.append(("normreg.documents", f"documents/{k}", json.dumps({"sequence": counters[k]}).encode()))

    def insert(conn: object) -> None:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.executemany("INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s)", rows)

    await db.transaction(insert)


async def run_relays(db: PostgresDatabase, log: SlowLog, relays: int) -> None:
    async def one() -> None:
        relay = PostgresOutboxRelay(db, log, batch_size=7)
        while await relay.pending():
            try:
                await relay.relay_once()
            except ConnectionError:
                continue

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(relays))), timeout=120)


def sequences_by_key(records: list[Record]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = collections.defaultdict(list)
    for r in records:
        out[r.key].append(json.loads(r.value)["sequence"])
    return out


async def test_three_relays_send_every_row_once_and_each_key_in_order(db: PostgresDatabase) -> None:
    await fill(db, keys=6, per_key=30, seed=1)
    log = SlowLog(seed=2)
    await run_relays(db, log, relays=3)
    assert len(log.records) == 180
    assert sequences_by_key(log.records) == {f"documents/{k}": list(range(1, 31)) for k in range(6)}


async def test_a_batch_acknowledged_but_not_marked_is_sent_again_in_order(db: PostgresDatabase) -> None:
    await fill(db, keys=4, per_key=25, seed=3)
    log = SlowLog(seed=4, fail_after_ack=3)
    await run_relays(db, log, relays=2)
    for key, sent in sequences_by_key(log.records).items():
        firsts = list(dict.fromkeys(sent))
        # Never out of order: the first time each event goes out, it follows the one before it.
        assert firsts == list(range(1, 26)), key
        # A repeat only re-sends events already sent, so a consumer drops it by its sequence.
        seen = 0
        for sequence in sent:
            assert sequence <= seen + 1, (key, sent)
            seen = max(seen, sequence)
    assert len(log.records) > 100  # the failed batches were sent twice


def test_a_relay_sends_only_what_comes_before_another_relays_rows_of_the_same_key() -> None:
    # Keys a and b; ids 1..6. We hold 1, 3, 4, 6; another relay holds 2 (a) and 5 (b).
    unsent = [(1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "b"), (6, "b")]
    assert sendable_prefix({1, 3, 4, 6}, unsent) == {1, 4}
    assert sendable_prefix({2, 3, 5, 6}, unsent[1:3] + unsent[4:]) == {2, 3, 5, 6}
    assert sendable_prefix({3}, unsent) == set()


class SmallTopicLog(SlowLog):
    """Refuses, for what it is, a record larger than its topic takes; acknowledges the rest."""

    async def publish(self, records: Sequence[Record]) -> None:
        for r in records:
            if len(r.value) > 30:
                raise RecordRefused(r, "larger than the topic takes")
        await super().publish(records)


async def test_an_event_the_log_refuses_is_held_and_its_key_goes_on_in_order(db: PostgresDatabase) -> None:
    await fill(db, keys=2, per_key=5, seed=5)

    def oversized(conn: object) -> None:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute(
                "INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s)",
                ("normreg.documents", "documents/0", json.dumps({"sequence": 6, "text": "x" * 100}).encode()),
            )

    await db.transaction(oversized)
    await fill_more(db, key=0, sequences=range(7, 9))
    log = SmallTopicLog(seed=6)
    relay = PostgresOutboxRelay(db, log, batch_size=4)
    while await relay.relay_once():
        pass
    assert sequences_by_key(log.records) == {"documents/0": [1, 2, 3, 4, 5, 7, 8], "documents/1": [1, 2, 3, 4, 5]}
    assert len(relay.held) == 1 and await relay.pending() == 1


async def fill_more(db: PostgresDatabase, key: int, sequences: range) -> None:
    rows = [("normreg.documents", f"documents/{key}", json.dumps({"sequence": s}).encode()) for s in sequences]

    def insert(conn: object) -> None:
        with conn.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.executemany("INSERT INTO outbox (topic, key, value) VALUES (%s, %s, %s)", rows)

    await db.transaction(insert)
