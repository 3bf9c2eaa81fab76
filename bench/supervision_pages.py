"""What a page of missed filings (ListMissingFilings) and a subordinate's yearly report cost the filing
service on an embedded store of SIZE promulgations seen, read as the service reads them now (a page
after a position; counts in SQL) beside the whole-list folds it ran before (every sighting and every
filing read, then folded in Python), in the same run:

    python -m bench.supervision_pages --size 100000 [--filed 0.8] [--senders 100]

Each figure is the median of --repeat runs; peak is the Python heap at its highest during one run
(tracemalloc, in a run of its own: SQLite's own memory is not counted)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common.clock import FakeClock
from normreg_common.principal import Principal, Role
from normreg_common.profile import PROFILES
from normreg_common.sqlite import Database
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore, upgrade
from normreg_filing.application.ports import FilingRepository
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.supervision import SeenPromulgation, missing_filings, subordinate_report

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROVINCE = PROFILES["neimenggu"]
REVIEWER = Principal(subject="bench", roles=frozenset({Role.REVIEWER}), org="内蒙古自治区司法厅")
START = dt.date(2020, 1, 1)
TODAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
CHUNK = 5000
SPAN_DAYS = 2300
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)


def sighting(i: int, size: int, senders: int) -> SeenPromulgation:
    # Spread over 2020 to 2026 whatever the size, so a year's report is a year's share of a
    # sender's archive.
    promulgated = START + dt.timedelta(days=i * SPAN_DAYS // size + i % 7)
    return SeenPromulgation(
        sender=f"sender{i % senders:03d}",
        document=f"documents/d{i}/versions/1",
        title=f"某市第{i}号办法",
        issuing_body="某市人民政府",
        kind="NORMATIVE_DOCUMENT",
        uniform_number=f"某政规〔2024〕{i}号",
        promulgation_date=promulgated,
        due_date=promulgated + dt.timedelta(days=30),
        recipient="内蒙古自治区人民政府",
    )


def filing(p: SeenPromulgation, i: int) -> ReceivedFiling:
    return ReceivedFiling.receive(
        id=f"f{i}",
        sender=p.sender,
        issuing_body=p.issuing_body,
        document=p.document,
        title=p.title,
        kind=p.kind,
        uniform_number=p.uniform_number,
        promulgation_date=p.promulgation_date,
        due_date=p.due_date,
        filed_date=p.promulgation_date + dt.timedelta(days=10 + i % 30),
        recipient=p.recipient,
        materials=ALL,
        at=dt.datetime.combine(p.promulgation_date, dt.time(9), tzinfo=SHANGHAI),
    )


async def fill(store: SqliteFilingStore, size: int, filed: float, senders: int) -> None:
    for start in range(0, size, CHUNK):

        def work(repo: FilingRepository, start: int = start) -> None:
            for i in range(start, min(start + CHUNK, size)):
                p = sighting(i, size, senders)
                repo.see(p)
                if (i * 7919) % 1000 < filed * 1000:
                    repo.save_filing(filing(p, i))

        await store.write(work)


async def timed(step: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    """Median seconds of `repeat` runs, and the Python heap's peak in MiB in one more."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await step()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    await step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


async def run(size: int, filed: float, senders: int, repeat: int, directory: Path) -> None:
    db = Database(directory / "filing.db", SCHEMA, synchronous="NORMAL", upgrade=upgrade)
    await db.open()
    try:
        store = SqliteFilingStore(db)
        started = time.perf_counter()
        await fill(store, size, filed, senders)
        print(
            f"{size} promulgations seen, {filed:.0%} filed, {senders} senders: stored in "
            f"{time.perf_counter() - started:.1f} s"
        )
        service = FilingReviewService(store, FakeClock(TODAY), PROVINCE, key=Ed25519PrivateKey.generate())
        today = service.today()
        sender, year = "sender007", 2023

        def whole_missing(repo: FilingRepository) -> object:
            return missing_filings(repo.seen(), repo.filings(), today)[:50]

        def whole_report(repo: FilingRepository) -> object:
            return subordinate_report(sender, year, repo.seen(sender), repo.filings(sender), repo.suggestions(sender))

        cases: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("missed filings, first page of 50: by page", lambda: service.missing_page(REVIEWER, size=50)),
            ("missed filings, first page of 50: whole lists (before)", lambda: store.read(whole_missing)),
            ("report of one sender and year: counted by the store", lambda: service.report(REVIEWER, sender, year)),
            ("report of one sender and year: whole lists (before)", lambda: store.read(whole_report)),
        ]
        floor: dict[str, float] = {}
        for name, step in cases:
            seconds, peak = await timed(step, repeat)
            kind = name.split(":")[0]
            ratio = f"  {seconds / floor[kind]:.1f}x the paged time" if kind in floor else ""
            floor.setdefault(kind, seconds)
            print(f"{name:58} {seconds * 1000:9.1f} ms  peak {peak:8.2f} MiB{ratio}")
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--filed", type=float, default=0.8, help="share of sightings whose filing arrived")
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.size, args.filed, args.senders, args.repeat, Path(tmp)))


if __name__ == "__main__":
    main()
