"""Write path: CreateDocument and UpdateDraft against a bare grpc.aio echo of the same request bytes,
driven by the same client at the same concurrency. Target: >= 0.6x the echo's throughput, p99 <= 2x
the echo's p99.

Two drivers: a Python grpc.aio client (this process), and ghz (Go, an independent driver that costs
the shared CPU much less) when it is installed (`go install github.com/bojand/ghz/cmd/ghz@latest`).
ghz drives CreateDocument only: UpdateDraft needs each call to carry the etag the previous returned.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import google.api
import grpc
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_common.auth import TokenCodec

from bench.procs import KEY, cpu_seconds, echo_process, echo_server, free_port, service, wait_serving
from bench.stats import Run, at_least, at_most, line, summarise

REPO = Path(__file__).resolve().parents[1]
BODY = "第一条 为了规范本市行政规范性文件管理，根据有关法律法规，结合本市实际，制定本办法。\n" * 20
CREATE = "normreg.v1.RegistryService/CreateDocument"


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


def report(name: str, concurrency: int, subject: list[Run], floor: list[Run]) -> list[str]:
    return [
        line(
            f"{name} c={concurrency} throughput",
            [r.throughput for r in subject],
            [r.throughput for r in floor],
            "req/s",
            True,
            at_least(0.6),
        ),
        line(f"{name} c={concurrency} p50", [r.p50_ms for r in subject], [r.p50_ms for r in floor], "ms", False),
        line(
            f"{name} c={concurrency} p99",
            [r.p99_ms for r in subject],
            [r.p99_ms for r in floor],
            "ms",
            False,
            at_most(2.0),
        ),
    ]


async def measure(concurrency: int, total: int, runs: int) -> list[str]:
    token = TokenCodec(KEY).issue("bench", ["drafter"], "市司法局")
    metadata = (("authorization", f"Bearer {token}"),)
    results: dict[str, list[Run]] = {"echo": [], "create": [], "update": []}
    # Each server's own CPU time a request: what a loaded machine changes least.
    cpu_ms: dict[str, list[float]] = {"echo": [], "create": []}
    with tempfile.TemporaryDirectory() as tmp, echo_process() as (echo_port, echo_proc):
        port = free_port()
        env = {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{port}"}
        with service("normreg_registry", Path(tmp), env) as proc:
            wait_serving(port, proc=proc)
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
                    before = cpu_seconds(echo_proc.pid)
                    results["echo"].append(
                        await drive(lambda w, i: echo(payload, metadata=metadata, timeout=30), concurrency, total)
                    )
                    cpu_ms["echo"].append((cpu_seconds(echo_proc.pid) - before) * 1000 / total)
                    before = cpu_seconds(proc.pid)
                    results["create"].append(
                        await drive(
                            lambda w, i, r=run: stub.CreateDocument(
                                create_request(i, f"r{r}"), metadata=metadata, timeout=30
                            ),
                            concurrency,
                            total,
                        )
                    )
                    cpu_ms["create"].append((cpu_seconds(proc.pid) - before) * 1000 / total)
                    # One document per worker: concurrent edits of the same draft would (rightly) abort.
                    results["update"].append(await drive(update, concurrency, total))
    return [
        *report("CreateDocument", concurrency, results["create"], results["echo"]),
        line(f"CreateDocument c={concurrency} server CPU a request", cpu_ms["create"], cpu_ms["echo"], "ms", False),
        *report("UpdateDraft", concurrency, results["update"], results["echo"]),
    ]


def ghz_binary() -> str | None:
    found = shutil.which("ghz")
    if found:
        return found
    default = Path(os.environ.get("GOPATH", Path.home() / "go")) / "bin" / "ghz"
    return str(default) if default.exists() else None


def _protoset(directory: Path) -> Path:
    out = directory / "registry.protoset"
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{REPO / 'protos'}",
            # google/api, google/rpc and google/type, as `make gen` finds them.
            f"-I{Path(next(iter(google.api.__path__))).parents[1]}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            str(REPO / "protos" / "normreg" / "v1" / "registry_service.proto"),
        ],
        check=True,
    )
    return out


def _ghz(ghz: str, protoset: Path, address: str, token: str, concurrency: int, total: int) -> Run:
    data = {
        "request_id": "{{newUUID}}",
        "kind": "DOCUMENT_KIND_NORMATIVE_DOCUMENT",
        "title": "赤峰市测试管理办法{{.RequestNumber}}",
        "body": BODY,
        "issuing_body": "赤峰市人民政府",
        "number_prefix": "赤政规",
    }
    done = subprocess.run(  # noqa: S603
        [
            ghz,
            "--insecure",
            f"--protoset={protoset}",
            f"--call={CREATE}",
            f"--data={json.dumps(data, ensure_ascii=False)}",
            f"--metadata={json.dumps({'authorization': f'Bearer {token}'})}",
            f"--concurrency={concurrency}",
            f"--total={total}",
            "--timeout=30s",
            "--format=json",
            address,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout)
    errors = {k: v for k, v in (result.get("statusCodeDistribution") or {}).items() if k != "OK"}
    if errors:
        raise RuntimeError(f"ghz: calls failed: {errors} {result.get('errorDistribution')}")
    percentiles = {p["percentage"]: p["latency"] / 1e6 for p in result["latencyDistribution"]}
    return Run(float(result["rps"]), percentiles[50], percentiles[99])


async def measure_ghz(ghz: str, concurrency: int, total: int, runs: int) -> list[str]:
    token = TokenCodec(KEY).issue("bench", ["drafter"], "市司法局")
    echo_runs: list[Run] = []
    create_runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, echo_server() as echo_port:
        protoset = _protoset(Path(tmp))
        port = free_port()
        env = {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{port}"}
        with service("normreg_registry", Path(tmp) / "data", env) as proc:
            wait_serving(port, proc=proc)
            for _ in range(runs):
                echo_runs.append(
                    await asyncio.to_thread(_ghz, ghz, protoset, f"127.0.0.1:{echo_port}", token, concurrency, total)
                )
                create_runs.append(
                    await asyncio.to_thread(_ghz, ghz, protoset, f"127.0.0.1:{port}", token, concurrency, total)
                )
    return report("ghz CreateDocument", concurrency, create_runs, echo_runs)


async def main(total: int = 2000, runs: int = 5) -> None:
    print("== write path (registry vs bare grpc.aio echo, same driver, same concurrency; median of runs [min..max])")
    for concurrency in (1, 32):
        for text in await measure(concurrency, total if concurrency > 1 else total // 4, runs):
            print(text, flush=True)
    ghz = ghz_binary()
    if ghz is None:
        print("(ghz not found: `go install github.com/bojand/ghz/cmd/ghz@latest` adds an independent Go driver)")
        return
    for concurrency in (1, 32):
        for text in await measure_ghz(ghz, concurrency, total if concurrency > 1 else total // 4, runs):
            print(text, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
