"""Where a search's time goes between the index and the wire, in one process, one query at a time:

    python -m bench.search_overhead --corpus var/corpus/laws.db [--size 2000] [--profile]

Builds an embedded index of a generated corpus of --size documents derived from the corpus, then
for the same queries times, per search (median):
  index      the index adapter alone (SqliteFtsIndex.search: FTS5, facets, payload decoding);
  service    PublicSearch.search: + the relaxed second search, the page's reordering, snippets;
  servicer   SearchServicer.SearchDocuments: + request checks, page token, building the reply;
  serialise  + SerializeToString of the reply (what grpc does before sending);
  grpc       the call over loopback gRPC with the service's interceptors (client included).
Each line is what that stage adds to the one above. Then the cost of the facet scan (an empty
query counts every version in force) and the index's size on disk. --profile prints cProfile's hottest functions
of the servicer stage minus nothing (the index's own time included, for scale).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.auth import TokenCodec
from normreg_common.clock import SystemClock
from normreg_common.grpc_server import create_server
from normreg_common.profile import get_profile
from normreg_common.sqlite import Database
from normreg_search.entrypoints.grpc_servicer import SearchServicer, register
from normreg_search.index.sqlite_fts import SqliteFtsIndex
from normreg_search.query import SearchQuery
from normreg_search.service import PublicSearch

from bench import synthetic
from bench.corpus import queries
from bench.procs import KEY, Backends, disk_mb
from bench.search_scale import SCHEMA, build_index


class _Context:
    """Enough of grpc.aio.ServicerContext for SearchDocuments called directly."""

    def invocation_metadata(self) -> tuple[()]:
        return ()


async def _median_ms(call: Callable[[str], Awaitable[Any]], texts: list[str], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            await call(text)
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def main(corpus: Path, size: int, rounds: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="normreg-overhead-") as tmp:
        generated = Path(tmp) / "corpus.db"
        synthetic.write_laws_db(synthetic.generate(size, 1, corpus), generated)
        data = Path(tmp) / "data"
        data.mkdir()
        _, versions, sample = await build_index(Backends(), data, generated, "", 1)
        texts = queries(sample, 40)
        db = Database(data / "search.db", SCHEMA, read_only=True)
        await db.open()
        index = SqliteFtsIndex(db)
        await index.open_for_reading()
        service = PublicSearch(index, SystemClock(), get_profile("chifeng"))
        servicer = SearchServicer(service)
        context: Any = _Context()

        async def by_index(text: str) -> object:
            return await index.search(SearchQuery(text=text, limit=20))

        async def by_service(text: str) -> object:
            return await service.search(SearchQuery(text=text, limit=20))

        async def by_servicer(text: str) -> object:
            return await servicer.SearchDocuments(spb.SearchDocumentsRequest(query=text, page_size=20), context)

        async def serialised(text: str) -> object:
            return (await by_servicer(text)).SerializeToString()

        server, port = create_server("127.0.0.1:0", TokenCodec(KEY), "normreg.search", [register(servicer)])
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        stub = sgrpc.SearchServiceStub(channel)

        async def by_grpc(text: str) -> object:
            return await stub.SearchDocuments(spb.SearchDocumentsRequest(query=text, page_size=20), timeout=30)

        try:
            stages = [
                ("index", by_index),
                ("service", by_service),
                ("servicer", by_servicer),
                ("serialise", serialised),
                ("grpc", by_grpc),
            ]
            for _, call in stages:  # warm every path
                for text in texts[:5]:
                    await call(text)
            print(
                f"{versions} versions, {len(texts)} queries x {rounds}; median ms per search, and what each stage adds"
            )
            previous = 0.0
            for name, call in stages:
                ms = await _median_ms(call, texts, rounds)
                print(f"  {name:<10} {ms:8.2f} ms   +{ms - previous:6.2f}")
                previous = ms
            # The facet scan: an empty query lists every version in force and counts all of them.
            everything = await _median_ms(lambda _: index.search(SearchQuery(text="", limit=20)), [""], rounds * 3)
            found = await index.search(SearchQuery(text="", limit=20))
            print(f"  empty query (facets over all {found.total} versions in force): {everything:.2f} ms")
            sizes = ", ".join(f"{k} {v:.0f} MiB" for k, v in disk_mb(data).items())
            print(f"  on disk: {sizes} ({disk_mb(data)['search.db'] * 1024 / versions:.0f} KiB a version)")
            if profile:
                profiler = cProfile.Profile()
                profiler.enable()
                for text in texts:
                    await by_servicer(text)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        finally:
            await channel.close()
            await server.stop(None)
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.search_overhead")
    parser.add_argument("--corpus", type=Path, default=Path("var/corpus/laws.db"))
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.corpus, args.size, args.rounds, args.profile))
