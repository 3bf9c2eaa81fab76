"""Search at size: a generated corpus (bench/synthetic.py) indexed, then searched through the search
service run as 1, 2, … processes on one address, each figure beside the backend alone asked the
same query in the same run.

    python -m bench --only search_scale --backends embedded            # 10k, as in `make bench`
    python -m bench --only search_scale --size 100k --runs 1           # by hand
    python -m bench --only search_scale --backends real --shards 2     # Elasticsearch, 2 primaries

The index is built straight through the backend's bulk path (the index adapter's `apply` in
batches, what the projection does with the registry's import events), not through the registry:
this figure is about searching, and an import of 100k through the registry takes an hour here.
The event log stays empty, so the search service only reads. Elasticsearch runs without Kafka.

Figures:
- throughput at 32 concurrent clients (each its own connection) with 1 … N processes, and what
  each added process adds as a share of what one process does (goal ≥ 0.8);
- p50 and p99 at 1 and at 32 concurrent clients, each beside the backend alone: the embedded index
  adapter called in this process on a read-only connection to the same file (one connection, as in
  one search process), or Elasticsearch's `_search` with the body the adapter sends, over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.corpus import CorpusLaw, count_documents, read_corpus
from normreg_common.channels import open_channel
from normreg_common.deadletters import DEAD_LETTER_SCHEMA
from normreg_common.events import DOCUMENTS_TOPIC
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.sqlite import Database
from normreg_search.entrypoints.consumer import GROUP
from normreg_search.index.elasticsearch import ElasticsearchIndex
from normreg_search.index.port import SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.witness import WITNESS_SCHEMA

from bench import synthetic
from bench.corpus import Refused, changes_of, drive, es_as_the_service, fts_as_the_service, queries, sample_of
from bench.procs import KEY, Backends, System, disk_mb, free_port, wait_serving
from bench.stats import Run, at_least, at_most, line

CLIENTS = 32
# One process serving this share of what the backend alone serves at CLIENTS clients: the backend is the bound.
BACKEND_BOUND = 0.9
# The listing: no text, the documents in force newest first with their facet counts (the portal's
# first page), asked this many times a run.
LISTING = ""
LISTINGS = 10
# Laws read per bulk apply: each holds ~1.3 versions of ~15 articles.
CHUNK = 400
SCHEMA = INBOX_SCHEMA + DEAD_LETTER_SCHEMA + META_SCHEMA + WITNESS_SCHEMA


async def index_at(backends: Backends, data_dir: Path, alias: str, shards: int) -> tuple[Database, SearchIndex]:
    """The search database in `data_dir` opened, and the backend's index over it (not yet opened)."""
    db = Database(data_dir / "search.db", SCHEMA, synchronous="NORMAL")
    await db.open()
    if backends.real:
        return db, ElasticsearchIndex(backends.elasticsearch, db, alias=alias, shards=shards)
    return db, SqliteFtsIndex(db)


async def build_index(backends: Backends, data_dir: Path, corpus: Path, alias: str, shards: int) -> tuple[float, int]:
    """Seconds to index the corpus through the backend's bulk path, and versions indexed."""
    db, index = await index_at(backends, data_dir, alias, shards)
    await index.open()
    versions = 0
    started = time.perf_counter()
    try:
        chunk: list[CorpusLaw] = []
        for law in read_corpus(corpus):
            chunk.append(law)
            if len(chunk) >= CHUNK:
                versions += await index.apply(changes_of(chunk))
                chunk = []
        if chunk:
            versions += await index.apply(changes_of(chunk))
        await index.refresh()
        return time.perf_counter() - started, versions
    finally:
        await index.close()
        await db.close()


async def open_for_writing(backends: Backends, data_dir: Path, alias: str, shards: int) -> float:
    started = time.perf_counter()
    db, index = await index_at(backends, data_dir, alias, shards)
    try:
        await index.open()
    finally:
        await index.close()
        await db.close()
    return time.perf_counter() - started


@contextlib.contextmanager
def search_service(backends: Backends, data_dir: Path, alias: str, processes: int) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "NORMREG_DATA_DIR": str(data_dir),
        "NORMREG_JWT_KEY": KEY,
        "NORMREG_SEARCH_ADDR": f"127.0.0.1:{port}",
        "NORMREG_SEARCH_PROCESSES": str(processes),
        "NORMREG_SEARCH_METRICS_ADDR": "",
        "NORMREG_KAFKA_BOOTSTRAP": "",
        "NORMREG_ELASTICSEARCH_URL": backends.elasticsearch if backends.real else "",
        "NORMREG_ELASTICSEARCH_INDEX_PREFIX": alias if backends.real else "",
        "PYTHONUNBUFFERED": "1",
    }
    log = data_dir / f"search-{processes}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "normreg_search"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        if processes == 1:
            wait_serving(port, proc=proc)
        else:
            # The supervisor says so once every process answers its health check.
            deadline = time.monotonic() + 120
            while b"processes serving" not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the search processes did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _name(backends: Backends) -> str:
    # Kafka plays no part here: the service's event log is the embedded one and stays empty.
    return "elasticsearch" if backends.real else "embedded"


def _channel(address: str) -> grpc.aio.Channel:
    # A connection of its own, as each of 32 separate clients has: the kernel spreads connections,
    # not calls, over the processes. The reads are retried as every normreg client retries them
    # when a process turns a connection over.
    return open_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])


async def _ask(stub: sgrpc.SearchServiceStub, text: str, refused: Refused) -> None:
    try:
        # Generous: at a million embedded, 32 clients queue behind one process for tens of seconds.
        await stub.SearchDocuments(spb.SearchDocumentsRequest(query=text, page_size=20), timeout=600)
    except grpc.aio.AioRpcError as exc:
        if exc.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
            raise
        refused.service += 1


async def _via_service(address: str, texts: list[str], concurrency: int, refused: Refused) -> Run:
    channels = [_channel(address) for _ in range(concurrency)]
    stubs = [sgrpc.SearchServiceStub(c) for c in channels]
    free = asyncio.Queue[sgrpc.SearchServiceStub]()
    for stub in stubs:
        free.put_nowait(stub)

    async def call(text: str) -> object:
        stub = await free.get()
        try:
            return await _ask(stub, text, refused)
        finally:
            free.put_nowait(stub)

    try:
        for stub in stubs:  # every connection up before the clock starts
            await _ask(stub, texts[0], Refused())
        return await drive(call, texts, concurrency)
    finally:
        for channel in channels:
            await channel.close()


@contextlib.asynccontextmanager
async def backend_alone(backends: Backends, data_dir: Path, alias: str, texts: list[str], refused: Refused) -> Any:
    """The call that asks the backend alone what the service asks it for a query: the search, and
    when it finds nothing, the second one with any of its words (PublicSearch.search), within the same
    budget."""
    if backends.real:
        async with aiohttp.ClientSession(backends.elasticsearch) as http:
            yield await es_as_the_service(http, backends.elasticsearch, alias, texts, refused)
        return
    db = Database(data_dir / "search.db", SCHEMA, read_only=True)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open_for_reading()
    try:
        yield functools.partial(fts_as_the_service, index, refused=refused)
    finally:
        await db.close()


async def measure(
    backends: Backends, data_dir: Path, alias: str, texts: list[str], runs: int, process_counts: list[int]
) -> list[str]:
    floor: dict[int, list[Run]] = {1: [], CLIENTS: []}
    subject: dict[tuple[int, int], list[Run]] = {}
    listing: list[Run] = []
    listing_alone: list[Run] = []
    refused = Refused()
    async with backend_alone(backends, data_dir, alias, [*texts, LISTING], refused) as direct:
        alone: Callable[[str], Awaitable[object]] = direct
        for text in texts[:10]:
            await alone(text)
        for processes in process_counts:
            with search_service(backends, data_dir, alias, processes) as address:
                await _via_service(address, texts[:10], 1, Refused())  # warm
                for _ in range(runs):
                    for concurrency in (1, CLIENTS):
                        items = texts if concurrency == 1 else texts * 4
                        refused.service = refused.alone = 0
                        if processes == 1:
                            floor[concurrency].append(await drive(alone, items, concurrency))
                        run = await _via_service(address, items, concurrency, refused)
                        subject.setdefault((processes, concurrency), []).append(run)
                        alone_run = floor[concurrency][-1] if processes == 1 else None
                        # Each run as it ends: a search at size can take many minutes a run.
                        print(
                            f"  {processes} process(es), {concurrency} client(s): p50 {run.p50_ms:.1f} ms, "
                            f"p99 {run.p99_ms:.1f} ms, {run.throughput:.2f}/s"
                            + (
                                f"; alone p50 {alone_run.p50_ms:.1f}, p99 {alone_run.p99_ms:.1f}, "
                                f"{alone_run.throughput:.2f}/s"
                                if alone_run
                                else ""
                            )
                            + (str(refused) if refused.service or refused.alone else "")
                            + f" (load {os.getloadavg()[0]:.1f})",
                            flush=True,
                        )
                    if processes == 1:
                        listing_alone.append(await drive(alone, [LISTING] * LISTINGS, 1))
                        listing.append(await _via_service(address, [LISTING] * LISTINGS, 1, Refused()))
    name = f"{_name(backends)} search"
    out = [
        line(f"{_name(backends)} listing (no text) c=1 p50", [r.p50_ms for r in listing],
             [r.p50_ms for r in listing_alone], "ms", False, at_most(1.2)),
        # The listing is the portal's first page: it should cost no more than a search does.
        line(f"{_name(backends)} listing p50, backend alone, beside a search's", [r.p50_ms for r in listing_alone],
             [r.p50_ms for r in floor[1]], "ms", False, at_most(1.0)),
    ]  # fmt: skip
    for concurrency in (1, CLIENTS):
        one = subject[(1, concurrency)]
        out += [
            line(f"{name} c={concurrency} p50 (1 process)", [r.p50_ms for r in one],
                 [r.p50_ms for r in floor[concurrency]], "ms", False, at_most(1.2)),
            line(f"{name} c={concurrency} p99 (1 process)", [r.p99_ms for r in one],
                 [r.p99_ms for r in floor[concurrency]], "ms", False),
        ]  # fmt: skip
    base = [r.throughput for r in subject[(1, CLIENTS)]]
    alone_throughput = [r.throughput for r in floor[CLIENTS]]
    # A process added can only add what a server backend has left: when one process already serves
    # about what Elasticsearch alone serves at 32 clients on these same cores, the backend is the
    # bound and the gain per process says nothing about the service. (Each embedded process reads
    # the index on a connection and thread of its own: there a process adds backend too.)
    backend_bound = backends.real and min(b / a for b, a in zip(base, alone_throughput, strict=True)) >= BACKEND_BOUND
    out.append(
        line(f"{name} c={CLIENTS} throughput, 1 process", base, alone_throughput, "req/s", True,
             at_least(BACKEND_BOUND) if backend_bound else None)
    )  # fmt: skip
    if backend_bound:
        out.append(
            f"{name}: one process serves {min(base):.2f} req/s at {CLIENTS} clients, the backend alone "
            f"{max(alone_throughput):.2f}: the backend is the bound, so the gain per added process has no target here"
        )
    for processes in process_counts[1:]:
        runs_p = subject[(processes, CLIENTS)]
        # What each added process adds, as a share of what one process does: (T_n / T_1 - 1) / (n - 1).
        gains = [(r.throughput / b - 1) / (processes - 1) for r, b in zip(runs_p, base, strict=True)]
        out.append(
            line(f"{name} c={CLIENTS} throughput, {processes} processes", [r.throughput for r in runs_p], base,
                 "req/s", True)
        )  # fmt: skip
        out.append(
            line(f"{name} gain per added process (of one process)", gains, [1.0] * len(gains), "x", True,
                 None if backend_bound else at_least(0.8))
        )  # fmt: skip
        out.append(
            line(f"{name} c={CLIENTS} p50 ({processes} processes)", [r.p50_ms for r in runs_p],
                 [r.p50_ms for r in floor[CLIENTS]], "ms", False)
        )  # fmt: skip
    return out


def corpus_in(directory: Path, size: int, seed: int) -> Path:
    corpus = directory / f"synthetic-{size}-{seed}.db"
    if corpus.exists():
        print(f"\n== search at size: {size} generated documents (seed {seed}), corpus kept in {corpus}")
        return corpus
    started = time.monotonic()
    partial = corpus.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    synthetic.write_laws_db(synthetic.generate(size, seed), partial)
    partial.rename(corpus)
    print(f"\n== search at size: {size} generated documents (seed {seed}) in {time.monotonic() - started:.0f}s")
    return corpus


async def main(
    backends: list[Backends],
    *,
    size: int,
    seed: int,
    runs: int,
    n_queries: int,
    shards: int,
    keep: Path | None = None,
) -> None:
    """With `keep`, the corpus and each backend's index are kept in (and taken again from) that
    directory, so an index of 100k or 1M documents is built once and searched as often as needed;
    its Elasticsearch index keeps a name made of the size, seed and shard count."""
    with contextlib.ExitStack() as stack:
        if keep is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="normreg-search-scale-")))
        else:
            root = keep
            root.mkdir(parents=True, exist_ok=True)
        corpus = corpus_in(root, size, seed)
        for b in backends:
            if keep is None:
                data_dir = root / b.name
                alias = f"normreg-bench-scale-{uuid.uuid4().hex[:8]}"
            else:
                suffix = f"-{shards}" if b.real else ""
                data_dir = root / f"{_name(b)}-{size}-{seed}{suffix}"
                alias = f"normreg-bench-kept-{size}-{seed}-{shards}"
            data_dir.mkdir(exist_ok=True)
            built = data_dir / "built"
            try:
                if built.exists():
                    print(f"{_name(b)}: {built.read_text().strip()} (kept in {data_dir})", flush=True)
                    # What the search service's writer does when it starts: a kept index written by
                    # an earlier release is brought up to date here, before anything is timed.
                    seconds = await open_for_writing(b, data_dir, alias, shards)
                    print(f"{_name(b)}: opened for writing in {seconds:.1f}s", flush=True)
                else:
                    load = os.getloadavg()[0]
                    seconds, versions = await build_index(b, data_dir, corpus, alias, shards)
                    sizes = ", ".join(f"{k} {v:.0f} MiB" for k, v in disk_mb(data_dir).items())
                    where = f"{shards} primary shard(s)" if b.real else sizes
                    note = (
                        f"{versions} versions indexed through the bulk path in {seconds:.0f}s "
                        f"({versions / seconds:.0f}/s; {where}); load average {load:.1f} before, "
                        f"{os.getloadavg()[0]:.1f} after"
                    )
                    print(f"{_name(b)}: {note}", flush=True)
                    if keep is not None:
                        built.write_text(note + "\n")
                texts = queries(sample_of(corpus, count_documents(corpus)), n_queries)
                for text in await measure(b, data_dir, alias, texts, runs, process_counts()):
                    print(text, flush=True)
                print(f"(load average {os.getloadavg()[0]:.1f} after {_name(b)})", flush=True)
            finally:
                if b.real and keep is None:
                    es = ElasticsearchIndex(b.elasticsearch, None, alias=alias)  # type: ignore[arg-type]
                    try:
                        await es.drop_everything()
                    finally:
                        await es.close()


def process_counts() -> list[int]:
    """1 … the cores this process may use (at least 2, so the gain of a second process is shown)."""
    return list(range(1, max(2, len(os.sched_getaffinity(0))) + 1))


def _reader(path: Path) -> sqlite3.Connection:
    # Not mode=ro: a reader of a WAL file another process writes shares its -shm index.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA query_only=ON")
    return conn


def embedded_backlog(data_dir: Path) -> tuple[int, int]:
    """(events in the embedded log, events the search projection has applied of them), read from the
    files. The import's end is when every version is searchable; the scheduler's marks of the imported
    documents (filing overdue, expired: ~1.7 events a version) are still being applied after it."""
    with contextlib.closing(_reader(data_dir / "eventlog.db")) as log:
        (end,) = log.execute(
            "SELECT coalesce(max(offset), -1) FROM records WHERE topic = ?", (DOCUMENTS_TOPIC,)
        ).fetchone()
    with contextlib.closing(_reader(data_dir / "search.db")) as index:
        row = index.execute(
            "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ?", (GROUP, DOCUMENTS_TOPIC)
        ).fetchone()
    return int(end) + 1, int(row[0]) + 1 if row else 0


async def apply_backlog(backends: Backends, data_dir: Path, every_s: float = 10.0) -> None:
    """Embedded: lets the search service apply what the log still holds, so that nothing is being
    indexed while searches are timed. (A search service started over the import's data directory
    applies that backlog first; timed meanwhile, every figure would include it.)"""
    if backends.real or not (data_dir / "eventlog.db").exists():
        return
    total, applied = embedded_backlog(data_dir)
    if applied >= total:
        return
    started = time.monotonic()
    print(f"  the index has applied {applied} of the log's {total} events: applying the rest first", flush=True)
    with search_service(backends, data_dir, "", 1):
        while (applied := embedded_backlog(data_dir)[1]) < total:
            await asyncio.sleep(every_s)
            print(f"  {applied} of {total} applied (load {os.getloadavg()[0]:.1f})", flush=True)
    print(f"  the rest of the log applied in {time.monotonic() - started:.0f}s", flush=True)


async def on_imported(system: System, texts: list[str], runs: int = 1) -> list[str]:
    """The search figures of a system whose import has just ended, on the index its pipeline built:
    the services stopped, the search service started again as 1 … N processes over that index."""
    print(f"\n== search at size on what the import built ({_name(system.backends)})", flush=True)
    await apply_backlog(system.backends, system.data_dir)
    return await measure(system.backends, system.data_dir, system.index_alias, texts, runs, process_counts())
