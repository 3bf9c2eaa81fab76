"""A long import outlives a stalled registry: a call that timed out or found it unavailable is sent
again with the same request id; a refusal is not."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli import commands_import
from normreg_cli.corpus import read_corpus

from bench.synthetic import Generator, write_laws_db

pytestmark = pytest.mark.asyncio


def failure(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="stalled")


class FlakyRegistry:
    """Fails the first call of every fifth request id with `code`, then imports."""

    def __init__(self, code: grpc.StatusCode) -> None:
        self.code = code
        self.calls: dict[str, int] = {}

    async def ImportDocument(self, request: rpb.ImportDocumentRequest) -> pb.Document:
        n = self.calls[request.request_id] = self.calls.get(request.request_id, 0) + 1
        if n == 1 and int(request.request_id.rsplit(":", 1)[1]) % 5 == 0:
            raise failure(self.code)
        return pb.Document(name=f"documents/{request.request_id}", versions=[pb.Version()] * len(request.versions))


async def run_import(path: Path, registry: FlakyRegistry, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, str]:
    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(commands_import.asyncio, "sleep", no_wait)
    out = io.StringIO()
    ctx: Any = SimpleNamespace(clients=SimpleNamespace(registry=registry), err=io.StringIO(), print=out.write)
    args = argparse.Namespace(path=str(path), limit=0, concurrency=4, resume=False)
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
    assert sorted(registry.calls.values()) == [1] * 32 + [2] * 8


async def test_a_refusal_is_not_retried(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FlakyRegistry(grpc.StatusCode.INVALID_ARGUMENT)
    result, _ = await run_import(corpus, registry, monkeypatch)
    assert result == grpc.StatusCode.INVALID_ARGUMENT
    assert max(registry.calls.values()) == 1
