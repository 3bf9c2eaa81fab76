"""What the search of a query that found nothing costs a second time, with any of its words instead of
most (PublicSearch's relaxed search), beside the first, on an embedded index of generated documents:

    python -m bench.relaxed_cost --corpus var/corpus/laws.db --size 20000 [--queries 10] [--keep DIR]

The queries are whole titles, of indexed documents (the first search finds the document) and of the
next documents the generator makes, which are not indexed (it finds nothing; the service then runs
the second). The first search's cost barely moves with the corpus; the second matches a large part
of it (the common words of a title) and grows with it: it is what the time budget
(NORMREG_SEARCH_TIME_BUDGET_S) bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from pathlib import Path

from normreg_common.sqlite import Database
from normreg_search.index.sqlite_fts import SqliteFtsIndex
from normreg_search.query import SearchQuery

from bench import synthetic
from bench.corpus import changes_of
from bench.search_scale import CHUNK, SCHEMA


async def run(corpus: Path, size: int, n_queries: int, directory: Path) -> None:
    documents = synthetic.generate(size + n_queries, corpus=corpus)
    indexed = list(itertools.islice(documents, size))
    absent = list(documents)
    db = Database(directory / "search.db", SCHEMA, synchronous="NORMAL")
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    try:
        if not (await index.entries()):
            started = time.perf_counter()
            for i in range(0, size, CHUNK):
                await index.apply(changes_of(indexed[i : i + CHUNK]))
            print(f"indexed {size} documents in {time.perf_counter() - started:.0f} s", flush=True)
        every = max(1, size // n_queries)
        for label, laws in (("indexed", indexed[::every][:n_queries]), ("not indexed", absent)):
            first_ms: list[float] = []
            second_ms: list[float] = []
            for law in laws:
                title = law.versions[-1].title
                started = time.perf_counter()
                found = await index.search(SearchQuery(text=title, limit=20))
                first_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                relaxed = await index.search(SearchQuery(text=title, limit=20, relaxed=True))
                second_ms.append((time.perf_counter() - started) * 1000)
                print(
                    f"  {label}: {first_ms[-1]:.0f} ms ({found.total}), then {second_ms[-1]:.0f} ms ({relaxed.total})"
                )
            print(
                f"{label} titles: first search median {statistics.median(first_ms):.0f} ms "
                f"({min(first_ms):.0f}-{max(first_ms):.0f}); relaxed median {statistics.median(second_ms):.0f} ms "
                f"({min(second_ms):.0f}-{max(second_ms):.0f}); load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.relaxed_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus/laws.db"))
    parser.add_argument("--size", type=synthetic.size_of, default=synthetic.size_of("10k"))
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--keep", type=Path, default=None, help="build the index here (reused when it exists)")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(run(args.corpus, args.size, args.queries, args.keep))
        return
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(args.corpus, args.size, args.queries, Path(directory)))


if __name__ == "__main__":
    main()
