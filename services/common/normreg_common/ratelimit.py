"""A per-client limit on how often something may be done (a comment, a review suggestion): a sliding
window of timestamps per key, in memory, bounded in the number of keys. Standard library only."""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    """At most `limit` events per `window_s` per key, in memory (one portal process)."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 50_000) -> None:
        self._limit = limit
        self._window_s = window_s
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._events) >= self._max_keys:
            self._prune(now)
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self._window_s:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(now)
        return True

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or now - v[-1] >= self._window_s]:
            del self._events[key]
        if len(self._events) >= self._max_keys:
            # Still full of active clients: forget the oldest half rather than grow without bound.
            for key in sorted(self._events, key=lambda k: self._events[k][-1])[: self._max_keys // 2]:
                del self._events[key]
