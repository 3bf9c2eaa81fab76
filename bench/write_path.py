"""Write path: CreateDocument and UpdateDraft against a bare grpc.aio echo of the same request bytes,
driven by the same Python client at the same concurrency. Target: >= 0.6x the echo's throughput,
p99 <= 2x the echo's p99."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_common.auth import TokenCodec

from bench.procs import echo_server, free_port, service, wait_serving
from bench.stats import Run, line, summarise

KEY = "bench-signing-key-0123456789-0123456789-abcdef"
BODY = "第一条 为了规范本市行政规范性文件管理，根据有关法律法规，结合本市实际，制定本办法。\n" * 20


async def drive(call: Callable[[int, int], Awaitable[object]], concurrency: int, total: int) -> Run:
    """`concurrency` workers share `total` calls; each call gets (worker, request number)."""
    counter = itertools.count()
    latencies: list[float] = []

    async def worker(w: int) -> None:
        while (i := next(counter)) < total:
            start = time.perf_counter()
            await call(w, i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return summarise(latencies, time.perf_counter() - start)


def create_request(i: int, tag: str) -> rpb.CreateDocumentRequest:
    return rpb.CreateDocumentRequest(
        request_id=f"{tag}-{i}",
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title=f"赤峰市测试管理办法{i}",
        body=BODY,
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )


async def measure(concurrency: int, total: int, runs: int) -> list[str]:
    token = TokenCodec(KEY).issue("bench", ["drafter"], "市司法局")
    metadata = (("authorization", f"Bearer {token}"),)
    results: dict[str, list[Run]] = {"echo": [], "create": [], "update": []}
    with tempfile.TemporaryDirectory() as tmp, echo_server() as echo_port:
        port = free_port()
        env = {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{port}"}
        with service("normreg_registry", Path(tmp), env):
            wait_serving(port)
            async with (
                grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel,
                grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel,
            ):
                stub = rgrpc.RegistryServiceStub(channel)
                echo = echo_channel.unary_unary("/bench.Echo/Echo")
                payload = create_request(0, "x").SerializeToString()
                docs = [
                    await stub.CreateDocument(create_request(i, "seed"), metadata=metadata, timeout=30)
                    for i in range(concurrency)
                ]
                etags = {d.name: d.etag for d in docs}
                mask = field_mask_pb2.FieldMask(paths=["title"])

                async def update(w: int, i: int) -> object:
                    name = docs[w].name
                    reply = await stub.UpdateDraft(
                        rpb.UpdateDraftRequest(name=name, update_mask=mask, title=f"标题{i}", etag=etags[name]),
                        metadata=metadata,
                        timeout=30,
                    )
                    etags[name] = reply.etag
                    return reply

                for run in range(runs):
                    results["echo"].append(
                        await drive(lambda w, i: echo(payload, metadata=metadata, timeout=30), concurrency, total)
                    )
                    results["create"].append(
                        await drive(
                            lambda w, i, r=run: stub.CreateDocument(
                                create_request(i, f"r{r}"), metadata=metadata, timeout=30
                            ),
                            concurrency,
                            total,
                        )
                    )
                    # One document per worker: concurrent edits of the same draft would (rightly) abort.
                    results["update"].append(await drive(update, concurrency, total))
    out = []
    for op in ("create", "update"):
        name = {"create": "CreateDocument", "update": "UpdateDraft"}[op]
        out.append(
            line(
                f"{name} c={concurrency} throughput",
                [r.throughput for r in results[op]],
                [r.throughput for r in results["echo"]],
                "req/s",
                True,
            )
        )
        out.append(
            line(
                f"{name} c={concurrency} p50",
                [r.p50_ms for r in results[op]],
                [r.p50_ms for r in results["echo"]],
                "ms",
                False,
            )
        )
        out.append(
            line(
                f"{name} c={concurrency} p99",
                [r.p99_ms for r in results[op]],
                [r.p99_ms for r in results["echo"]],
                "ms",
                False,
            )
        )
    return out


async def main(total: int = 2000, runs: int = 5) -> None:
    print("== write path (registry vs bare grpc.aio echo; median of runs [min..max])")
    for concurrency in (1, 32):
        for text in await measure(concurrency, total if concurrency > 1 else total // 4, runs):
            print(text, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
