"""Waking a consumer of the embedded log when another process appends to it, instead of polling.

The log is one SQLite file in WAL mode: every commit writes its -wal file, and Linux reports that
write through inotify. A consumer waits on that with no timer at all, so an idle service costs
nothing and a new record is seen as soon as it is committed. Where inotify is unavailable (another
OS, or the per-user limit of instances reached) it falls back to polling that backs off while
nothing arrives.

Only the log's own files are watched (the file and its -wal, each by itself), and its directory only
for files being created there (a -wal made again after every connection closed, a file put back).
The services keep their own databases beside the log, and a watch on the whole directory woke every
consumer for each page any of them wrote: about 300,000 times during an import of 10,000 documents,
of which some 8,000 were the log's, a third of the review service's CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Fallback polling: fast just after a record, slower the longer the log stays quiet.
POLL_MIN_S = 0.01
POLL_MAX_S = 0.2
# SQLite writes a commit's frames to the -wal file (the notification) before it publishes them in the
# shared index, so a read just after the notification may not see them yet: readers look again for
# this long after the last write before they sleep.
SETTLE_S = 0.5


class FileWatch:
    """`changed` is set whenever the watched file (or its -wal/-journal companions) is written."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        self.changed = asyncio.Event()
        self._inotify: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._interval = POLL_MIN_S
        self._last_change = -SETTLE_S
        # The files whose writes wake the consumer: the log (written directly by a writer in rollback
        # journal mode, and by checkpoints) and its -wal (every commit in WAL mode).
        self._files = (self._path.name, self._path.name + "-wal")
        self._directory_wd = -1
        self._modify = 0

    @property
    def watching(self) -> bool:
        return self._inotify is not None

    def start(self) -> None:
        if str(self._path) == ":memory:" or str(self._path).startswith("file:"):
            return
        try:
            from inotify_simple import INotify, flags  # type: ignore[import-untyped]

            notify = INotify(nonblocking=True)
            self._modify = flags.MODIFY
            try:
                # The directory first: a file made after this is reported, one made before is found below.
                self._directory_wd = notify.add_watch(str(self._path.parent), flags.CREATE | flags.MOVED_TO)
                for name in self._files:
                    self._watch_file(notify, name)
                self._loop = asyncio.get_running_loop()
                self._loop.add_reader(notify.fileno(), self._on_events)
            except BaseException:
                notify.close()
                raise
            self._inotify = notify
        except (ImportError, OSError, NotImplementedError) as exc:
            log.info("event log %s: no file notification (%s); polling instead", self._path, exc)

    def _watch_file(self, notify: Any, name: str) -> None:
        """Watches the file by that name in the log's directory, if it exists now; if it is made later,
        the directory's watch reports it and it is watched then (a watch follows a file, not a name:
        a -wal removed when the last connection closed and made again is a new file)."""
        with contextlib.suppress(FileNotFoundError):
            notify.add_watch(str(self._path.parent / name), self._modify)

    def _on_events(self) -> None:
        notify = self._inotify
        if notify is None:
            return
        try:
            events = notify.read(timeout=0)
        except BlockingIOError:
            return
        woken = False
        for e in events:
            if e.wd != self._directory_wd:
                # A write of a watched file, the end of a watch (a file removed), or an overflowed
                # queue (wd -1): in each case the log may hold something new.
                woken = True
            elif e.name in self._files:
                self._watch_file(notify, e.name)
                woken = True
        if woken:
            self._last_change = time.monotonic()
            self.changed.set()

    def settling(self) -> bool:
        """True shortly after a write, when what it wrote may not be visible to readers yet."""
        return time.monotonic() - self._last_change < SETTLE_S

    async def wait(self, timeout: float) -> None:
        """Returns when the file changed (since `changed` was last cleared) or after `timeout`."""
        if self._inotify is None:
            # Without notification: poll, backing off while nothing comes.
            await asyncio.sleep(min(timeout, self._interval))
            self._interval = min(POLL_MAX_S, self._interval * 2)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)

    def found(self) -> None:
        """A poll found records: without notification, poll fast again."""
        self._interval = POLL_MIN_S

    def close(self) -> None:
        notify, self._inotify = self._inotify, None
        if notify is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(notify.fileno())
            notify.close()


__all__ = ["FileWatch"]
