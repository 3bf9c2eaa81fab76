"""`make bench` (python -m bench): every benchmark in turn, each figure beside a floor measured in the
same run, as a ratio, with the median of several runs and their spread [min..max].

    python -m bench                       # everything, embedded and on Kafka + Elasticsearch
    python -m bench --quick               # fewer and shorter runs (a smoke test of the figures)
    python -m bench --only write_path --only search --backends embedded
    python -m bench --only scale --size 100k --runs 1   # a generated corpus (bench/synthetic.py) end to end
    python -m bench --only scale --size 1m --search-at-size --keep DIR   # the million, searched as imported
    python -m bench --only search_scale --size 100k     # searched through 1..N search processes

The real backends are those NORMREG_KAFKA_BOOTSTRAP / NORMREG_ELASTICSEARCH_URL name, else the local
ones of deploy/local (started if needed, stopped again afterwards; NORMREG_INFRA_DIR chooses which).
Everything talks to loopback only; every load is bounded in count and time. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import corpus, event_to_searchable, idle, portal, search_scale, synthetic, transport, write_path
from bench.infra import real_backends
from bench.procs import Backends
from bench.stats import VERDICTS

# The documents of a generated corpus past which `scale` measures its floor on the first of them only
# (unless --floor-documents says otherwise).
FLOOR_LIMIT = 100_000

BENCHMARKS = (
    "idle",
    "write_path",
    "transport",
    "event_to_searchable",
    "search",
    "search_scale",
    "import",
    "scale",
    "portal",
)


@contextlib.contextmanager
def backends_for(names: list[str]) -> Iterator[list[Backends]]:
    with contextlib.ExitStack() as stack:
        chosen = []
        for name in names:
            chosen.append(Backends() if name == "embedded" else stack.enter_context(real_backends()))
        yield chosen


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this one (repeatable)")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs")
    parser.add_argument("--backends", default="embedded,real", help="embedded, real or both (default embedded,real)")
    parser.add_argument("--runs", type=int, default=0, help="runs per figure (default 5 for the write path, else 3)")
    parser.add_argument(
        "--size", default="10k", help="documents of the generated corpus for `scale` (10k, 100k, 1m, N)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated corpus")
    parser.add_argument(
        "--shards", type=int, default=1, help="primary shards of the Elasticsearch index of `search_scale`"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="keep the corpus and indexes of `search_scale` in this directory and search them again next time",
    )
    parser.add_argument(
        "--floor-documents",
        type=int,
        default=FLOOR_LIMIT,
        help=f"documents the `scale` floor loads, the first of the corpus (default {FLOOR_LIMIT:,}; 0: all of them)",
    )
    parser.add_argument(
        "--search-at-size",
        action="store_true",
        help="after the `scale` import, search what the pipeline built (1 and 32 clients, 1..N search processes)",
    )
    return parser.parse_args()


async def run(args: argparse.Namespace, backends: list[Backends]) -> None:
    selected = args.only or list(BENCHMARKS)
    quick = args.quick
    if "idle" in selected:
        await idle.main(backends, window_s=20.0 if quick else 60.0)
    if "write_path" in selected:
        await write_path.main(total=400 if quick else 2000, runs=args.runs or (2 if quick else 5))
    if "transport" in selected:
        await transport.main(total=400 if quick else 2000, runs=args.runs or (2 if quick else 3))
    if "event_to_searchable" in selected:
        for b in backends:
            n = (10 if b.real else 20) if quick else (50 if b.real else 100)
            await event_to_searchable.main([b], n=n, runs=args.runs or (1 if quick else 3))
    if "search" in selected or "import" in selected:
        await corpus.main(
            backends,
            runs=args.runs or (1 if quick else 3),
            do_import="import" in selected,
            do_search="search" in selected,
            n_queries=30 if quick else 60,
        )
    if "search_scale" in selected:
        await search_scale.main(
            backends,
            size=synthetic.size_of(args.size),
            seed=args.seed,
            runs=args.runs or (1 if quick else 3),
            n_queries=30 if quick else 60,
            shards=args.shards,
            keep=args.keep,
        )
    if "scale" in selected:
        size = synthetic.size_of(args.size)
        with contextlib.ExitStack() as stack:
            # With --keep the generated corpus is kept and taken again (a million takes minutes to write).
            root = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="normreg-scale-")))
            root.mkdir(parents=True, exist_ok=True)
            path = search_scale.corpus_in(root, size, args.seed)
            await corpus.main(
                backends,
                runs=args.runs or 1,
                do_import=True,
                do_search=False,
                path=path,
                # The floor is the backend's own bulk load of the same documents; past 100k, by default
                # of their first 100k: a smaller index loads faster, so this favours the floor.
                # --floor-documents 0 loads them all: a floor of exactly the imported documents.
                floor_limit=args.floor_documents if 0 < args.floor_documents < size else None,
                after_import=search_scale.on_imported if args.search_at_size else None,
            )
    if "portal" in selected:
        await portal.main(runs=args.runs or (1 if quick else 3), n_queries=30 if quick else 60)


def main() -> None:
    args = parse()
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    unknown = set(names) - {"embedded", "real"}
    if unknown:
        raise SystemExit(f"--backends: unknown {', '.join(sorted(unknown))}")
    started = time.monotonic()
    print(f"normreg benchmarks: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    with backends_for(names) as backends:
        asyncio.run(run(args, backends))
    print(
        f"\n== targets ({time.monotonic() - started:.0f}s, load average {os.getloadavg()[0]:.2f} at the end)",
    )
    for label, target, met in VERDICTS:
        print(f"{'met    ' if met else 'NOT MET'}  {label:<52} {target}")


if __name__ == "__main__":
    main()
