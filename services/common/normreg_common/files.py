"""Files that hold the registry's data or keys: readable by the service's own user only.

Each is created with its mode (a folder 0700, a file 0600), never created open and narrowed
afterwards; what an older version left wider is narrowed when the service next opens it. A folder
others share is never narrowed: a database opened straight in /tmp or in a home folder must not
take that folder from everyone else (a /tmp left 0700 stops every other user's programs). The file
itself is still 0600 there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    status = path.stat()
    if stat.S_IMODE(status.st_mode) != DIR_MODE and not _shared(path, status):
        path.chmod(DIR_MODE)
    return path


def _shared(path: Path, status: os.stat_result) -> bool:
    """A folder that is not the service's own to close: sticky (/tmp), someone else's, or a home or root."""
    if status.st_mode & stat.S_ISVTX or status.st_uid != os.geteuid():
        return True
    resolved = path.resolve()
    return resolved == Path(resolved.anchor) or resolved == Path.home().resolve()


def private_file(path: Path) -> Path:
    """Makes sure `path` exists (empty when new) with mode 0600, its folder private too."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        if path.stat().st_mode & 0o777 != FILE_MODE:
            path.chmod(FILE_MODE)
    return path


def write_new_private(path: Path, text: str) -> bool:
    """Puts `text` at `path`, created 0600, unless the file exists; False when someone else won.

    Written aside and linked into place, so a reader racing the writer sees all of it or nothing."""
    private_dir(path.parent)
    aside = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.link(aside, path)
    except FileExistsError:
        return False
    finally:
        aside.unlink(missing_ok=True)
    return True
