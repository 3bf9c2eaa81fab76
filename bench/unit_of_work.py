"""CreateDocument's unit of work alone: the function the registry hands its database thread, run on
one SQLite connection (WAL, synchronous=FULL) in groups of 32 as the group commit runs them, with no
gRPC, no threads and no relay. Prints its CPU and wall time a write; `--profile` adds cProfile's
hottest functions. What the write path costs beyond this is the serving around it.

    python -m bench.unit_of_work [--writes 1600] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from normreg_common.auth import TokenCodec
from normreg_common.clock import SystemClock
from normreg_common.federation import Signer
from normreg_common.settings import Settings
from normreg_registry.adapters.sqlite_store import SCHEMA, Store
from normreg_registry.application.ports import RegistryRepository
from normreg_registry.application.service import RegistryService
from normreg_registry.domain.lifecycle import Kind

from bench.procs import KEY
from bench.write_path import BODY

GROUP = 32


class _Captured:
    """A unit of work that keeps the work function instead of running it."""

    def __init__(self) -> None:
        self.works: list[Callable[[RegistryRepository], Any]] = []

    async def write(self, work: Callable[[RegistryRepository], Any]) -> None:
        self.works.append(work)


async def _works(data_dir: Path, writes: int) -> list[Callable[[RegistryRepository], Any]]:
    settings = Settings(data_dir=data_dir)
    profile = settings.jurisdiction_profile()
    captured = _Captured()
    service = RegistryService(
        captured,  # type: ignore[arg-type]  # only `write` is called
        SystemClock(),
        profile,
        signer=settings.checkpoint_signer(),
        federation=Signer(profile.name, settings.federation_signer()),
    )
    codec = TokenCodec(KEY)
    principal = codec.verify(codec.issue("bench", ["drafter"], "市司法局"))
    for i in range(writes):
        await service.create_document(
            principal,
            request_id=f"r{i}",
            kind=Kind.NORMATIVE_DOCUMENT,
            title=f"赤峰市测试管理办法{i}",
            body=BODY,
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
            provisional=False,
        )
    return captured.works


def _run(conn: sqlite3.Connection, works: list[Callable[[RegistryRepository], Any]]) -> None:
    for start in range(0, len(works), GROUP):
        conn.execute("BEGIN IMMEDIATE")
        for work in works[start : start + GROUP]:
            conn.execute("SAVEPOINT unit")
            work(Store(conn))
            conn.execute("RELEASE unit")
        conn.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.unit_of_work", description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1600)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        works = asyncio.run(_works(Path(tmp), args.writes))
        conn = sqlite3.connect(Path(tmp) / "registry.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(SCHEMA)
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.runcall(_run, conn, works)
        else:
            _run(conn, works)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        conn.close()
    print(
        f"CreateDocument's unit of work alone, groups of {GROUP}: {cpu * 1000 / args.writes:.3f} ms CPU, "
        f"{wall * 1000 / args.writes:.3f} ms wall a write ({args.writes} writes, load average {os.getloadavg()[0]:.1f})"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
