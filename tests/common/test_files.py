"""The data folder, its databases and the development key are readable by the service's user only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from normreg_common.auth import load_or_create_key
from normreg_common.files import write_new_private
from normreg_common.sqlite import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_data_folder_and_its_databases_are_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    db = Database(data / "registry.db", "CREATE TABLE t (x INTEGER);")
    await db.open()
    await db.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (1)"))
    await db.close()
    assert mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("registry.db")]
    assert files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


async def test_a_database_an_older_version_left_world_readable_is_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    (data / "search.db").touch(mode=0o644)
    os.chmod(data, 0o755)  # noqa: S103 - the state an older version left behind
    os.chmod(data / "search.db", 0o644)
    db = Database(data / "search.db", "")
    await db.open()
    await db.close()
    assert (mode(data), mode(data / "search.db")) == (0o700, 0o600)


def test_the_development_key_is_created_with_its_mode_not_narrowed_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def watching_open(path: object, flags: int, mode: int = 0o777, *args: object, **kwargs: object) -> int:
        if flags & os.O_CREAT:
            opened.append((str(path), mode))
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", watching_open)
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: pytest.fail("the key must not be chmod-ed after creation"))
    key = load_or_create_key(tmp_path / "keys" / "dev-jwt.key")
    assert len(key) >= 32
    assert opened and all(m == 0o600 for _, m in opened)
    assert mode(tmp_path / "keys" / "dev-jwt.key") == 0o600
    assert load_or_create_key(tmp_path / "keys" / "dev-jwt.key") == key


def test_a_second_writer_of_a_key_does_not_replace_the_first(tmp_path: Path) -> None:
    assert write_new_private(tmp_path / "k", "first")
    assert not write_new_private(tmp_path / "k", "second")
    assert (tmp_path / "k").read_text() == "first"


async def test_a_database_opened_in_a_shared_sticky_folder_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # noqa: S103 - a folder shared like /tmp
    db = Database(shared / "registry.db", "CREATE TABLE t (x INTEGER);")
    await db.open()
    await db.close()
    assert mode(shared) == 0o1777
    assert mode(shared / "registry.db") == 0o600


async def test_a_database_opened_in_the_home_folder_leaves_the_home_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)  # noqa: S103 - a home folder others may enter
    monkeypatch.setenv("HOME", str(home))
    db = Database(home / "registry.db", "")
    await db.open()
    await db.close()
    assert (mode(home), mode(home / "registry.db")) == (0o755, 0o600)
