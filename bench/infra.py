"""The real Kafka and Elasticsearch for the benchmarks: the ones NORMREG_* name, else the local ones of
deploy/local (started here, and stopped again, when they are not running). Loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.procs import Backends, System

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / "deploy" / "local"


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


@contextlib.contextmanager
def real_backends() -> Iterator[Backends]:
    kafka = os.environ.get("NORMREG_KAFKA_BOOTSTRAP", "")
    elasticsearch = os.environ.get("NORMREG_ELASTICSEARCH_URL", "")
    if kafka and elasticsearch:
        yield Backends(kafka, elasticsearch)
        return
    env_file = Path(os.environ.get("NORMREG_INFRA_DIR", REPO / "var" / "infra")) / "infra.env"
    already = _read_env(env_file)
    started = not (already.get("NORMREG_KAFKA_BOOTSTRAP") and already.get("NORMREG_ELASTICSEARCH_URL"))
    subprocess.run(["bash", str(LOCAL / "infra-up.sh"), "all"], check=True, capture_output=True)  # noqa: S603, S607
    found = _read_env(env_file)
    try:
        yield Backends(found["NORMREG_KAFKA_BOOTSTRAP"], found["NORMREG_ELASTICSEARCH_URL"])
    finally:
        if started:
            subprocess.run(["bash", str(LOCAL / "infra-down.sh")], check=False, capture_output=True)  # noqa: S603, S607


async def forget(system: System) -> None:
    """Deletes the topics and indices a benchmark run created on the shared servers."""
    if system.backends.real:
        await asyncio.to_thread(delete_indices, system.backends.elasticsearch, system.index_alias)
        await _drop_topics(system.backends.kafka, f"bench{system.suffix}.")


def delete_indices(url: str, prefix: str) -> None:
    request = urllib.request.Request(f"{url}/{prefix}*", method="DELETE")  # noqa: S310 - a loopback URL
    with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


async def _drop_topics(bootstrap: str, prefix: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-cleanup")
    with contextlib.suppress(Exception):
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()
