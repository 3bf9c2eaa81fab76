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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import grpc
from google.rpc import code_pb2, error_details_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.corpus import CorpusLaw, count_documents, default_path, read_corpus
from normreg_cli.options import positive_int

# What the registry takes in one ImportDocuments call.
MAX_BATCH = 200
# Calls in flight: each holds a batch in memory; more than this only queues at the registry.
MAX_CONCURRENCY = 64


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

    def interrupt(self, line: str) -> None:
        """A line of its own (a refused document), the bar redrawn after it."""
        if self._tty:
            self._out.write("\r\x1b[K")
            self._last_draw = 0.0
        self._out.write(line + "\n")
        self._out.flush()

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


# A call that timed out or found the registry unavailable is sent again: the request ids make the
# second call return the documents the first one may have imported, so a long import outlives a stall.
RETRIED = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
ATTEMPTS = 5
# A call carries at most this many bytes of documents (the registry takes 32 MiB): a few MB keep
# the registry's transaction short and its memory small while the call overhead is spread thin.
BATCH_BYTES = 4 * 1024 * 1024


async def _import_batch(registry: Any, batch: list[rpb.ImportDocumentRequest]) -> list[rpb.ImportDocumentResult]:
    request = rpb.ImportDocumentsRequest(documents=batch)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            reply: rpb.ImportDocumentsResponse = await registry.ImportDocuments(request)
            return list(reply.results)
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRIED or attempt == ATTEMPTS:
                raise
            await asyncio.sleep(min(30.0, 2.0**attempt))
    raise AssertionError("unreachable")


def batches(laws: Iterable[CorpusLaw], size: int, start: int) -> Iterator[tuple[int, list[rpb.ImportDocumentRequest]]]:
    """(index of the first, requests) of consecutive documents, at most `size` or BATCH_BYTES a call."""
    batch: list[rpb.ImportDocumentRequest] = []
    weight = 0
    first = start
    for i, law in enumerate(laws, start=start):
        request = request_for(law)
        if batch and (len(batch) >= size or weight + request.ByteSize() > BATCH_BYTES):
            yield first, batch
            batch, weight, first = [], 0, i
        batch.append(request)
        weight += request.ByteSize()
    if batch:
        yield first, batch


def _refusal(result: rpb.ImportDocumentResult) -> str:
    code = code_pb2.Code.Name(result.error.code) if result.error.code in code_pb2.Code.values() else result.error.code
    reason = ""
    for detail in result.error.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            reason = f" ({info.reason})"
    return f"refused {result.request_id}: {code}{reason}: {result.error.message}"


async def import_corpus(ctx: Context, args: argparse.Namespace) -> int | None:
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if not 1 <= args.batch <= MAX_BATCH:
        raise UsageError(f"--batch must be between 1 and {MAX_BATCH}")
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
    queue: asyncio.Queue[tuple[int, list[rpb.ImportDocumentRequest]] | None] = asyncio.Queue(
        maxsize=2 * args.concurrency
    )
    finished: dict[int, int] = {}
    contiguous = skip
    done = skip
    versions = 0
    refused = 0
    last_saved = time.monotonic()

    async def feed() -> None:
        for item in batches(laws, args.batch, skip):
            await queue.put(item)
        for _ in range(args.concurrency):
            await queue.put(None)

    async def worker() -> None:
        nonlocal done, versions, refused, contiguous, last_saved
        while (item := await queue.get()) is not None:
            first, batch = item
            for result in await _import_batch(registry, batch):
                if result.HasField("error"):
                    # Reported and passed: the same document would be refused again by a rerun.
                    refused += 1
                    progress.interrupt(_refusal(result))
                else:
                    versions += result.version_count
            done += len(batch)
            # Documents before `contiguous` are all answered: what --resume skips.
            finished[first] = len(batch)
            while contiguous in finished:
                contiguous += finished.pop(contiguous)
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
    imported = done - skip - refused
    ctx.print(
        f"{done - refused} laws ({versions} versions in this run) are in the registry; {elapsed:.1f}s, "
        f"{imported / elapsed if elapsed > 0 else 0:.0f} laws/s"
        + (f"; {refused} refused (listed above)" if refused else "")
    )
    return 1 if refused else None


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "import",
        import_corpus,
        "load the national-law corpus through the registry (registrar); a rerun imports nothing twice",
        epilog="example: make corpus && normreg --as registrar:reg import",
    )
    p.add_argument("--path", default=None, help="laws.db (default: var/corpus/laws.db or $NORMREG_CORPUS)")
    p.add_argument("--limit", type=positive_int, default=0, help="import only the first N laws")
    p.add_argument("--concurrency", type=positive_int, default=4, help="calls in flight (default 4, at most 64)")
    p.add_argument(
        "--batch",
        type=positive_int,
        default=50,
        help=f"documents per call (default 50, at most {MAX_BATCH}; and 4 MiB)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="skip the documents an earlier run of the same file recorded as imported (FILE.imported)",
    )
