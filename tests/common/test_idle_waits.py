"""Idle loops wait ever longer while nothing comes and look again at once when something does."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st
from normreg_common import outbox_relay
from normreg_common.backoff import Backoff
from normreg_common.eventlog.port import Consumer, EventLog, PositionLoader, Record
from normreg_common.outbox_relay import RelayLoop


@given(st.floats(0.01, 100.0), st.floats(1.0, 100.0), st.integers(1, 40))
def test_a_backoff_doubles_up_to_its_cap_and_starts_again_when_reset(first: float, factor: float, n: int) -> None:
    backoff = Backoff(first, first * factor)
    waits = [backoff.next() for _ in range(n)]
    assert waits[0] == first
    assert all(b == min(a * 2, first * factor) for a, b in itertools.pairwise(waits))
    assert max(waits) <= first * factor
    backoff.reset()
    assert backoff.next() == first


@pytest.mark.parametrize(("first", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_a_backoff_needs_a_positive_start_below_its_cap(first: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < first <= cap"):
        Backoff(first, cap)


class QuietLog(EventLog):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...
    async def publish(self, records: Sequence[Record]) -> None: ...

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        raise NotImplementedError


class ScriptedRelay(RelayLoop):
    """Each look sends the next count of the script; after the last one the loop is stopped."""

    def __init__(self, sent: list[int], stop: asyncio.Event, *, idle_poll_s: float = 1.0) -> None:
        super().__init__(QuietLog(), idle_poll_s=idle_poll_s, service="test")
        self.script = list(sent)
        self.looks = 0
        self._stop = stop

    async def relay_once(self) -> int:
        self.looks += 1
        sent = self.script.pop(0)
        if not self.script:
            self._stop.set()
        return sent

    async def pending(self) -> int:
        return 0

    async def backlog(self) -> tuple[int, float | None]:
        return 0, None


async def test_an_idle_relay_looks_ever_less_often_and_again_every_second_after_sending(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []

    async def recorded(stop: asyncio.Event, wakeup: asyncio.Event, seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(outbox_relay, "wait_any", recorded)
    monkeypatch.setattr(outbox_relay, "IDLE_POLL_MAX_S", 10.0)
    stop = asyncio.Event()
    relay = ScriptedRelay([0, 0, 0, 0, 0, 0, 3, 0, 0, 500, 2, 0], stop)
    await relay.run(stop)
    # No wait after a look that sent something: the next look comes at once.
    assert waits == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 1.0, 2.0, 1.0]


class RelayWithACommitDuringItsFirstLook(ScriptedRelay):
    async def relay_once(self) -> int:
        sent = await super().relay_once()
        if self.looks == 1:
            self.notify()  # as a commit landing while the look reads the outbox
        return sent


async def test_a_commit_while_the_relay_looks_is_relayed_without_waiting_for_the_next_look() -> None:
    stop = asyncio.Event()
    # The idle wait is an hour: only the commit's notification can end it in this test.
    relay = RelayWithACommitDuringItsFirstLook([0, 1], stop, idle_poll_s=3600.0)
    # The bound only ends a broken test; a relay that dropped the notification would wait an hour.
    await asyncio.wait_for(relay.run(stop), timeout=30)
    assert relay.looks == 2
