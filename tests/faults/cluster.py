"""The services as real processes (so kill -9 is real) on a real Kafka and Elasticsearch, and the
servers themselves stopped and started again with deploy/local's scripts, keeping their data.

Every test gets its own topic prefix and index alias, so runs never see each other's documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg.v1 import registry_service_pb2_grpc, search_service_pb2_grpc
from normreg_common.auth import TokenCodec

from tests.conftest import TEST_KEY
from tests.harness import Stub

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "deploy" / "local"
# Reconnect quickly after a restart instead of gRPC's default backoff (up to 120 s).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(
    condition: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.25
) -> float:
    """Polls `condition` until it holds; returns the seconds it took, fails after `timeout`."""
    started = time.monotonic()
    deadline = started + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if await condition():
                return time.monotonic() - started
            last_error = None
        except (grpc.aio.AioRpcError, OSError) as exc:
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"not within {timeout:.0f}s: {what}{detail}")
        await asyncio.sleep(interval)


class Service:
    """One service process; restarted on the same address and data directory."""

    def __init__(self, name: str, env: dict[str, str], logs: Path, label: str = "") -> None:
        self.name = name
        # Names the log files: two replicas of one service write their own.
        self.label = label or name
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = env
        self._logs = logs
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    async def start(self, timeout: float = 90.0) -> None:
        self.launch()
        await eventually(self._serving, timeout, f"{self.name} serving on {self.address}")

    def launch(self) -> None:
        """Starts the process without waiting for it to serve."""
        assert self.proc is None, f"{self.name} is already running"
        self.starts += 1
        self._log = (self._logs / f"{self.label}-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(  # noqa: S603
            self.command(), env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO
        )

    def command(self) -> list[str]:
        """The process's command line."""
        return [sys.executable, "-m", f"normreg_{self.name}"]

    async def _serving(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
        async with grpc.aio.insecure_channel(self.address) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
            return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._closed()

    async def sigterm(self, limit_s: float = 60.0) -> tuple[float, int]:
        """SIGTERM, then waits up to `limit_s` for the process to exit by itself: returns the seconds it
        took and its exit status. Past the limit it is killed and the test fails with its log."""
        assert self.proc is not None
        proc = self.proc
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.to_thread(proc.wait, limit_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            self._closed()
            raise AssertionError(
                f"{self.name} had not exited {limit_s:.0f}s after SIGTERM and was killed:\n{self.log_tail()}"
            ) from None
        seconds = time.monotonic() - started
        self._closed()
        return seconds, status

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._closed()

    def _closed(self) -> None:
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        path = self._logs / f"{self.label}-{self.starts}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def embedded_services(root: Path, names: Sequence[str], **settings: str) -> dict[str, Service]:
    """Services as processes on the embedded backends (SQLite log and index), sharing one data
    directory and so one event log, as `make run` starts them; `settings` adds NORMREG_* variables."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")},
        "PYTHONUNBUFFERED": "1",
        "NORMREG_JWT_KEY": TEST_KEY,
        "NORMREG_CHECKPOINT_KEY": TEST_KEY,
        "NORMREG_DATA_DIR": str(root / "data"),
        **settings,
    }
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    services = {name: Service(name, dict(env), logs) for name in names}
    addresses = {f"NORMREG_{n.upper()}_ADDR": s.address for n, s in services.items()}
    for service in services.values():
        service.env.update(addresses)
    return services


class Cluster:
    """Registry and search as processes on Kafka + Elasticsearch, with clients for the tests."""

    def __init__(self, root: Path, kafka: str, elasticsearch: str, *, scheduler_interval_s: float = 1.0) -> None:
        self.suffix = uuid.uuid4().hex[:8]
        self.kafka = kafka
        self.elasticsearch = elasticsearch
        self.topic_prefix = f"faults{self.suffix}."
        self.index_alias = f"normreg-faults-{self.suffix}"
        self.root = root
        self.codec = TokenCodec(TEST_KEY)
        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        base = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "NORMREG_JWT_KEY": TEST_KEY,
            # One checkpoint key for every registry process, as a deployment's Secret gives it.
            "NORMREG_CHECKPOINT_KEY": TEST_KEY,
            # conftest takes these out of os.environ: the services get them explicitly.
            "NORMREG_KAFKA_BOOTSTRAP": kafka,
            "NORMREG_KAFKA_TOPIC_PREFIX": self.topic_prefix,
            "NORMREG_ELASTICSEARCH_URL": elasticsearch,
            "NORMREG_ELASTICSEARCH_INDEX_PREFIX": self.index_alias,
            "NORMREG_SCHEDULER_INTERVAL_S": str(scheduler_interval_s),
        }
        base.pop("NORMREG_TOKEN", None)
        self.services: dict[str, Service] = {}
        for name in ("registry", "search"):
            self.services[name] = Service(name, {**base, "NORMREG_DATA_DIR": str(root / name)}, logs)
        addresses = {f"NORMREG_{n.upper()}_ADDR": s.address for n, s in self.services.items()}
        for service in self.services.values():
            service.env.update(addresses)
        self._channels: list[grpc.aio.Channel] = []

    @property
    def registry(self) -> Service:
        return self.services["registry"]

    @property
    def search(self) -> Service:
        return self.services["search"]

    async def start(self) -> None:
        # The registry creates the topics; search then joins its consumer group.
        await self.registry.start()
        await self.search.start()

    def token(self, subject: str, *roles: str) -> str:
        return self.codec.issue(subject, list(roles))

    def stub(self, service: str, token: str | None = None, timeout: float = 10.0) -> Stub:
        channel = grpc.aio.insecure_channel(self.services[service].address, options=CHANNEL_OPTIONS)
        self._channels.append(channel)
        raw = {
            "registry": registry_service_pb2_grpc.RegistryServiceStub,
            "search": search_service_pb2_grpc.SearchServiceStub,
        }[service](channel)
        return Stub(raw, token, timeout)

    def search_db(self) -> Path:
        return self.root / "search" / "search.db"

    def logs(self) -> str:
        return "\n".join(f"----- {s.name} (start {s.starts}) -----\n{s.log_tail()}" for s in self.services.values())

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        for service in self.services.values():
            service.stop()
        await asyncio.to_thread(self._drop_index)
        await drop_topics(self.kafka, self.topic_prefix)

    def _drop_index(self) -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback URL from infra.env
            f"{self.elasticsearch}/{self.index_alias}-v*", method="DELETE"
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass


async def drop_topics(bootstrap: str, prefix: str) -> None:
    """Deletes the topics a test created (best effort: the broker may be gone)."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=f"faults-cleanup-{prefix}")
    with contextlib.suppress(Exception):
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()


class Infra:
    """Stops and starts the local Kafka or Elasticsearch with deploy/local's scripts (data kept)."""

    def __init__(self) -> None:
        self.dir = Path(os.environ.get("NORMREG_INFRA_DIR", REPO / "var" / "infra"))

    def addresses(self) -> dict[str, str]:
        env_file = self.dir / "infra.env"
        if not env_file.exists():
            return {}
        pairs = (line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        return {k.strip(): v.strip() for k, v in pairs if not k.startswith("#")}

    def _run(self, script: str, server: str) -> None:
        done = subprocess.run(  # noqa: S603
            ["bash", str(LOCAL / script), server],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"{script} {server} failed ({done.returncode}):\n{done.stderr[-3000:]}")

    async def stop(self, server: str) -> None:
        await asyncio.to_thread(self._run, "infra-down.sh", server)

    async def start(self, server: str, expected_address: str) -> None:
        """Starts it again; it must come back on the address the running services were given."""
        await asyncio.to_thread(self._run, "infra-up.sh", server)
        variable = {
            "kafka": "NORMREG_KAFKA_BOOTSTRAP",
            "elasticsearch": "NORMREG_ELASTICSEARCH_URL",
            "postgres": "NORMREG_POSTGRES_URL",
        }[server]
        address = self.addresses().get(variable, "")
        assert address == expected_address, (
            f"{server} came back on {address or 'no address'} instead of {expected_address}: "
            "clients holding the old address cannot reach it (infra-up.sh must reuse the recorded port)"
        )


def read_positions(db: Path) -> dict[tuple[str, int], int]:
    """The search consumer's committed positions, read beside the running service."""
    import sqlite3

    conn = sqlite3.connect(db, timeout=10)
    try:
        rows = conn.execute("SELECT topic, partition, offset FROM consumer_positions").fetchall()
    finally:
        conn.close()
    return {(r[0], int(r[1])): int(r[2]) for r in rows}
