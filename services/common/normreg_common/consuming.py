"""The one shape of every consumer: decode each record, set aside what cannot be decoded or applied
(a dead letter with the raw record and the error), apply the rest in order.

A batch is applied in one transaction with its positions. When that fails for a reason that is not
the infrastructure's (the database or the index unreachable: those are retried, never set aside),
the batch is applied again record by record, each with its own position, so the record that fails is
found, set aside and passed, and every other record still applies in log order. A record is never
lost: it stays in the dead letters until a retry applies it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import psycopg

from normreg_common import metrics
from normreg_common.deadletters import DeadLetter, DeadLetters, describe
from normreg_common.eventlog.port import Delivery

log = logging.getLogger(__name__)

T = TypeVar("T")

# Failures of the infrastructure rather than of a record: retried with the whole batch.
INFRASTRUCTURE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)

# Applies the decoded items and saves the positions of all the deliveries, in one transaction.
Apply = Callable[[Sequence[Delivery], list[T]], Awaitable[None]]


class Consuming(Generic[T]):
    """A batch handler for `normreg_common.inbox.ConsumerRunner`.

    `decode` returns the record's item, None for a record this consumer has nothing to do with, and
    raises for a record it cannot read. `infrastructure` adds the exception types of the consumer's
    own backends that mean "try again later" (e.g. the index being down).
    """

    def __init__(
        self,
        decode: Callable[[Delivery], T | None],
        apply: Apply[T],
        dead_letters: DeadLetters,
        *,
        consumer: str = "",
        infrastructure: tuple[type[BaseException], ...] = (),
    ) -> None:
        """`consumer` labels the dead-letter metric (`service:what`); the group by default."""
        self._decode = decode
        self._consumer = consumer or dead_letters.group
        self._apply = apply
        self.dead_letters = dead_letters
        self._infrastructure = INFRASTRUCTURE + infrastructure

    def _is_infrastructure(self, exc: BaseException) -> bool:
        return isinstance(exc, self._infrastructure)

    async def __call__(self, batch: list[Delivery]) -> None:
        decoded: list[tuple[Delivery, T | None]] = []
        for delivery in batch:
            try:
                decoded.append((delivery, self._decode(delivery)))
            except Exception as exc:
                if self._is_infrastructure(exc):
                    raise
                await self._set_aside(delivery, "decode", exc)
                decoded.append((delivery, None))
        try:
            await self._apply(batch, [item for _, item in decoded if item is not None])
            return
        except Exception as exc:
            if self._is_infrastructure(exc):
                raise
            log.warning(
                "%s: a batch of %d failed (%s); applying it record by record",
                self.dead_letters.group,
                len(batch),
                describe(exc),
            )
        for delivery, item in decoded:
            try:
                await self._apply([delivery], [item] if item is not None else [])
            except Exception as exc:
                if self._is_infrastructure(exc):
                    raise
                await self._set_aside(delivery, "apply", exc)
                await self._apply([delivery], [])

    async def _set_aside(self, delivery: Delivery, stage: str, exc: BaseException) -> None:
        metrics.record_dead_letter(self._consumer, delivery.topic)
        log.error(
            "%s: set aside %s[%d]@%d, key %s (%s): %s",
            self.dead_letters.group,
            delivery.topic,
            delivery.partition,
            delivery.offset,
            delivery.key,
            stage,
            describe(exc),
        )
        await self.dead_letters.put(delivery, stage, exc)

    async def retry(self, letter: DeadLetter) -> str:
        """Decodes and applies a dead letter again; on success it leaves the dead letters. Returns ""
        when applied, else the error (which is recorded with the letter)."""
        delivery = letter.delivery()
        stage = "decode"
        try:
            item = self._decode(delivery)
            stage = "apply"
            await self._apply([delivery], [item] if item is not None else [])
        except Exception as exc:
            if self._is_infrastructure(exc):
                raise
            await self.dead_letters.put(delivery, stage, exc)
            return describe(exc)
        await self.dead_letters.remove(letter.topic, letter.partition, letter.offset)
        return ""
