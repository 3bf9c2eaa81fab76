"""How a service stops, and how long each wait of its stop may last: every bound of the stop is here.

On SIGTERM or SIGINT a service (registry, review, filing, search; the portal keeps only the last bound):

1. says NOT_SERVING on its health service and takes no new call;
2. gives the calls under way `calls_s` to finish, then cancels those still running (`cancel_s` for
   them to unwind): their clients get CANCELLED or UNAVAILABLE, never a success that was not
   committed. A write cancelled that way may still commit; its request id makes the client's retry
   return what it made;
3. its background loops (outbox relay, consumers, scheduler, metrics) see the stop at once and end
   after the unit they are in: a batch of records, a scheduler chunk. A loop still busy `loops_s` after
   the calls ended is cancelled (`cancel_s` to unwind); its unit is one transaction with its
   positions, so it commits or rolls back whole and the next start goes on from there;
4. closes its consumers, event log, index and database within `close_s` in all;
5. `limit_s` after the signal, if it has not exited by then, whatever it still waits on: every
   thread's stack goes to stderr and the process exits with status 1 (`faulthandler`). Nothing it
   acknowledged is lost by that: each write was committed before it was answered, as kill -9 shows
   (tests/faults).

A wait that overruns its bound is logged with the stack of what it waited on, so a slow stop names its
cause. The limit stays under what orchestrators wait before SIGKILL (15 s in deploy/docker-compose.yml,
30 s in deploy/k8s), so that stack reaches the log.
"""

from __future__ import annotations

import asyncio
import faulthandler
import io
import logging
import sys
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StopBounds:
    calls_s: float = 5.0
    loops_s: float = 3.0
    # How long what was cancelled (the calls past their grace, a loop past its bound) may take to unwind:
    # its `finally` blocks, the rewind of a consumer.
    cancel_s: float = 1.0
    close_s: float = 3.0
    margin_s: float = 1.0

    @property
    def limit_s(self) -> float:
        """Seconds from the signal to the forced exit: every wait above one after the other, and a margin."""
        return self.calls_s + self.cancel_s + self.loops_s + self.cancel_s + self.close_s + self.margin_s


STOP = StopBounds()

_armed = False


def arm(bounds: StopBounds = STOP) -> None:
    """Exits the process `bounds.limit_s` from now, with every thread's stack on stderr, unless it has
    exited by itself. Only the first call counts: a second signal does not push the limit back."""
    global _armed
    if _armed:
        return
    _armed = True
    faulthandler.dump_traceback_later(bounds.limit_s, exit=True, file=sys.stderr)


def _stack(task: asyncio.Task[Any]) -> str:
    out = io.StringIO()
    task.print_stack(file=out)
    return out.getvalue()


async def within(seconds: float, what: str, work: Awaitable[Any], *, cancel_s: float = STOP.cancel_s) -> bool:
    """Waits up to `seconds` for `work`; past that, logs where it stands and cancels it (waiting at most
    `cancel_s` more for the cancellation to land). True if it finished by itself. Its errors are logged,
    never raised: a stop goes on with its next step whatever this one did."""
    task = asyncio.ensure_future(work)
    task.set_name(what)
    return await all_within(seconds, [task], cancel_s=cancel_s)


async def all_within(seconds: float, tasks: Sequence[asyncio.Task[Any]], *, cancel_s: float = STOP.cancel_s) -> bool:
    """`within` for tasks already running (a service's loops once its stop event is set), each named
    in the log by its task name."""
    if not tasks:
        return True
    started = time.monotonic()
    done, pending = await asyncio.wait(tasks, timeout=max(0.0, seconds))
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("stopping: %s failed", task.get_name(), exc_info=task.exception())
    if not pending:
        return True
    for task in pending:
        log.warning(
            "stopping: %s still running after %.1fs (its bound: %.1fs); cancelling it. It was at:\n%s",
            task.get_name(),
            time.monotonic() - started,
            seconds,
            _stack(task),
        )
        task.cancel()
    _, still = await asyncio.wait(pending, timeout=cancel_s)
    for task in still:
        log.error(
            "stopping: %s did not end within %.1fs of its cancellation; going on without it", task.get_name(), cancel_s
        )
    for task in pending - still:
        if not task.cancelled() and task.exception() is not None:
            log.error("stopping: %s failed while cancelled", task.get_name(), exc_info=task.exception())
    return False


class Deadline:
    """One bound shared by several steps (the closes): each gets what the ones before left."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())


__all__ = ["STOP", "Deadline", "StopBounds", "all_within", "arm", "within"]
