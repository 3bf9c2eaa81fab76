"""A province and two cities as real processes (kill -9 is real) on a real Kafka and Elasticsearch,
configured exactly as `make run-federation` configures them (normreg_cli.run_federation), each in
its own data folder and under its own topic prefix, with one clock file the test moves."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import grpc
from normreg.v1 import (
    filing_review_service_pb2_grpc,
    registry_service_pb2_grpc,
    review_service_pb2_grpc,
    search_service_pb2_grpc,
)
from normreg_cli import run_federation
from normreg_common.auth import TokenCodec

from tests.conftest import TEST_KEY
from tests.faults.cluster import CHANNEL_OPTIONS, REPO, Service, drop_topics
from tests.federation.clocked import CLOCK_FILE, move
from tests.harness import Stub

STUBS: dict[str, Any] = {
    "registry": registry_service_pb2_grpc.RegistryServiceStub,
    "review": review_service_pb2_grpc.ReviewServiceStub,
    "search": search_service_pb2_grpc.SearchServiceStub,
    "filing": filing_review_service_pb2_grpc.FilingReviewServiceStub,
}
# The province drafts nothing here: its registry (verified like the others') and its filing service.
PROVINCE_SERVICES = ("registry", "filing")


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports already handed out in this process: each is free when it is picked but bound only later, by
# the service it was picked for, so a second pick must not fall on it.
_GIVEN: set[int] = set()


def stable_port() -> int:
    """A free port below the range the kernel hands out to outgoing connections: a service killed
    and started again must find its port free, and with eight processes talking to Kafka and
    Elasticsearch an ephemeral port freed by the kill is soon some client's source port. Never one
    handed out before: two services of one federation could draw the same port."""
    floor = _ephemeral_floor()
    for _ in range(1000):
        port = random.randrange(20000, floor)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise AssertionError(f"no free port between 20000 and {floor}")


class ClockedService(Service):
    """A service process started through tests.federation.clocked, so the test's clock file moves it."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.federation.clocked", self.name]


class Federation:
    def __init__(self, root: Path, kafka: str, elasticsearch: str) -> None:
        self.root = root
        self.kafka = kafka
        self.elasticsearch = elasticsearch
        self.tag = f"f{uuid.uuid4().hex[:8]}"
        self.codec = TokenCodec(TEST_KEY)
        self.clock_file = root / "clock"
        self.offset = dt.timedelta()
        move(self.clock_file, self.offset)
        logs = root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")},
            "PYTHONUNBUFFERED": "1",
            "NORMREG_JWT_KEY": TEST_KEY,
            "NORMREG_CHECKPOINT_KEY": TEST_KEY,
            "NORMREG_KAFKA_BOOTSTRAP": kafka,
            "NORMREG_ELASTICSEARCH_URL": elasticsearch,
            "NORMREG_SCHEDULER_INTERVAL_S": "1",
            "NORMREG_METRICS_INTERVAL_S": "60",
            CLOCK_FILE: str(self.clock_file),
        }
        self.deployments = {
            d.name: d for d in run_federation.deployments(root / "deployments", tag=self.tag, port=stable_port)
        }
        envs = run_federation.environments(root / "deployments", list(self.deployments.values()), base)
        self.services: dict[tuple[str, str], ClockedService] = {}
        for name, d in self.deployments.items():
            wanted = PROVINCE_SERVICES if name == run_federation.PROVINCE else d.services
            for service in wanted:
                s = ClockedService(service, envs[name], logs, label=f"{name}-{service}")
                # The address run_federation gave it, which the deployment's other services use.
                s.port = d.ports[service]
                s.address = d.address(service)
                self.services[(name, service)] = s
        self._channels: list[grpc.aio.Channel] = []

    def service(self, deployment: str, service: str) -> ClockedService:
        return self.services[(deployment, service)]

    async def start(self) -> None:
        # All at once: each service creates the topics it writes, and a consumer that joined before
        # another's topic existed finds it at its next metadata refresh.
        await asyncio.gather(*(s.start() for s in self.services.values()))

    async def kill_and_restart(self, deployment: str, service: str) -> None:
        """kill -9, then the same process again on the same address and data."""
        s = self.service(deployment, service)
        s.kill()
        await s.start()

    def advance(self, days: int) -> None:
        """Every process's clock `days` further ahead."""
        self.offset += dt.timedelta(days=days)
        move(self.clock_file, self.offset)

    def today(self, deployment: str = run_federation.PROVINCE) -> dt.date:
        from normreg_common.profile import get_profile

        return get_profile(deployment).local_date(dt.datetime.now(dt.UTC) + self.offset)

    def stub(self, deployment: str, service: str, token: str | None = None) -> Stub:
        channel = grpc.aio.insecure_channel(self.service(deployment, service).address, options=CHANNEL_OPTIONS)
        self._channels.append(channel)
        return Stub(STUBS[service](channel), token, timeout=20.0)

    def token(self, subject: str, *roles: str, org: str = "") -> str:
        return self.codec.issue(subject, list(roles), org)

    def cli(self, deployment: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`normreg ARGS` against one deployment, as its cli.env describes it (the run-federation guide)."""
        d = self.deployments[deployment]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")}
        for line in d.cli_env.read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value.strip("'")
        env["NORMREG_JWT_KEY"] = TEST_KEY
        return subprocess.run(  # noqa: S603
            [sys.executable, "-m", "normreg_cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )

    def logs(self) -> str:
        return "\n".join(
            f"----- {label} (start {s.starts}) -----\n{s.log_tail()}" for label, s in self.services.items()
        )

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
        # Stopped together: each may take a few seconds to leave its consumer group.
        await asyncio.gather(*(asyncio.to_thread(s.stop) for s in self.services.values()))
        await asyncio.to_thread(self._drop_indices)
        await drop_topics(self.kafka, self.tag)

    def _drop_indices(self) -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback URL from infra.env
            f"{self.elasticsearch}/normreg-{self.tag}*", method="DELETE"
        )
        try:
            with urllib.request.urlopen(request, timeout=30):  # noqa: S310
                pass
        except OSError:
            pass
