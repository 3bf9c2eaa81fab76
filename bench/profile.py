"""Where a service spends its time under a benchmark's load: py-spy (`pip install py-spy` into the
venv) samples the service process while it holds the GIL (Python CPU time; compiled code such as
grpc's shows as the Python frame that called it), and prints the hottest functions, by own time and
including callees. Loopback only, bounded in time.

    python -m bench.profile write      # the registry under CreateDocument at concurrency 32
    python -m bench.profile search     # the embedded search service under SearchDocuments (corpus)
    python -m bench.profile import     # registry, review and search during `normreg import` of the corpus
    python -m bench.profile import --real   # the same on Kafka + Elasticsearch
    python -m bench.profile import --real --corpus synthetic-10000-1.db   # on generated documents
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.corpus import default_path, read_corpus
from normreg_common.auth import TokenCodec

from bench import corpus
from bench.infra import forget, real_backends
from bench.procs import KEY, Backends, System, free_port, service, wait_serving
from bench.write_path import create_request

SECONDS = 12
# NATIVE=1: compiled frames too (grpc's core, protobuf, the event loop) where py-spy can unwind them.
NATIVE = ["--native"] if os.environ.get("NATIVE") else []


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def record(pid: int, out: Path, seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603
        [py_spy(), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200", "--format", "raw",
         "--output", str(out), "--nonblocking", "--threads", "--gil", *NATIVE],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summary(raw: Path, top: int = 25) -> str:
    """Own and inclusive share of the samples per function, from py-spy's collapsed stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # the tail of a frame whose text held a line break or a NUL
        n = int(count)
        frames = stack.split(";")
        total += n
        threads[frames[0]] += n
        names = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] + ")" for f in frames[1:]]
        if names:
            own[names[-1]] += n
        for name in set(names):
            inclusive[name] += n
    shares = ", ".join(f"{t} {n * 100 / total:.0f}%" for t, n in threads.most_common(4))
    out = [f"{total} samples; by thread: {shares}"]
    out.append("own time:")
    out += [f"  {n * 100 / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    out.append("including callees:")
    out += [f"  {n * 100 / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(out)


async def load_for(seconds: float, concurrency: int, call: Callable[[int], Awaitable[object]]) -> int:
    deadline = time.monotonic() + seconds
    done = 0

    async def worker(w: int) -> None:
        nonlocal done
        i = w
        while time.monotonic() < deadline:
            await call(i)
            i += concurrency
            done += 1

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done


async def profile_write(out: Path) -> None:
    token = TokenCodec(KEY).issue("bench", ["drafter"], "市司法局")
    metadata = (("authorization", f"Bearer {token}"),)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{port}"}
        with service("normreg_registry", Path(tmp), env) as proc:
            wait_serving(port, proc=proc)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = rgrpc.RegistryServiceStub(channel)

                async def create(i: int) -> object:
                    return await stub.CreateDocument(create_request(i, "p"), metadata=metadata, timeout=30)

                await load_for(2, 32, create)  # warm up
                spy = record(proc.pid, out, SECONDS)
                done = await load_for(SECONDS + 1, 32, create)
                spy.wait(60)
    print(f"registry under CreateDocument c=32: {done / (SECONDS + 1):.0f} req/s while sampled")


async def profile_search(out: Path) -> None:
    path = default_path()
    laws = list(read_corpus(path))
    texts = corpus.queries(laws, 60)
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), Backends())
        with system.running():
            await corpus.import_end_to_end(system, path, sum(len(law.versions) for law in laws))
            async with grpc.aio.insecure_channel(system.address("search")) as channel:
                search = sgrpc.SearchServiceStub(channel)

                async def query(i: int) -> object:
                    request = spb.SearchDocumentsRequest(query=texts[i % len(texts)], page_size=20)
                    return await search.SearchDocuments(request, timeout=30)

                spy = record(system.procs["search"].pid, out, SECONDS)
                done = await load_for(SECONDS + 1, 1, query)
                spy.wait(60)
    print(f"search (embedded, corpus) under SearchDocuments c=1: {done / (SECONDS + 1):.0f} req/s while sampled")


async def profile_import(directory: Path, backends: Backends, path: Path) -> dict[str, Path]:
    laws = list(read_corpus(path))
    outputs = {name: directory / f"{name}.txt" for name in ("registry", "review", "search")}
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), backends)
        try:
            with system.running():
                spies = [record(system.procs[name].pid, out, 600) for name, out in outputs.items()]
                seconds = await corpus.import_end_to_end(system, path, sum(len(law.versions) for law in laws))
                for spy in spies:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
                    spy.wait(60)
        finally:
            await forget(system)
    print(f"import of {len(laws)} laws on {backends.name}: {seconds:.1f}s end to end")
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("write", "search", "import"))
    parser.add_argument("--real", action="store_true", help="import: on Kafka + Elasticsearch")
    parser.add_argument("--corpus", metavar="DB", help="import: these documents (laws.db's format; default the corpus)")
    parser.add_argument("--keep", metavar="DIR", help="also keep py-spy's collapsed stacks in DIR")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outputs: dict[str, Path]
        if args.what == "import":
            with contextlib.ExitStack() as stack:
                backends = stack.enter_context(real_backends()) if args.real else Backends()
                corpus_db = Path(args.corpus) if args.corpus else default_path()
                outputs = asyncio.run(profile_import(Path(tmp), backends, corpus_db))
        else:
            out = Path(tmp) / f"{args.what}.txt"
            asyncio.run(profile_write(out) if args.what == "write" else profile_search(out))
            outputs = {"registry" if args.what == "write" else "search": out}
        for name, out in outputs.items():
            print(f"--- {name}\n{summary(out)}")
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(out, Path(args.keep) / out.name)


if __name__ == "__main__":
    main()
