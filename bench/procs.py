"""Starting servers in their own processes, so the load driver never shares their interpreter."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg_common.auth import TokenCodec

KEY = "bench-signing-key-0123456789-0123456789-abcdef"
SERVICES = ("registry", "review", "search")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(port: int, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextlib.contextmanager
def service(module: str, data_dir: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    data_dir.mkdir(parents=True, exist_ok=True)
    full = {**os.environ, "NORMREG_DATA_DIR": str(data_dir), **env}
    with (data_dir / f"{module}.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", module], env=full, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            yield proc
        finally:
            _stop(proc)


@contextlib.contextmanager
def echo_process() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.echo_server", str(port)], stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    with echo_process() as (port, _):
        yield port


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int) -> float:
    """VmRSS: resident memory now, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(directory: Path) -> dict[str, float]:
    """MiB on disk per SQLite database in a data directory, its -wal file included (registry.db: ...)."""
    sizes: dict[str, float] = {}
    for path in directory.glob("*.db*"):
        if path.suffix in (".db", ".db-wal") or path.name.endswith(".db-wal"):
            key = path.name.removesuffix("-wal")
            sizes[key] = sizes.get(key, 0.0) + path.stat().st_blocks * 512 / 2**20
    return dict(sorted(sizes.items()))


@dataclass
class Backends:
    """Empty: the embedded event log and index. Else a real Kafka and Elasticsearch."""

    kafka: str = ""
    elasticsearch: str = ""

    @property
    def real(self) -> bool:
        return bool(self.kafka)

    @property
    def name(self) -> str:
        return "kafka+elasticsearch" if self.real else "embedded"


@dataclass
class System:
    """The services as processes on one data directory, on free loopback ports."""

    data_dir: Path
    backends: Backends
    names: tuple[str, ...] = SERVICES
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def index_alias(self) -> str:
        return f"normreg-bench-{self.suffix}"

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def token(self, subject: str, role: str, org: str = "") -> str:
        return TokenCodec(KEY).issue(subject, [role], org)

    def env(self) -> dict[str, str]:
        env = {"NORMREG_JWT_KEY": KEY, "PYTHONUNBUFFERED": "1"}
        env.update({f"NORMREG_{n.upper()}_ADDR": self.address(n) for n in self.names})
        if self.backends.real:
            env.update(
                NORMREG_KAFKA_BOOTSTRAP=self.backends.kafka,
                NORMREG_KAFKA_TOPIC_PREFIX=f"bench{self.suffix}.",
                NORMREG_ELASTICSEARCH_URL=self.backends.elasticsearch,
                NORMREG_ELASTICSEARCH_INDEX_PREFIX=self.index_alias,
            )
        return env

    @contextlib.contextmanager
    def running(self) -> Iterator[System]:
        self.ports = {n: free_port() for n in self.names}
        with contextlib.ExitStack() as stack:
            for name in self.names:  # the registry first: it creates the topics
                proc = stack.enter_context(service(f"normreg_{name}", self.data_dir, self.env()))
                self.procs[name] = proc
                wait_serving(self.ports[name], proc=proc)
            yield self
