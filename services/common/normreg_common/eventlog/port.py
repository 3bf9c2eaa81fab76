"""What a service needs from an event log, in Kafka's terms: topics, partitions, offsets.

Consumers keep their own positions in their own database (written in the same transaction as the
effects of the records), and the log resumes them from there. Committing to the log itself is only
advisory, so a crash between the two never skips or double-applies a record.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from normreg_common.errors import InvalidArgument
from normreg_common.packing import unpack

# The largest record any log here takes: Kafka's max.message.bytes and the producer's request size as
# the project configures them, and the bound every producer holds its events to, whichever log it
# writes, so that an event one log took is one every log takes.
MAX_RECORD_BYTES = 8 * 1024 * 1024
# What Kafka adds to a record's key and value when it weighs it (attributes, headers, batch header).
_RECORD_OVERHEAD = 64 * 1024


def within_record_limit(record: Record, field: str, *, headroom: int = 0) -> Record:
    """`record`, or INVALID_ARGUMENT on `field` when it is larger than any log may carry (less
    `headroom`): an event refused by the log after its write committed would stop the outbox behind
    it forever, so the write is refused instead and changes nothing. A write that sets a text leaves
    `headroom` for the events that will carry the same text with more beside it (a promulgation, a
    filing, a scheduler's mark), which must never be the ones refused."""
    size = len(record.value) + len(record.key.encode()) + len(record.topic.encode())
    limit = MAX_RECORD_BYTES - _RECORD_OVERHEAD - headroom
    if size > limit:
        raise InvalidArgument(
            field,
            f"the change would be published as an event of {size / 2**20:.1f} MiB, more than the "
            f"{limit / 2**20:.1f} MiB an event may carry; send the text in smaller parts (fewer or "
            "shorter articles, a shorter body)",
        )
    return record


class RecordRefused(Exception):
    """The log refused a record for what it is (larger than its topic takes), not for being away:
    sending it again will not help. The relay keeps it unsent, held, and sends the rest."""

    def __init__(self, record: Record, why: str) -> None:
        super().__init__(f"{record.topic}/{record.key}: {why}")
        self.record = record


@dataclass(frozen=True)
class Record:
    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class Delivery:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    # Unix time the log appended the record (Kafka's record timestamp); 0 when the log does not say.
    timestamp: float = 0.0


# (topic, partition) -> last processed offset, or None to start from the beginning.
PositionLoader = Callable[[str, int], Awaitable[int | None]]


class Consumer(abc.ABC):
    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def poll(self, max_records: int = 500, timeout: float = 0.5) -> list[Delivery]:
        """Records after the consumer's positions, in offset order per partition; [] on timeout."""

    @abc.abstractmethod
    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        """Tell the log how far this group got (advisory)."""

    @abc.abstractmethod
    async def rewind(self) -> None:
        """Go back to the positions the consumer's own store holds, after a failed batch."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def lag(self) -> dict[tuple[str, int], int]:
        """Per (topic, partition) this consumer reads: how many records the log holds after the
        position the consumer's own store has applied."""


class EventLog(abc.ABC):
    @abc.abstractmethod
    async def start(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, records: Sequence[Record]) -> None:
        """Returns only once every record is durably acknowledged by the log; raises otherwise."""

    async def publish_packed(self, records: Sequence[tuple[str, str, bytes, bool]]) -> None:
        """`publish` of records given as an outbox keeps them (topic, key, stored bytes, whether
        packed by `normreg_common.packing`). A log that keeps values packed the same way takes them
        as they are; any other gets them unpacked."""
        await self.publish([Record(topic, key, unpack(stored, packed)) for topic, key, stored, packed in records])

    @abc.abstractmethod
    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer: ...

    @abc.abstractmethod
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...
