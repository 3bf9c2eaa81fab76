"""A long import outlives a stalled registry: a batch whose call timed out or found it unavailable is
sent again with the same request ids; a refused call is not; a document refused on its own is
reported and the others are imported."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, status_pb2
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli import commands_import
from normreg_cli.corpus import read_corpus

from bench.synthetic import Generator, write_laws_db

pytestmark = pytest.mark.asyncio


def failure(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="stalled")


class FlakyRegistry:
    """Fails the first call of every batch holding a fifth request id with `code`, then imports;
    refuses for good the documents whose index is in `refuse`."""

    def __init__(self, code: grpc.StatusCode, refuse: frozenset[int] = frozenset()) -> None:
        self.code = code
        self.refuse = refuse
        self.calls: dict[str, int] = {}

    async def ImportDocuments(self, request: rpb.ImportDocumentsRequest) -> rpb.ImportDocumentsResponse:
        first = False
        for document in request.documents:
            n = self.calls[document.request_id] = self.calls.get(document.request_id, 0) + 1
            first = first or (n == 1 and index(document) % 5 == 0)
        if first:
            raise failure(self.code)
        results = []
        for document in request.documents:
            if index(document) in self.refuse:
                error = status_pb2.Status(code=code_pb2.ALREADY_EXISTS, message="number already held")
                results.append(rpb.ImportDocumentResult(request_id=document.request_id, error=error))
            else:
                results.append(
                    rpb.ImportDocumentResult(
                        request_id=document.request_id,
                        document=f"documents/{document.request_id}",
                        version_count=len(document.versions),
                    )
                )
        return rpb.ImportDocumentsResponse(results=results)


def index(document: rpb.ImportDocumentRequest) -> int:
    return int(document.request_id.rsplit(":", 1)[1])


async def run_import(
    path: Path, registry: FlakyRegistry, monkeypatch: pytest.MonkeyPatch, err: io.StringIO | None = None
) -> tuple[Any, str]:
    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(commands_import.asyncio, "sleep", no_wait)
    out = io.StringIO()
    ctx: Any = SimpleNamespace(clients=SimpleNamespace(registry=registry), err=err or io.StringIO(), print=out.write)
    args = argparse.Namespace(path=str(path), limit=0, concurrency=4, resume=False, batch=4)
    try:
        return await commands_import.import_corpus(ctx, args), out.getvalue()
    except grpc.aio.AioRpcError as exc:
        return exc.code(), out.getvalue()


@pytest.fixture
def corpus(tmp_path: Path, corpus_path: Path) -> Path:
    path = tmp_path / "synthetic.db"
    write_laws_db(Generator(list(read_corpus(corpus_path)), seed=3).documents(40), path)
    return path


@pytest.mark.parametrize("code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE])
async def test_a_stalled_call_is_sent_again_and_the_import_completes(
    corpus: Path, code: grpc.StatusCode, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = FlakyRegistry(code)
    result, out = await run_import(corpus, registry, monkeypatch)
    assert result is None
    assert "40 laws" in out
    assert len(registry.calls) == 40
    # Batches of 4 in the file's order: a batch holding a fifth id was sent twice, the others once.
    order = [law.request_id for law in read_corpus(corpus)]
    batches = [order[i : i + 4] for i in range(0, 40, 4)]
    twice = {r for b in batches if any(int(r.rsplit(":", 1)[1]) % 5 == 0 for r in b) for r in b}
    assert {r for r, n in registry.calls.items() if n == 2} == twice
    assert {r for r, n in registry.calls.items() if n == 1} == set(order) - twice
    assert 0 < len(twice) < 40


def prefix(registry: FlakyRegistry) -> str:
    return next(iter(registry.calls)).rsplit(":", 1)[0]


async def test_a_refused_document_is_reported_and_the_others_are_imported(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = FlakyRegistry(grpc.StatusCode.UNAVAILABLE, refuse=frozenset({7, 22}))
    err = io.StringIO()
    result, out = await run_import(corpus, registry, monkeypatch, err)
    assert result == 1
    assert "38 laws" in out and "2 refused" in out
    refusals = [line for line in err.getvalue().splitlines() if line.startswith("refused")]
    assert sorted(refusals) == [f"refused {prefix(registry)}:{i}: ALREADY_EXISTS: number already held" for i in (22, 7)]
    assert len(registry.calls) == 40


async def test_a_refusal_is_not_retried(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FlakyRegistry(grpc.StatusCode.INVALID_ARGUMENT)
    result, _ = await run_import(corpus, registry, monkeypatch)
    assert result == grpc.StatusCode.INVALID_ARGUMENT
    assert max(registry.calls.values()) == 1
