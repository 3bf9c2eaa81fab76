"""Waits that grow while a loop finds nothing to do and shrink again as soon as it finds something."""

from __future__ import annotations


class Backoff:
    """`next()` gives `first`, then twice the last, up to `cap`; `reset()` starts again at `first`."""

    def __init__(self, first: float, cap: float) -> None:
        if first <= 0 or cap < first:
            raise ValueError(f"a back-off needs 0 < first <= cap (got {first}, {cap})")
        self.first = first
        self.cap = cap
        self._next = first

    def next(self) -> float:
        wait = self._next
        self._next = min(self.cap, wait * 2)
        return wait

    def reset(self) -> None:
        self._next = self.first
