"""What every service's repository port holds for the streams it consumes: each stream's sequence
(so a copy is applied once) and each consumer group's positions, written in the same unit of work
as the effects they record."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from normreg_common.eventlog.port import Delivery


class ConsumedStreams(abc.ABC):
    @abc.abstractmethod
    def accept_sequence(self, source: str, subject: str, sequence: int) -> bool:
        """True, and remembered, when `sequence` is newer than anything applied for that stream."""

    @abc.abstractmethod
    def save_positions(self, group: str, deliveries: Sequence[Delivery]) -> None:
        """The consumer group's positions after these deliveries, saved with the unit's effects."""

    @abc.abstractmethod
    def position(self, group: str, topic: str, partition: int) -> int | None:
        """The last offset the group applied in that partition; None before the first."""
