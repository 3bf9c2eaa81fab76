"""Many large anonymous queries at once cannot grow the search process: a query is refused at its
method's size limit before it is read, and only a bounded number of anonymous calls run at once.

The search service runs as its own process; its resident memory is read from /proc."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc

from tests.conftest import TEST_KEY
from tests.faults.cluster import Service

MIB = 1024 * 1024
# On this kind of machine the audit saw 76 MB grow to 359 MB with 16 such queries; a bounded edge
# keeps the peak within a few MB of where it started. The margin covers allocator noise.
ALLOWED_GROWTH = 40 * MIB


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@pytest.fixture
def search(tmp_path: Path) -> Iterator[Service]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")}
    env.update(NORMREG_DATA_DIR=str(tmp_path / "var"), NORMREG_JWT_KEY=TEST_KEY)
    service = Service("search", env, tmp_path)
    env["NORMREG_SEARCH_ADDR"] = service.address
    yield service
    service.stop()


async def _storm(address: str, count: int, query_bytes: int) -> list[grpc.StatusCode]:
    options = [("grpc.max_send_message_length", 16 * MIB)]
    async with grpc.aio.insecure_channel(address, options=options) as channel:
        stub = sgrpc.SearchServiceStub(channel)
        query = "规" * (query_bytes // 3)

        async def one() -> grpc.StatusCode:
            try:
                await stub.SearchDocuments(spb.SearchDocumentsRequest(query=query), timeout=60)
            except grpc.aio.AioRpcError as error:
                return error.code()
            return grpc.StatusCode.OK

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_the_search_process_stays_small_under_many_large_anonymous_queries(search: Service) -> None:
    await search.start()
    assert search.proc is not None
    pid = search.proc.pid
    # Warm up: the first real searches load what every search needs.
    assert set(await _storm(search.address, 4, 30)) == {grpc.StatusCode.OK}
    before = _kib(pid, "VmRSS")
    # The audit's 16 concurrent 8 MiB queries, twice over; then many just under the limit.
    codes = await _storm(search.address, 32, 8 * MIB)
    codes += await _storm(search.address, 200, 60 * 1024)
    peak = _kib(pid, "VmHWM")
    assert set(codes) <= {grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.INVALID_ARGUMENT}, set(codes)
    assert peak - before < ALLOWED_GROWTH, (
        f"resident memory went from {before / MIB:.0f} MB to a peak of {peak / MIB:.0f} MB"
    )
    # Still serving, and an ordinary query still answers.
    assert set(await _storm(search.address, 2, 30)) == {grpc.StatusCode.OK}
