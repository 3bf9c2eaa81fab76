"""`make run` says it is plaintext; `make run-tls` makes a throw-away CA under the data folder and
runs every service — and the CLI — over mutual TLS. Real processes, as a person would start them."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg_cli.main import run_async
from normreg_common.settings import Settings
from normreg_common.tls import ClientTls, grpc_channel_credentials

ROLES = ("registry", "review", "search", "filing", "portal")
READY_ATTEMPTS = 300  # health checks 0.1 s apart: the services start in a few seconds


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def environment(data_dir: Path) -> dict[str, str]:
    ports = free_ports(9)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")}
    env.update(
        NORMREG_DATA_DIR=str(data_dir),
        NORMREG_REGISTRY_ADDR=f"127.0.0.1:{ports[0]}",
        NORMREG_REVIEW_ADDR=f"127.0.0.1:{ports[1]}",
        NORMREG_SEARCH_ADDR=f"127.0.0.1:{ports[2]}",
        NORMREG_PORTAL_ADDR=f"127.0.0.1:{ports[3]}",
        NORMREG_REGISTRY_METRICS_ADDR=f"127.0.0.1:{ports[4]}",
        NORMREG_REVIEW_METRICS_ADDR=f"127.0.0.1:{ports[5]}",
        NORMREG_SEARCH_METRICS_ADDR=f"127.0.0.1:{ports[6]}",
        NORMREG_FILING_ADDR=f"127.0.0.1:{ports[7]}",
        NORMREG_FILING_METRICS_ADDR=f"127.0.0.1:{ports[8]}",
    )
    return env


class Running:
    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.env = env
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "normreg_cli.run_all", *args],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            if line.startswith("Stop with Ctrl-C."):
                break
        self.banner = "".join(lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def started() -> Iterator[list[Running]]:
    running: list[Running] = []
    yield running
    for r in running:
        r.stop()


def test_make_run_says_it_is_plaintext(tmp_path: Path, started: list[Running]) -> None:
    run = Running(environment(tmp_path / "var"))
    started.append(run)
    assert "PLAINTEXT on loopback" in run.banner
    assert "make run-tls" in run.banner


async def wait_serving(address: str, credentials: grpc.ChannelCredentials) -> None:
    async with grpc.aio.secure_channel(address, credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for _ in range(READY_ATTEMPTS):
            try:
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{address} never answered SERVING over TLS")


def cli_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line)
    return {k: v.strip("'") for k, v in pairs}


async def cli(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    settings = Settings(**{k.removeprefix("NORMREG_").lower(): v for k, v in env.items() if k.startswith("NORMREG_")})
    out, err = io.StringIO(), io.StringIO()
    code = await run_async(list(argv), out, err, settings=settings, env={})
    return code, out.getvalue(), err.getvalue()


async def test_make_run_tls_runs_every_service_and_the_cli_over_mutual_tls(
    tmp_path: Path, started: list[Running]
) -> None:
    data = tmp_path / "var"
    env = environment(data)
    run = Running(env, "--tls")
    started.append(run)
    assert "mutual TLS" in run.banner
    tls_dir = data / "tls"
    client = cli_env(tls_dir / "cli.env")
    credentials = grpc_channel_credentials(
        ClientTls(
            Path(client["NORMREG_TLS_CA_FILE"]),
            Path(client["NORMREG_TLS_CLIENT_CERT_FILE"]),
            Path(client["NORMREG_TLS_CLIENT_KEY_FILE"]),
        )
    )
    for role in ("registry", "review", "search", "filing"):
        await wait_serving(env[f"NORMREG_{role.upper()}_ADDR"], credentials)

    with_tls = {**env, **client}
    create = (
        "--as", "drafter:alice@市司法局", "create", "--kind", "normative_document", "--title", "测试办法",
        "--issuing-body", "赤峰市人民政府", "--prefix", "赤政规", "--body", "第一条 测试。",
    )  # fmt: skip
    code, out, err = await cli(with_tls, *create)
    assert code == 0, err
    assert "测试办法" in out
    # The same CLI without the settings in cli.env speaks plaintext and gets nowhere.
    code, out, err = await cli(env, *create)
    assert code == 1
    assert "测试办法" not in out
    # The filing service answers the CLI over the same mutual TLS.
    code, out, err = await cli(with_tls, "--as", "reviewer:wu@司法局", "received-filings")
    assert code == 0, err
    assert "no received filings" in out

    # The portal is HTTPS with a certificate of the same CA.
    trusted = ssl.create_default_context(cafile=client["NORMREG_TLS_CA_FILE"])
    portal = f"https://{env['NORMREG_PORTAL_ADDR']}/"
    for _ in range(READY_ATTEMPTS):
        try:
            with await asyncio.to_thread(urllib.request.urlopen, portal, timeout=5, context=trusted) as reply:
                assert reply.status == 200
                break
        except (ConnectionError, urllib.error.URLError) as exc:
            if "CERTIFICATE" in str(exc):
                raise
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the portal never answered over HTTPS")
    assert sorted(p.name for p in tls_dir.glob("*.pem")) == sorted(
        ["ca.pem", "ca-key.pem", "cli.pem", "cli-key.pem"] + [f"{r}{s}.pem" for r in ROLES for s in ("", "-key")]
    )
