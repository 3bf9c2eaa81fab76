"""Files that hold the registry's data or keys: readable by the service's own user only.

Each is created with its mode (a folder 0700, a file 0600), never created open and narrowed
afterwards; what an older version left wider is narrowed when the service next opens it.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


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
