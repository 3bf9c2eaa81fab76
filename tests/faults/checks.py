"""What every fault test ends with: the index converges on what the load wrote, every acknowledged
write is in the registry and in the index exactly once, and `normreg verify` finds no difference."""

from __future__ import annotations

import collections
import io
import json
from pathlib import Path

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.main import run_async
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.settings import Settings

from tests.conftest import TEST_KEY
from tests.faults.cluster import Cluster, eventually
from tests.faults.load import Load
from tests.harness import Stub

PUBLIC = [
    pb.VERSION_STATE_PROMULGATED,
    pb.VERSION_STATE_IN_FORCE,
    pb.VERSION_STATE_AMENDED,
    pb.VERSION_STATE_REPEALED,
    pb.VERSION_STATE_DECLARED_INVALID,
    pb.VERSION_STATE_EXPIRED,
]


async def converged(cluster: Cluster, load: Load, timeout: float) -> float:
    """Waits until the index holds both versions of every acknowledged law and every repeal."""
    search = cluster.stub("search")
    versions = 2 * len(load.acked)

    async def caught_up() -> bool:
        everything = await search.SearchDocuments(spb.SearchDocumentsRequest(states=PUBLIC, page_size=1))
        repealed = await search.SearchDocuments(
            spb.SearchDocumentsRequest(states=[pb.VERSION_STATE_REPEALED], page_size=1)
        )
        return bool(everything.total == versions and repealed.total == len(load.repealed))

    return await eventually(caught_up, timeout, f"the index holds {versions} versions, {len(load.repealed)} repealed")


async def registry_documents(cluster: Cluster) -> list[pb.Document]:
    registrar = cluster.stub("registry", cluster.token("faults", "registrar"))
    out: list[pb.Document] = []
    token = ""
    while True:
        page = await registrar.ListDocuments(rpb.ListDocumentsRequest(page_size=500, page_token=token))
        out.extend(page.documents)
        token = page.next_page_token
        if not token:
            return out


async def index_hits(cluster: Cluster) -> list[spb.SearchHit]:
    return await every_public_version(cluster.stub("search"))


async def every_public_version(search: Stub) -> list[spb.SearchHit]:
    """Every public version in the index, page by page, newest first."""
    request = spb.SearchDocumentsRequest(states=PUBLIC, page_size=100, sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC)
    hits: list[spb.SearchHit] = []
    while True:
        page = await search.SearchDocuments(request)
        hits.extend(page.hits)
        if not page.next_page_token:
            return hits
        request.page_token = page.next_page_token


async def everything_acknowledged_is_there_once(cluster: Cluster, load: Load) -> None:
    # The registry: each acknowledged law once, under the name it was acknowledged with; nothing else.
    docs = await registry_documents(cluster)
    titles = collections.Counter(d.title for d in docs)
    assert [t for t, n in titles.items() if n > 1] == [], "a write became two documents"
    assert {d.title: d.name for d in docs} == load.acked
    for doc in docs:
        expected = pb.VERSION_STATE_REPEALED if doc.name in load.repealed else pb.VERSION_STATE_IN_FORCE
        assert [v.state for v in doc.versions] == [pb.VERSION_STATE_AMENDED, expected], doc.name

    # The index: every version of every acknowledged law once, in the registry's state.
    hits = await index_hits(cluster)
    seen = collections.Counter(h.name for h in hits)
    assert [n for n, count in seen.items() if count > 1] == []
    by_document = collections.defaultdict(dict)
    for hit in hits:
        by_document[hit.document][hit.name] = hit.state
    assert set(by_document) == set(load.acked.values())
    for name, states in by_document.items():
        last = pb.VERSION_STATE_REPEALED if name in load.repealed else pb.VERSION_STATE_IN_FORCE
        assert states == {f"{name}/versions/1": pb.VERSION_STATE_AMENDED, f"{name}/versions/2": last}, name


async def verify_reports_no_difference(cluster: Cluster) -> dict[str, object]:
    """`normreg verify --json` in-process against the running services."""
    settings = Settings(
        data_dir=cluster.root / "cli",
        jwt_key=TEST_KEY,
        registry_addr=cluster.registry.address,
        search_addr=cluster.search.address,
    )
    out, err = io.StringIO(), io.StringIO()
    code = await run_async(["--as", "registrar:faults", "verify", "--json"], out, err, settings=settings, env={})
    assert err.getvalue() == "", err.getvalue()
    report: dict[str, object] = json.loads(out.getvalue())
    assert code == 0 and report["agrees"] is True, json.dumps(report, ensure_ascii=False, indent=2)[:4000]
    return report


async def keys_on_embedded_log(event_log: Path, group: str, event_type: str = "") -> set[str]:
    """The documents with an event (of `event_type`, or of any type) on the embedded log, read from its
    start as any consumer reads it."""

    async def from_start(topic: str, partition: int) -> int | None:
        return None

    log = SqliteEventLog(event_log)
    await log.start()
    consumer = log.consumer([DOCUMENTS_TOPIC], group, from_start)
    await consumer.start()
    found: set[str] = set()
    try:
        while batch := await consumer.poll(timeout=0):
            found |= {d.key for d in batch if not event_type or CloudEvent.from_bytes(d.value).type == event_type}
    finally:
        await consumer.close()
        await log.close()
    return found
