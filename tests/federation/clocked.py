"""`python -m tests.federation.clocked SERVICE`: a service process whose clock the test moves.

Every process of a federation test reads one file holding an offset in seconds; the test writes a
new offset (atomically) to move all of them days ahead at once, so deadlines pass without sleeping.
Everything else is the service's own `python -m normreg_SERVICE`."""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import os
import sys
from pathlib import Path

from normreg_common.service_main import run

CLOCK_FILE = "NORMREG_TEST_CLOCK_FILE"


class FileClock:
    """The machine's time, moved by the offset in `path` (re-read whenever the file is replaced)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: tuple[int, int] | None = None
        self._offset = dt.timedelta()

    def now(self) -> dt.datetime:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._seen, self._offset = None, dt.timedelta()
        else:
            if (stat.st_ino, stat.st_mtime_ns) != self._seen:
                self._seen = (stat.st_ino, stat.st_mtime_ns)
                self._offset = dt.timedelta(seconds=float(self._path.read_text().strip() or 0))
        return dt.datetime.now(dt.UTC) + self._offset


def move(path: Path, offset: dt.timedelta) -> None:
    """Sets every process's clock `offset` ahead of the machine's."""
    aside = path.with_name(path.name + ".new")
    aside.write_text(f"{offset.total_seconds()}\n")
    aside.replace(path)


if __name__ == "__main__":
    service = sys.argv[1]
    bootstrap = importlib.import_module(f"normreg_{service}.bootstrap")
    clock = FileClock(Path(os.environ[CLOCK_FILE]))
    run(service, functools.partial(bootstrap.create_app, clock=clock))
