"""`normreg import`: loads the national-law corpus (存量) through the registry, like any promulgated
document. Each law carries a stable request id, so a rerun imports nothing twice."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import TextIO

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.corpus import CorpusLaw, read_corpus


class Progress:
    """A one-line progress bar on stderr; plain lines when stderr is not a terminal."""

    def __init__(self, total: int, out: TextIO, width: int = 30) -> None:
        self._total = max(total, 1)
        self._out = out
        self._width = width
        self._start = time.monotonic()
        self._tty = out.isatty()
        self._last_line = -1

    def update(self, done: int) -> None:
        elapsed = time.monotonic() - self._start
        if self._tty:
            filled = self._width * done // self._total
            bar = "█" * filled + "░" * (self._width - filled)
            self._out.write(f"\rimporting {bar} {done}/{self._total} laws  {elapsed:5.1f}s")
            self._out.flush()
        elif done * 10 // self._total != self._last_line:
            self._last_line = done * 10 // self._total
            self._out.write(f"importing: {done}/{self._total} laws, {elapsed:.1f}s\n")

    def close(self) -> None:
        if self._tty:
            self._out.write("\n")


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


async def import_corpus(ctx: Context, args: argparse.Namespace) -> int | None:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    try:
        laws = list(read_corpus(args.path))
    except (FileNotFoundError, ValueError) as exc:
        ctx.err.write(f"error: {exc}\n")
        return 1
    if args.limit:
        laws = laws[: args.limit]
    registry = ctx.clients.registry
    progress = Progress(len(laws), ctx.err if ctx.err is not sys.stdout else sys.stderr)
    queue: asyncio.Queue[CorpusLaw] = asyncio.Queue()
    for law in laws:
        queue.put_nowait(law)
    done = 0
    versions = 0
    started = time.monotonic()

    async def worker() -> None:
        nonlocal done, versions
        while not queue.empty():
            law = queue.get_nowait()
            document = await registry.ImportDocument(request_for(law))
            versions += len(document.versions)
            done += 1
            progress.update(done)

    try:
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    finally:
        progress.close()
    elapsed = time.monotonic() - started
    ctx.print(f"{done} laws ({versions} versions) are in the registry; {elapsed:.1f}s, {done / elapsed:.0f} laws/s")
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
