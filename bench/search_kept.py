"""Search the index a scale run left behind (an import stopped part way, or a data directory kept):
the same figures as `--search-at-size`, with the queries drawn from the documents it holds.

    python -m bench.search_kept --data-dir /tmp/tmpXXXX --corpus var/scale/synthetic-1000000-1.db \
        --documents 650000 --queries 30

The search service is started on the data directory first and left to apply what the event log still
holds (an import stopped part way has events its index has not yet applied), so nothing is being
indexed while the searches are timed. Embedded backends only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time
from pathlib import Path

import grpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.corpus import read_corpus

from bench.corpus import PUBLIC, queries
from bench.procs import Backends
from bench.search_scale import apply_backlog, measure, process_counts, search_service


async def settled(address: str, every_s: float = 10.0) -> int:
    """The index's count of public versions once it stops growing."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = sgrpc.SearchServiceStub(channel)
        request = spb.SearchDocumentsRequest(states=PUBLIC, page_size=1)
        last = -1
        while (total := (await stub.SearchDocuments(request, timeout=600)).total) != last:
            print(f"  the index holds {total} versions (load {os.getloadavg()[0]:.1f})", flush=True)
            last = total
            await asyncio.sleep(every_s)
        return total


async def run(data_dir: Path, corpus: Path, documents: int, n_queries: int) -> None:
    backends = Backends()
    started = time.monotonic()
    await apply_backlog(backends, data_dir)
    with search_service(backends, data_dir, "", 1) as address:
        versions = await settled(address)
    print(f"settled at {versions} versions in {time.monotonic() - started:.0f}s", flush=True)
    every = max(1, documents // 3000)
    laws = [law for i, law in enumerate(itertools.islice(read_corpus(corpus), documents)) if i % every == 0]
    texts = queries(laws, n_queries)
    for text in await measure(backends, data_dir, "", texts, 1, process_counts()):
        print(text, flush=True)
    print(f"(load average {os.getloadavg()[0]:.1f} at the end)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search_kept", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="the data directory the scale run left")
    parser.add_argument("--corpus", type=Path, required=True, help="the generated corpus it imported")
    parser.add_argument("--documents", type=int, required=True, help="how many of its first documents it holds")
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.data_dir, args.corpus, args.documents, args.queries))


if __name__ == "__main__":
    main()
