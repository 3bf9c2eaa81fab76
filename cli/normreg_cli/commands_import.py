"""`normreg import`: loads a corpus (存量: the national laws, or a generated one of any size) through the
registry, like any promulgated document. Each document carries a stable request id, so a rerun imports
nothing twice; `--resume` skips what an interrupted run recorded as done. The file is streamed."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.corpus import CorpusLaw, count_documents, default_path, read_corpus


class Progress:
    """A one-line progress bar on stderr with the rate and the time left; plain lines (one per tenth)
    when stderr is not a terminal."""

    def __init__(self, total: int, out: TextIO, width: int = 30, *, already: int = 0) -> None:
        self._total = max(total, 1)
        self._out = out
        self._width = width
        self._start = time.monotonic()
        self._already = already
        self._tty = out.isatty()
        self._last_line = -1
        self._last_draw = 0.0

    def rate(self, done: int) -> float:
        """Documents per second in this run (those skipped by a resumed run not counted)."""
        elapsed = time.monotonic() - self._start
        return (done - self._already) / elapsed if elapsed > 0 else 0.0

    def text(self, done: int) -> str:
        elapsed = time.monotonic() - self._start
        rate = self.rate(done)
        eta = (self._total - done) / rate if rate > 0 else float("inf")
        left = "--" if eta == float("inf") else _duration(eta)
        return f"{done}/{self._total} documents, {rate:.0f}/s, {_duration(elapsed)} elapsed, {left} left"

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self._tty:
            if now - self._last_draw < 0.2 and done < self._total:
                return
            self._last_draw = now
            filled = self._width * done // self._total
            bar = "█" * filled + "░" * (self._width - filled)
            self._out.write(f"\rimporting {bar} {self.text(done)}   ")
            self._out.flush()
        elif done * 10 // self._total != self._last_line:
            self._last_line = done * 10 // self._total
            self._out.write(f"importing: {self.text(done)}\n")

    def close(self) -> None:
        if self._tty:
            self._out.write("\n")


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Checkpoint:
    """How many leading documents of a corpus file are known to be in the registry, kept beside the
    file, so an import stopped by a crash or ^C resumes where it was instead of replaying (request
    ids make a replay harmless, but a replay of a million still costs a million calls)."""

    def __init__(self, corpus: Path, total: int) -> None:
        self.path = corpus.with_name(corpus.name + ".imported")
        self._corpus = str(corpus.resolve())
        self._total = total

    def load(self) -> int:
        try:
            saved = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return 0
        if not isinstance(saved, dict) or saved.get("corpus") != self._corpus or saved.get("total") != self._total:
            return 0
        done = saved.get("done", 0)
        return done if isinstance(done, int) and 0 <= done <= self._total else 0

    def save(self, done: int) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"corpus": self._corpus, "total": self._total, "done": done}))
            tmp.replace(self.path)
        except OSError:
            # A corpus on a read-only disk imports all the same; only --resume has nothing to go on.
            return


def request_for(law: CorpusLaw) -> rpb.ImportDocumentRequest:
    return rpb.ImportDocumentRequest(
        request_id=law.request_id,
        kind=pb.DocumentKind.Value(f"DOCUMENT_KIND_{law.kind}"),
        issuing_body=law.issuing_body,
        versions=[
            rpb.ImportedVersion(
                title=v.title,
                body=v.body,
                articles=[pb.Article(label=label, text=text) for label, text in v.articles],
                state=pb.VersionState.Value(f"VERSION_STATE_{v.state}"),
                uniform_number=v.uniform_number,
                promulgation_date=dates.to_pb(v.promulgation_date),
                effective_date=dates.to_pb(v.effective_date),
                amended_by=[rpb.ImportedAct(title=t, date=dates.to_pb(d)) for t, d in v.amended_by],
                amends=[rpb.ImportedAct(title=t, date=dates.to_pb(d)) for t, d in v.amends],
            )
            for v in law.versions
        ],
    )


# A call that timed out or found the registry unavailable is sent again: the request id makes the
# second call return the document the first one may have imported, so a long import outlives a stall.
RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
ATTEMPTS = 5


async def _import_one(registry: Any, request: rpb.ImportDocumentRequest) -> pb.Document:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            document: pb.Document = await registry.ImportDocument(request)
            return document
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRIED or attempt == ATTEMPTS:
                raise
            await asyncio.sleep(min(30.0, 2.0**attempt))
    raise AssertionError("unreachable")


async def import_corpus(ctx: Context, args: argparse.Namespace) -> int | None:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    try:
        path = Path(args.path) if args.path else default_path()
        total = count_documents(path)
        laws = read_corpus(path)
    except (FileNotFoundError, ValueError, sqlite3.DatabaseError) as exc:
        ctx.err.write(f"error: {exc}\n")
        return 1
    if args.limit:
        total = min(total, args.limit)
        laws = itertools.islice(laws, args.limit)
    checkpoint = Checkpoint(path, total)
    skip = checkpoint.load() if args.resume else 0
    if skip:
        ctx.err.write(f"resuming after the first {skip} documents ({checkpoint.path})\n")
        laws = itertools.islice(laws, skip, None)
    registry = ctx.clients.registry
    progress = Progress(total, ctx.err if ctx.err is not sys.stdout else sys.stderr, already=skip)
    # Bounded, so a file of a million documents is read as it is sent.
    queue: asyncio.Queue[tuple[int, CorpusLaw] | None] = asyncio.Queue(maxsize=4 * args.concurrency)
    finished: set[int] = set()
    contiguous = skip
    done = skip
    versions = 0
    last_saved = time.monotonic()

    async def feed() -> None:
        for i, law in enumerate(laws, start=skip):
            await queue.put((i, law))
        for _ in range(args.concurrency):
            await queue.put(None)

    async def worker() -> None:
        nonlocal done, versions, contiguous, last_saved
        while (item := await queue.get()) is not None:
            i, law = item
            document = await _import_one(registry, request_for(law))
            versions += len(document.versions)
            done += 1
            finished.add(i)
            while contiguous in finished:
                finished.discard(contiguous)
                contiguous += 1
            if time.monotonic() - last_saved > 1.0:
                last_saved = time.monotonic()
                checkpoint.save(contiguous)
            progress.update(done)

    started = time.monotonic()
    feeder = asyncio.create_task(feed())
    try:
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        await feeder
    finally:
        feeder.cancel()
        progress.close()
        checkpoint.save(contiguous)
    elapsed = time.monotonic() - started
    imported = done - skip
    ctx.print(
        f"{done} laws ({versions} versions in this run) are in the registry; {elapsed:.1f}s, "
        f"{imported / elapsed if elapsed > 0 else 0:.0f} laws/s"
    )
    return None


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "import",
        import_corpus,
        "load the national-law corpus through the registry (registrar); a rerun imports nothing twice",
        epilog="example: make corpus && normreg --as registrar:reg import",
    )
    p.add_argument("--path", default=None, help="laws.db (default: var/corpus/laws.db or $NORMREG_CORPUS)")
    p.add_argument("--limit", type=int, default=0, help="import only the first N laws")
    p.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip the documents an earlier run of the same file recorded as imported (FILE.imported)",
    )
