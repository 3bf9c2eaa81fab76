"""Event to searchable: from the return of the Promulgate RPC to the first SearchDocuments that finds
the document, over many documents, with the three services as processes and their background tasks
on (relay, consumers, default scheduler). Each document is adopted beforehand (drafted, approved by
the review service, adopted at deliberation) and promulgated with an early effective date (today, with
a reason), so it is in force at once; it is looked up by its uniform number every 5 ms.

Floors, measured in the same run:
- embedded: the detection cost itself, one SearchDocuments round trip for a document already
  searchable. The embedded index has no refresh delay, so this is all a perfect pipeline would show.
- Kafka + Elasticsearch: Elasticsearch's own write-to-searchable time, a document written straight
  into an index with the same refresh interval (1 s) and polled with `_search` every 5 ms.
Targets: embedded p99 <= 250 ms; real p99 <= refresh interval + 250 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.dates import to_pb as day

from bench.clients import Clients
from bench.infra import forget
from bench.procs import Backends, System
from bench.stats import at_most_value, line, percentile

POLL_S = 0.005
REFRESH_INTERVAL_S = 1.0  # the search service's index template (ElasticsearchIndex refresh_interval)
ORG = "市城市管理综合执法局"


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def adopted_documents(clients: Clients, n: int, tag: str) -> list[str]:
    """n documents through review and deliberation, ready to be promulgated."""
    drafter = clients.stub("registry", "zhang", "drafter", ORG)
    reviewer = clients.stub("review", "li", "reviewer", "市司法局")
    secretary = clients.stub("registry", "wang", "secretary", "市政府办")
    registrar = clients.stub("registry", "zhao", "registrar", "市政府办")  # sees every state
    names = []
    for i in range(n):
        doc = await drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                request_id=f"{tag}-{i}",
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                title=f"赤峰市基准测试第{i}号管理办法",
                body=f"第一条 为了规范第{i}号事项，制定本办法。\n第二条 本办法自公布之日起施行。",
                issuing_body=f"赤峰市基准测试{tag}",
                number_prefix="赤基规",
            )
        )
        await drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
        names.append(doc.name)
    wanted = set(names)
    decided: set[str] = set()

    async def all_decided() -> bool:
        page = await reviewer.ListReviews(vpb.ListReviewsRequest(state=vpb.REVIEW_STATE_OPEN, page_size=100))
        for task in page.reviews:
            if task.document in wanted and task.document not in decided:
                await reviewer.ClaimReview(vpb.ClaimReviewRequest(name=task.name))
                await reviewer.DecideReview(
                    vpb.DecideReviewRequest(name=task.name, decision=vpb.REVIEW_DECISION_APPROVE, opinion="合法")
                )
                decided.add(task.document)
        return decided == wanted

    await _eventually(all_decided, 120, "every review decided")
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for name in names:

        async def awaiting(name: str = name) -> bool:
            doc = await registrar.GetDocument(rpb.GetDocumentRequest(name=name, view=rpb.DOCUMENT_VIEW_BASIC))
            return bool(doc.state == pb.VERSION_STATE_AWAITING_DELIBERATION)

        await _eventually(awaiting, 60, f"{name} awaiting deliberation")
        await secretary.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="基准测试常务会议", meeting_date=day(today)
            )
        )
    return names


async def measure(system: System, n: int, jitter: random.Random | None) -> tuple[list[float], list[float]]:
    """(event-to-searchable seconds per document, one lookup round trip per document).

    With `jitter`, each promulgation waits a random part of the refresh interval first, so that the
    documents do not all arrive just after a refresh (measuring one after the other locks onto it).
    """
    clients = Clients(system)
    try:
        names = await adopted_documents(clients, n, system.suffix)
        registrar = clients.stub("registry", "zhao", "registrar", "市政府办")
        search = clients.stub("search")
        today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
        latencies: list[float] = []
        lookups: list[float] = []
        for name in names:
            if jitter is not None:
                await asyncio.sleep(jitter.uniform(0, REFRESH_INTERVAL_S))
            doc = await registrar.Promulgate(
                rpb.PromulgateRequest(name=name, effective_date=day(today), early_effect_reason="基准测试：公布即施行")
            )
            acknowledged = time.perf_counter()
            number = doc.versions[-1].promulgation.uniform_number
            assert doc.state == pb.VERSION_STATE_IN_FORCE, doc.state
            request = spb.SearchDocumentsRequest(uniform_number=number, page_size=1)
            while not (await search.SearchDocuments(request)).hits:
                if time.perf_counter() - acknowledged > 30:
                    raise TimeoutError(f"{name} not searchable after 30 s")
                await asyncio.sleep(POLL_S)
            latencies.append(time.perf_counter() - acknowledged)
            started = time.perf_counter()
            assert (await search.SearchDocuments(request)).hits
            lookups.append(time.perf_counter() - started)
        return latencies, lookups
    finally:
        await clients.close()


async def elasticsearch_visibility(url: str, n: int, jitter: random.Random) -> list[float]:
    """Seconds from an acknowledged write straight into Elasticsearch to `_search` finding it."""
    index = f"normreg-bench-floor-{uuid.uuid4().hex[:8]}"
    settings = {"settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}}
    out: list[float] = []
    async with aiohttp.ClientSession(url) as http:
        (await http.put(f"/{index}", json=settings)).raise_for_status()
        try:
            for i in range(n):
                await asyncio.sleep(jitter.uniform(0, REFRESH_INTERVAL_S))
                doc_id = f"d{i}"
                (await http.put(f"/{index}/_doc/{doc_id}", json={"n": i})).raise_for_status()
                acknowledged = time.perf_counter()
                query = {"query": {"term": {"_id": doc_id}}, "size": 1}
                while True:
                    async with http.post(f"/{index}/_search", json=query) as response:
                        if (await response.json())["hits"]["hits"]:
                            break
                    await asyncio.sleep(POLL_S)
                out.append(time.perf_counter() - acknowledged)
        finally:
            await http.delete(f"/{index}")
    return out


async def run_backend(backends: Backends, n: int, runs: int) -> list[str]:
    p50s, p99s, floor50, floor99 = [], [], [], []
    jitter = random.Random(1) if backends.real else None
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            system = System(Path(tmp), backends)
            try:
                with system.running():
                    latencies, lookups = await measure(system, n, jitter)
            finally:
                await forget(system)
        if backends.real:
            lookups = await elasticsearch_visibility(backends.elasticsearch, n, random.Random(2))
        p50s.append(percentile(latencies, 0.5) * 1000)
        p99s.append(percentile(latencies, 0.99) * 1000)
        floor50.append(percentile(lookups, 0.5) * 1000)
        floor99.append(percentile(lookups, 0.99) * 1000)
    limit = (REFRESH_INTERVAL_S * 1000 + 250) if backends.real else 250
    label = f"{backends.name} event->searchable"
    return [
        line(f"{label} p50", p50s, floor50, "ms", False),
        line(f"{label} p99", p99s, floor99, "ms", False, at_most_value(limit, "ms")),
    ]


async def main(backends: list[Backends], n: int = 100, runs: int = 3) -> None:
    print(
        f"== event to searchable ({n} documents per run; Promulgate acknowledged -> found by SearchDocuments; "
        "floor embedded: one lookup round trip; floor real: Elasticsearch write -> _search alone)"
    )
    for b in backends:
        for text in await run_backend(b, n, runs):
            print(text, flush=True)
