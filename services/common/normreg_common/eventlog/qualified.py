"""Another deployment's stream read beside one's own, its records named by their full topic.

A consumer of a log under another deployment's prefix delivers logical names (`normreg.filings`),
which two such deployments would share. Wrapped here, its deliveries, positions and lag carry the
prefixed name (`neimenggu.normreg.filings`), so one handler, one position table and one set of dead
letters can hold records of several deployments' streams and of the service's own without mixing
them up, and a dead letter retried later is read as the stream it came from."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from normreg_common.eventlog.port import Consumer, Delivery, EventLog, PositionLoader


def qualified_consumer(
    log: EventLog, prefix: str, topics: Sequence[str], group: str, positions: PositionLoader
) -> Consumer:
    """A consumer of `topics` on `log` (which reads under `prefix`) whose deliveries and positions use
    `prefix + topic`."""

    async def load(topic: str, partition: int) -> int | None:
        return await positions(prefix + topic, partition)

    return Qualified(log.consumer(topics, group, load), prefix)


class Qualified(Consumer):
    def __init__(self, inner: Consumer, prefix: str) -> None:
        self._inner = inner
        self._prefix = prefix

    async def start(self) -> None:
        await self._inner.start()

    async def poll(self, max_records: int = 500, timeout: float = 0.5) -> list[Delivery]:
        batch = await self._inner.poll(max_records, timeout)
        return [dataclasses.replace(d, topic=self._prefix + d.topic) for d in batch]

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        await self._inner.commit([dataclasses.replace(d, topic=d.topic.removeprefix(self._prefix)) for d in deliveries])

    async def rewind(self) -> None:
        await self._inner.rewind()

    async def close(self) -> None:
        await self._inner.close()

    async def lag(self) -> dict[tuple[str, int], int]:
        return {(self._prefix + topic, partition): n for (topic, partition), n in (await self._inner.lag()).items()}
