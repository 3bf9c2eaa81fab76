"""The real corpus goes in through the registry with `normreg import`, reaches search through the
event log, imports nothing twice, and survives `normreg reindex` unchanged."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.corpus import read_corpus
from normreg_cli.main import run_async
from normreg_common.clock import FakeClock

from tests.harness import System

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "search"))
    await s.start()
    yield s
    await s.stop()


async def cli(s: System, token: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    addresses = [
        "--registry",
        f"127.0.0.1:{s.apps['registry'].port}",
        "--search",
        f"127.0.0.1:{s.apps['search'].port}",
    ]
    code = await run_async(["--token", token, *addresses, *argv], out, err, settings=s.settings)
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


async def snapshot(s: System, queries: list[str]) -> list[list[tuple[str, int]]]:
    search = s.stub("search")
    states = [pb.VERSION_STATE_IN_FORCE, pb.VERSION_STATE_AMENDED, pb.VERSION_STATE_REPEALED]
    results = []
    for q in queries:
        reply = await search.SearchDocuments(spb.SearchDocumentsRequest(query=q, states=states, page_size=10))
        results.append([(h.name, h.state) for h in reply.hits])
    return results


async def test_the_corpus_imports_through_the_registry_once_and_survives_reindex(
    system: System, corpus_path: Path
) -> None:
    laws = list(read_corpus(corpus_path))
    registrar = system.token("reg", "registrar")
    code, out, err = await cli(system, registrar, "import", "--path", str(corpus_path))
    assert code == 0, err
    assert f"{len(laws)} laws" in out
    await system.pump()
    assert await count_documents(system) == len(laws)

    # Every law in force is found first by its title, through the whole pipeline.
    search = system.stub("search")
    in_force = [law for law in laws if law.versions[-1].state == "IN_FORCE"][:40]
    for law in in_force:
        title = law.versions[-1].title
        reply = await search.SearchDocuments(spb.SearchDocumentsRequest(query=title, page_size=3))
        assert reply.hits and reply.hits[0].title == title, title

    # A rerun imports nothing twice.
    code, _, err = await cli(system, registrar, "import", "--path", str(corpus_path))
    assert code == 0, err
    assert await system.pump() == 0
    assert await count_documents(system) == len(laws)

    queries = ["合同", "行政处罚", "第三十条", "备案", "法治", "2018"]
    before = await snapshot(system, queries)
    assert all(before), "each query finds something in the corpus"
    denied, _, err = await cli(system, system.token("alice", "drafter", org="市司法局"), "reindex")
    assert denied == 1 and "PERMISSION_DENIED" in err
    code, out, err = await cli(system, system.token("root", "admin"), "reindex")
    assert code == 0, err
    assert "rebuilt" in out
    assert await snapshot(system, queries) == before
