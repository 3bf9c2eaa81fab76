"""Transport security: CreateDocument through the registry over mutual TLS (a client certificate,
the certificate files watched for renewal) against the same registry build in plaintext, same
driver, same concurrency, runs interleaved. Target: >= 0.8x the plaintext throughput, p99 <= 1.5x."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_common.auth import TokenCodec
from normreg_common.devca import DevCA
from normreg_common.tls import ClientTls, grpc_channel_credentials

from bench.procs import KEY, free_port, service, wait_serving
from bench.stats import Run, at_least, at_most, line
from bench.write_path import create_request, drive


def wait_serving_tls(port: int, credentials: grpc.ChannelCredentials, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.1)


async def main(*, total: int, runs: int, concurrency: int = 32) -> None:
    print(f"\n== transport: CreateDocument, c={concurrency}, {total} calls x {runs} runs, mTLS vs plaintext")
    token = TokenCodec(KEY).issue("bench", ["drafter"], "市司法局")
    metadata = (("authorization", f"Bearer {token}"),)
    results: dict[str, list[Run]] = {"plain": [], "mtls": []}
    with tempfile.TemporaryDirectory() as tmp:
        ca = DevCA(Path(tmp) / "ca")
        server, client = ca.issue("registry"), ca.issue("bench")
        plain_port, tls_port = free_port(), free_port()
        tls_env = {
            "NORMREG_TLS_CERT_FILE": str(server.cert_file),
            "NORMREG_TLS_KEY_FILE": str(server.key_file),
            "NORMREG_TLS_CLIENT_CA_FILE": str(ca.cert_file),
            "NORMREG_TLS_ALLOWED_CLIENTS": "bench",
        }
        credentials = grpc_channel_credentials(ClientTls(ca.cert_file, client.cert_file, client.key_file))
        plain_env = {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{plain_port}"}
        with (
            service("normreg_registry", Path(tmp) / "plain", plain_env) as plain_proc,
            service(
                "normreg_registry",
                Path(tmp) / "mtls",
                {"NORMREG_JWT_KEY": KEY, "NORMREG_REGISTRY_ADDR": f"127.0.0.1:{tls_port}", **tls_env},
            ),
        ):
            wait_serving(plain_port, proc=plain_proc)
            wait_serving_tls(tls_port, credentials)
            async with (
                grpc.aio.insecure_channel(f"127.0.0.1:{plain_port}") as plain_channel,
                grpc.aio.secure_channel(f"127.0.0.1:{tls_port}", credentials) as tls_channel,
            ):
                stubs = {
                    "plain": rgrpc.RegistryServiceStub(plain_channel),
                    "mtls": rgrpc.RegistryServiceStub(tls_channel),
                }
                for run in range(runs):
                    for mode, stub in stubs.items():
                        results[mode].append(
                            await drive(
                                lambda w, i, s=stub, r=run, m=mode: s.CreateDocument(
                                    create_request(i, f"{m}{r}"), metadata=metadata, timeout=30
                                ),
                                concurrency,
                                total,
                            )
                        )
    tls, plain = results["mtls"], results["plain"]
    print(
        line(
            "CreateDocument over mTLS throughput",
            [r.throughput for r in tls],
            [r.throughput for r in plain],
            "req/s",
            True,
            at_least(0.8),
        )
    )
    print(line("CreateDocument over mTLS p50", [r.p50_ms for r in tls], [r.p50_ms for r in plain], "ms", False))
    print(
        line(
            "CreateDocument over mTLS p99",
            [r.p99_ms for r in tls],
            [r.p99_ms for r in plain],
            "ms",
            False,
            at_most(1.5),
        )
    )
