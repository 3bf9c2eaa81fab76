"""Ten thousand generated documents go in through `normreg import` and the event log, and every one of
them comes out of search: a test of correctness at size (counts exact, each version found by its
uniform number or listed), not of speed. The same on Kafka and Elasticsearch, with 1,000 documents by
default (NORMREG_SCALE_TEST_SIZE_REAL; 10,000 there adds minutes to the suite for no other check).
An interrupted import resumes where it stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli import commands_import
from normreg_cli.corpus import CorpusLaw, read_corpus
from normreg_cli.main import run_async
from normreg_common.clock import FakeClock
from normreg_common.eventlog.kafka_log import KafkaEventLog

from bench.synthetic import Generator, write_laws_db
from tests.harness import System

pytestmark = pytest.mark.asyncio

SIZE = int(os.environ.get("NORMREG_SCALE_TEST_SIZE", "10000"))
REAL_SIZE = int(os.environ.get("NORMREG_SCALE_TEST_SIZE_REAL", "1000"))
PUBLIC = [pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_AMENDED, pb.VERSION_STATE_REPEALED]
# Listed too: a version whose validity period had ended before it was imported is expired by the import.
LISTED = [*PUBLIC, pb.VERSION_STATE_EXPIRED]


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "search"))
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
async def real_system(
    tmp_path: Path, clock: FakeClock, kafka_bootstrap: str, elasticsearch_url: str
) -> AsyncIterator[System]:
    suffix = uuid.uuid4().hex[:8]
    log = KafkaEventLog(kafka_bootstrap, client_id=f"scale-{suffix}", partitions=3, topic_prefix=f"s{suffix}.")
    s = System(
        tmp_path,
        clock,
        services=("registry", "search"),
        event_log=log,
        settings={
            "kafka_bootstrap": kafka_bootstrap,
            "elasticsearch_url": elasticsearch_url,
            "kafka_topic_prefix": f"s{suffix}.",
            "elasticsearch_index_prefix": f"normreg-scale-{suffix}",
        },
    )
    s.quiet_rounds = 4
    s.pause_s = 0.25
    await s.start()
    yield s
    await s.stop()


async def cli(s: System, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    addresses = ["--registry", f"127.0.0.1:{s.apps['registry'].port}", "--search", f"127.0.0.1:{s.apps['search'].port}"]
    code = await run_async(["--token", s.token("reg", "registrar"), *addresses, *argv], out, err, settings=s.settings)
    return code, out.getvalue(), err.getvalue()


async def count_documents(s: System) -> int:
    registrar = s.stub("registry", s.token("reg", "registrar"))
    total, token = 0, ""
    while True:
        page = await registrar.ListDocuments(rpb.ListDocumentsRequest(page_size=500, page_token=token))
        total += len(page.documents)
        token = page.next_page_token
        if not token:
            return total


async def searchable(s: System, bodies: set[str]) -> list[tuple[str, str, int]]:
    """(title, uniform number, state) of every public version search lists, body by body and page by
    page (one listing stops at 10,000 hits, as Elasticsearch's does)."""
    search = s.stub("search")
    out: list[tuple[str, str, int]] = []
    for body in sorted(bodies):
        token = ""
        while True:
            reply = await search.SearchDocuments(
                spb.SearchDocumentsRequest(
                    states=LISTED,
                    issuing_bodies=[body],
                    page_size=100,
                    page_token=token,
                    sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC,
                )
            )
            out.extend((h.title, h.uniform_number, h.state) for h in reply.hits)
            token = reply.next_page_token
            if not token:
                break
    return out


def expected(docs: list[CorpusLaw]) -> list[tuple[str, str, int]]:
    return [
        (v.title, v.uniform_number, pb.VersionState.Value(f"VERSION_STATE_{v.state}")) for d in docs for v in d.versions
    ]


async def registered(s: System) -> list[tuple[str, str, int, dt.date | None]]:
    """(title, uniform number, state, end of validity) of every version the registry holds."""
    registrar = s.stub("registry", s.token("reg", "registrar"))
    out: list[tuple[str, str, int, dt.date | None]] = []
    token = ""
    while True:
        page = await registrar.ListDocuments(rpb.ListDocumentsRequest(page_size=500, page_token=token))
        for d in page.documents:
            for v in d.versions:
                p = v.promulgation
                end = p.validity_end_date
                day = dt.date(end.year, end.month, end.day) if p.HasField("validity_end_date") else None
                out.append((v.title, p.uniform_number, v.state, day))
        token = page.next_page_token
        if not token:
            return out


def held_as_of(docs: list[CorpusLaw], held: list[tuple[str, str, int, dt.date | None]], today: dt.date) -> Counter:
    """Checks that the registry holds every version of the corpus in the state the corpus gives it,
    but for those whose validity period had ended when they landed: in force in the corpus, expired by
    the import itself. Returns what the registry holds, (title, number, state) counted."""
    holds = Counter((t, n, st) for t, n, st, _ in held)
    claimed = Counter(expected(docs))
    expired, replaced = holds - claimed, claimed - holds
    assert {st for _, _, st in expired} <= {pb.VERSION_STATE_EXPIRED}
    assert {st for _, _, st in replaced} <= {pb.VERSION_STATE_IN_FORCE}
    assert Counter((t, n) for t, n, _ in expired.elements()) == Counter((t, n) for t, n, _ in replaced.elements())
    ended = {(t, n) for t, n, st, end in held if st == pb.VERSION_STATE_EXPIRED and end is not None and end < today}
    assert {(t, n) for t, n, _ in expired} <= ended
    assert expired, "a generated corpus holds versions whose validity ended long ago"
    return holds


async def test_ten_thousand_documents_are_all_searchable_with_exact_counts(
    system: System, corpus_path: Path, tmp_path: Path
) -> None:
    await import_and_find_every_version(system, corpus_path, tmp_path, SIZE)


@pytest.mark.kafka
@pytest.mark.elasticsearch
async def test_an_import_on_kafka_and_elasticsearch_is_all_searchable_with_exact_counts(
    real_system: System, corpus_path: Path, tmp_path: Path
) -> None:
    await import_and_find_every_version(real_system, corpus_path, tmp_path, REAL_SIZE)


async def import_and_find_every_version(system: System, corpus_path: Path, tmp_path: Path, size: int) -> None:
    docs = list(Generator(list(read_corpus(corpus_path)), seed=11).documents(size))
    path = tmp_path / "synthetic.db"
    write_laws_db(iter(docs), path)
    code, out, err = await cli(system, "import", "--path", str(path))
    assert code == 0, err
    assert f"{size} laws" in out
    assert "/s" in err and "left" in err, "progress shows the rate and the time left"
    await system.pump(rounds=2000)
    assert await count_documents(system) == size

    holds = held_as_of(docs, await registered(system), system.clock.now().date())
    listed = await searchable(system, {d.issuing_body for d in docs})
    assert Counter(listed) == holds
    search = system.stub("search")
    total = await search.SearchDocuments(spb.SearchDocumentsRequest(states=LISTED, page_size=1))
    assert total.total == sum(len(d.versions) for d in docs)
    in_force = await search.SearchDocuments(spb.SearchDocumentsRequest(page_size=1))
    assert in_force.total == sum(n for (_, _, st), n in holds.items() if st == pb.VERSION_STATE_IN_FORCE)
    # Found by number and by words of its title, through the whole pipeline.
    for d in docs[:: max(1, size // 50)]:
        v = d.versions[-1]
        if v.uniform_number:
            got = await search.GetPublicDocument(spb.GetPublicDocumentRequest(uniform_number=v.uniform_number))
            assert got.title == v.title
        reply = await search.SearchDocuments(spb.SearchDocumentsRequest(query=v.title, states=LISTED, page_size=20))
        assert v.title in [h.title for h in reply.hits], v.title


async def test_an_interrupted_import_resumes_where_it_stopped(
    system: System, corpus_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = list(Generator(list(read_corpus(corpus_path)), seed=12).documents(600))
    path = tmp_path / "synthetic.db"
    write_laws_db(iter(docs), path)
    checkpoint = path.with_name(path.name + ".imported")

    def recorded() -> int:
        try:
            return int(json.loads(checkpoint.read_text())["done"])
        except (OSError, ValueError, KeyError):
            return 0

    # The first run's third call hangs (a registry that stopped answering), so it is interrupted
    # after exactly two batches were answered, however fast the import runs.
    real, calls, hang = commands_import._import_batch, 0, asyncio.Event()

    async def third_call_hangs(registry: Any, batch: list[Any]) -> Any:
        nonlocal calls
        calls += 1
        if calls > 2:
            await hang.wait()
        return await real(registry, batch)

    monkeypatch.setattr(commands_import, "_import_batch", third_call_hangs)
    first = asyncio.create_task(cli(system, "import", "--path", str(path), "--batch", "50", "--concurrency", "1"))
    while calls <= 2 and not first.done():  # noqa: ASYNC110 (the call count is the signal)
        await asyncio.sleep(0.01)
    assert not first.done(), "the first run should still be going"
    first.cancel()  # as ^C or a crash would
    with pytest.raises(asyncio.CancelledError):
        await first
    monkeypatch.setattr(commands_import, "_import_batch", real)
    stopped_at = recorded()
    assert stopped_at == 100

    code, out, err = await cli(system, "import", "--path", str(path), "--resume")
    assert code == 0, err
    assert f"resuming after the first {stopped_at} documents" in err
    assert "600 laws" in out
    await system.pump(rounds=2000)
    assert await count_documents(system) == 600
    holds = held_as_of(docs, await registered(system), system.clock.now().date())
    assert Counter(await searchable(system, {d.issuing_body for d in docs})) == holds
