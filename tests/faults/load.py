"""A paced write load on the registry that remembers every write it saw acknowledged.

Each write imports a law with two versions (the older amended, the newer in force) in one RPC, so it
is public at once and must reach the index; every `repeal_every`-th law is then repealed, a state
change the index must follow. A write whose RPC failed for lack of a server (killed, restarting) is
retried with the same request id until it is acknowledged: a retry must never make a second document.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from dataclasses import dataclass, field

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_cli.dates import to_pb as day

from tests.faults.cluster import CHANNEL_OPTIONS, Cluster

RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNKNOWN}
BODY = "第一条 为了规范{n}号事项的管理，根据有关法律，制定本法。\n第二条 本法适用于{n}号事项。\n"


def law_in_two_versions(request_id: str, title: str, body: str, added: str) -> rpb.ImportDocumentRequest:
    """A law public at once in two versions, the older (`body`) amended and the newer (`body` and the
    article `added`) in force: both must reach the index."""
    return rpb.ImportDocumentRequest(
        request_id=request_id,
        kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
        issuing_body="全国人民代表大会常务委员会",
        versions=[
            rpb.ImportedVersion(
                title=title,
                body=body,
                state=pb.VERSION_STATE_AMENDED,
                promulgation_date=day("2001-06-01"),
            ),
            rpb.ImportedVersion(
                title=title,
                body=body + added,
                state=pb.VERSION_STATE_IN_FORCE,
                promulgation_date=day("2012-06-01"),
                effective_date=day("2012-07-01"),
            ),
        ],
    )


def city_draft(request_id: str, title: str, body: str) -> rpb.CreateDocumentRequest:
    """A normative document of the city government, created as a draft."""
    return rpb.CreateDocumentRequest(
        request_id=request_id,
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title=title,
        body=body,
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )


@dataclass
class Load:
    cluster: Cluster
    run: str
    rate: float  # writes started per second
    concurrency: int = 8
    repeal_every: int = 4
    # Laws per call: 1 sends ImportDocument, more send them together with ImportDocuments.
    batch: int = 1
    # Give up on one write after this long: a server that never comes back fails the test.
    write_deadline_s: float = 180.0
    acked: dict[str, str] = field(default_factory=dict)  # title -> documents/{id}
    repealed: set[str] = field(default_factory=set)  # documents/{id}
    ack_times: list[float] = field(default_factory=list)  # monotonic time of each acknowledgement
    retries: collections.Counter[str] = field(default_factory=collections.Counter)
    in_flight: int = 0  # RPCs sent and not answered yet
    _stub: rgrpc.RegistryServiceStub | None = field(default=None, repr=False)

    def title(self, i: int) -> str:
        return f"中华人民共和国故障测试{self.run}第{i}号法"

    def acked_between(self, start: float, end: float) -> int:
        return sum(1 for t in self.ack_times if start <= t <= end)

    async def _call(self, method: str, request: object) -> object:
        token = self.cluster.token("faults", "registrar")
        metadata = (("authorization", f"Bearer {token}"),)
        deadline = time.monotonic() + self.write_deadline_s
        while True:
            self.in_flight += 1
            try:
                call = getattr(self._stub, method)
                return await call(request, metadata=metadata, timeout=10, wait_for_ready=True)
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in RETRYABLE or time.monotonic() > deadline:
                    raise
                self.retries[exc.code().name] += 1
            finally:
                self.in_flight -= 1
            await asyncio.sleep(0.1)

    async def _write(self, i: int) -> None:
        if self.batch > 1:
            await self._write_batch(i)
            return
        doc = await self._call("ImportDocument", self._import(i))
        assert isinstance(doc, pb.Document)
        await self._acknowledged(i, doc.name)

    async def _write_batch(self, i: int) -> None:
        """Laws i*batch … i*batch+batch-1 in one ImportDocuments call (one transaction)."""
        numbers = range((i - 1) * self.batch + 1, i * self.batch + 1)
        reply = await self._call(
            "ImportDocuments", rpb.ImportDocumentsRequest(documents=[self._import(n) for n in numbers])
        )
        assert isinstance(reply, rpb.ImportDocumentsResponse)
        assert [r.request_id for r in reply.results] == [f"{self.run}-{n}" for n in numbers]
        for n, result in zip(numbers, reply.results, strict=True):
            assert not result.HasField("error"), result.error
            await self._acknowledged(n, result.document)

    async def _acknowledged(self, i: int, name: str) -> None:
        self.acked[self.title(i)] = name
        self.ack_times.append(time.monotonic())
        if i % self.repeal_every == 0:
            await self._repeal(name)

    def _import(self, i: int) -> rpb.ImportDocumentRequest:
        return law_in_two_versions(f"{self.run}-{i}", self.title(i), BODY.format(n=i), "第三条 本法自公布之日起施行。")

    async def _repeal(self, name: str) -> None:
        try:
            await self._call("Repeal", rpb.RepealRequest(name=name, reason="故障测试废止"))
        except grpc.aio.AioRpcError as exc:
            # A retry of a repeal the registry had committed before it died: already repealed.
            if exc.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            doc = await self._call("GetDocument", rpb.GetDocumentRequest(name=name))
            assert isinstance(doc, pb.Document)
            assert doc.versions[-1].state == pb.VERSION_STATE_REPEALED, exc.details()
        self.repealed.add(name)
        self.ack_times.append(time.monotonic())

    async def run_until(self, stop: asyncio.Event, max_writes: int) -> None:
        """Starts writes at `rate` per second until `stop` is set (or `max_writes`), then waits for them."""
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        async with grpc.aio.insecure_channel(self.cluster.registry.address, options=CHANNEL_OPTIONS) as channel:
            self._stub = rgrpc.RegistryServiceStub(channel)

            async def worker() -> None:
                while (i := await queue.get()) is not None:
                    await self._write(i)

            workers = [asyncio.create_task(worker()) for _ in range(self.concurrency)]
            try:
                started = time.monotonic()
                for i in itertools.count(1):
                    if stop.is_set() or i > max_writes:
                        break
                    queue.put_nowait(i)
                    # Paced from the start, so a slow moment is caught up rather than stretched out.
                    await asyncio.sleep(max(0.0, started + i / self.rate - time.monotonic()))
                for _ in workers:
                    queue.put_nowait(None)
                await asyncio.gather(*workers)
            finally:
                for task in workers:
                    task.cancel()
