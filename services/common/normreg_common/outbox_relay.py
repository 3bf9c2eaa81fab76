"""What every outbox relay does, whatever database holds the outbox: publish a batch to the event log
(traced and counted), drain, and run — woken by a commit, polling ever less often while idle, backing
off while the log is unreachable (the rows stay; writes go on being accepted). A database's relay says only how it
takes a batch of unsent rows and marks them sent (`relay_once`) and how it counts what waits."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from normreg_common import metrics, tracing
from normreg_common.backoff import Backoff
from normreg_common.eventlog.port import EventLog, Record, RecordRefused
from normreg_common.packing import unpack

log = logging.getLogger(__name__)

# Longest wait between two looks at an idle outbox. A commit in this process wakes the relay at once;
# the look only finds rows that another process over the same store committed and could not send
# (a replica killed before its relay ran), so a quiet service looks every few seconds, not every one.
IDLE_POLL_MAX_S = 10.0


class Relay(Protocol):
    """What the runtime needs of an outbox relay."""

    def notify(self) -> None: ...

    async def drain(self) -> int: ...

    async def pending(self) -> int: ...

    async def backlog(self) -> tuple[int, float | None]: ...

    async def run(self, stop: asyncio.Event) -> None: ...


class RelayLoop(abc.ABC):
    def __init__(self, log_: EventLog, *, batch_size: int = 500, idle_poll_s: float = 1.0, service: str = "") -> None:
        self.service = service
        self._log = log_
        self._batch_size = batch_size
        self._idle = Backoff(idle_poll_s, max(idle_poll_s, IDLE_POLL_MAX_S))
        self._wakeup = asyncio.Event()
        # Rows the log refused for what they are: kept unsent, passed over from then on (see publish_rows).
        self._held: set[int] = set()

    @property
    def held(self) -> frozenset[int]:
        return frozenset(self._held)

    @abc.abstractmethod
    async def relay_once(self) -> int:
        """Publish one batch of unsent rows (with `publish`) and mark them sent; how many were sent."""

    @abc.abstractmethod
    async def pending(self) -> int: ...

    @abc.abstractmethod
    async def backlog(self) -> tuple[int, float | None]:
        """How many rows wait, and when the oldest of them was committed (Unix time; None when unknown)."""

    def notify(self) -> None:
        """Called after a commit that enqueued records, so they leave without waiting for the poll."""
        self._wakeup.set()

    async def publish(self, records: list[Record]) -> None:
        """Returns once the log acknowledged every record; only then may they be marked sent."""
        with tracing.message_spans(f"normreg.{self.service}", "publish", [(r.topic, r.value) for r in records]):
            await self._log.publish(records)
        metrics.record_published(self.service, len(records))

    async def publish_packed(self, rows: list[tuple[str, str, bytes, bool]]) -> None:
        """`publish` of rows as the outbox keeps them (topic, key, stored bytes, whether packed)."""
        if tracing.enabled():
            # Tracing reads each event's traceparent, so it needs the values unpacked.
            await self.publish([Record(topic, key, unpack(stored, packed)) for topic, key, stored, packed in rows])
            return
        await self._log.publish_packed(rows)
        metrics.record_published(self.service, len(rows))

    async def publish_rows(self, rows: Sequence[tuple[int, str, str, bytes, bool]]) -> list[int]:
        """Publishes outbox rows (id, topic, key, stored bytes, whether packed) and returns the ids the
        log acknowledged. When the log refuses one for what it is (RecordRefused: larger than its topic
        takes), they go one by one and each refused one is held: kept unsent in the outbox, passed over
        by this relay from then on, logged and counted (normreg_outbox_held), so one event the log
        will never take does not stop every event behind it. The log being away still fails the pass."""
        try:
            await self.publish_packed([(topic, key, stored, packed) for _, topic, key, stored, packed in rows])
            return [row[0] for row in rows]
        except RecordRefused:
            pass
        sent: list[int] = []
        for row_id, topic, key, stored, packed in rows:
            try:
                await self.publish_packed([(topic, key, stored, packed)])
            except RecordRefused as refused:
                self._held.add(row_id)
                metrics.record_held(self.service)
                log.error("outbox relay: holding event %d, which the event log refuses: %s", row_id, refused)
                continue
            sent.append(row_id)
        return sent

    async def drain(self) -> int:
        total = 0
        while sent := await self.relay_once():
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        while not stop.is_set():
            # Cleared before the look, not after: a commit while it reads wakes the next wait at once.
            self._wakeup.clear()
            try:
                sent = await self.relay_once()
                backoff = 0.1
            except Exception:
                metrics.record_publish_failure(self.service)
                # The log or the database is unreachable: keep the rows, try again later.
                log.warning("outbox relay: publish failed, retrying in %.1fs", backoff, exc_info=True)
                await wait_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent:
                self._idle.reset()
            else:
                await wait_any(stop, self._wakeup, self._idle.next())


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def wait_any(stop: asyncio.Event, wakeup: asyncio.Event, seconds: float) -> None:
    tasks = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
    try:
        await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
