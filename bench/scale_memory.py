"""A large import end to end with each service's resident memory every minute, without the floor the
scale bench also measures (at 100k and more the floor doubles the time and holds every change in this
process): for checking by hand that memory stays flat as the corpus grows.

    python -m bench.scale_memory --size 100k [--backends embedded|real] [--every 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from normreg_cli.corpus import read_corpus

from bench import synthetic
from bench.corpus import import_end_to_end, sample_rss
from bench.infra import real_backends
from bench.procs import Backends, System, disk_mb, peak_rss_mb


async def run(backends: Backends, path: Path, every_s: float) -> None:
    versions = sum(len(law.versions) for law in read_corpus(path))
    with tempfile.TemporaryDirectory(prefix="normreg-scale-memory-") as tmp:
        system = System(Path(tmp), backends)
        with system.running():
            sampling = asyncio.create_task(sample_rss(system, path.name, every_s))
            try:
                seconds = await import_end_to_end(system, path, versions)
            finally:
                sampling.cancel()
            peaks = ", ".join(f"{name} {peak_rss_mb(proc.pid):.0f}" for name, proc in system.procs.items())
            sizes = ", ".join(f"{k} {v:.0f} MiB" for k, v in disk_mb(system.data_dir).items())
    print(f"{backends.name}: {versions} versions searchable in {seconds:.0f}s, {versions / seconds:.1f} versions/s")
    print(f"peak RSS MiB: {peaks}; on disk: {sizes}; load average {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", choices=("embedded", "real"), default="embedded")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between memory samples")
    args = parser.parse_args()
    size = synthetic.size_of(args.size)
    with tempfile.TemporaryDirectory(prefix="normreg-corpus-") as tmp:
        path = Path(tmp) / f"synthetic-{size}.db"
        started = time.monotonic()
        synthetic.write_laws_db(synthetic.generate(size, args.seed), path)
        print(f"{size} documents generated in {time.monotonic() - started:.0f}s", flush=True)
        if args.backends == "real":
            with real_backends() as backends:
                asyncio.run(run(backends, path, args.every))
        else:
            asyncio.run(run(Backends(), path, args.every))


if __name__ == "__main__":
    main()
