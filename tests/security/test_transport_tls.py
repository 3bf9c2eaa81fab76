"""TLS on real sockets: the CLI against a service over TLS, refusals without the CA, mutual TLS with a
service identity, and certificates renewed on disk picked up without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from normreg_common.clock import FakeClock
from normreg_common.devca import DevCA, Issued
from normreg_common.tls import (
    ClientTls,
    ServerTls,
    grpc_channel_credentials,
    grpc_server_credentials,
    http_server_ssl_context,
)

from tests.cli.conftest import DRAFTER, Cli
from tests.harness import System

TITLE = "赤峰市共享单车停放管理办法"
HEALTHCHECK = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.py"


@pytest.fixture
def ca(tmp_path: Path) -> DevCA:
    return DevCA(tmp_path / "ca")


@pytest.fixture
def stranger(tmp_path: Path) -> DevCA:
    """Another CA: its certificates look just as valid, but nobody here trusts it."""
    return DevCA(tmp_path / "other-ca", name="someone else's CA")


async def _system(tmp_path: Path, clock: FakeClock, settings: dict[str, Any]) -> System:
    system = System(tmp_path / "data", clock, services=("registry",), settings=settings)
    await system.start()
    return system


@pytest.fixture
async def tls_registry(tmp_path: Path, clock: FakeClock, ca: DevCA) -> AsyncIterator[System]:
    server = ca.issue("registry")
    system = await _system(
        tmp_path, clock, {"tls_cert_file": str(server.cert_file), "tls_key_file": str(server.key_file)}
    )
    yield system
    await system.stop()


@pytest.fixture
async def mtls_registry(tmp_path: Path, clock: FakeClock, ca: DevCA) -> AsyncIterator[System]:
    server = ca.issue("registry")
    system = await _system(
        tmp_path,
        clock,
        {
            "tls_cert_file": str(server.cert_file),
            "tls_key_file": str(server.key_file),
            "tls_client_ca_file": str(ca.cert_file),
            "tls_allowed_clients": "cli,portal",
        },
    )
    yield system
    await system.stop()


def cli(system: System, tmp_path: Path, **tls: str | bool) -> Cli:
    client = Cli(tmp_path / "cli", {"registry": f"127.0.0.1:{system.apps['registry'].port}"})
    client.settings = client.settings.model_copy(update=tls)
    return client


async def create(client: Cli) -> Any:
    return await client(
        "--as", DRAFTER, "create", "--kind", "normative_document", "--title", TITLE,
        "--issuing-body", "赤峰市人民政府", "--prefix", "赤政规", "--body", "第一条 测试。",
    )  # fmt: skip


async def test_the_cli_speaks_tls_to_a_service_whose_ca_it_trusts(
    tls_registry: System, tmp_path: Path, ca: DevCA
) -> None:
    result = await create(cli(tls_registry, tmp_path, tls_ca_file=str(ca.cert_file)))
    assert result.code == 0, result.err
    assert TITLE in result.out


async def test_a_client_without_the_ca_is_refused(tls_registry: System, tmp_path: Path) -> None:
    # TLS, but checking the server against the system's trust store, which does not know our CA.
    result = await create(cli(tls_registry, tmp_path, tls=True))
    assert result.code == 1
    assert "TLS with the registry service" in result.err
    assert "NORMREG_TLS_CA_FILE" in result.err


async def test_a_plaintext_client_is_refused_by_a_tls_port(tls_registry: System, tmp_path: Path) -> None:
    result = await create(cli(tls_registry, tmp_path))
    assert result.code == 1
    assert "UNAVAILABLE" in result.err or "cannot reach" in result.err
    assert TITLE not in result.out


async def test_mutual_tls_accepts_a_known_service_certificate(mtls_registry: System, tmp_path: Path, ca: DevCA) -> None:
    issued = ca.issue("cli")
    client = cli(
        mtls_registry,
        tmp_path,
        tls_ca_file=str(ca.cert_file),
        tls_client_cert_file=str(issued.cert_file),
        tls_client_key_file=str(issued.key_file),
    )
    result = await create(client)
    assert result.code == 0, result.err


async def test_mutual_tls_refuses_a_client_without_a_certificate(
    mtls_registry: System, tmp_path: Path, ca: DevCA
) -> None:
    result = await create(cli(mtls_registry, tmp_path, tls_ca_file=str(ca.cert_file)))
    assert result.code == 1
    assert TITLE not in result.out
    assert "NORMREG_TLS_CLIENT_CERT_FILE" in result.err


async def test_mutual_tls_refuses_a_certificate_from_an_unknown_ca(
    mtls_registry: System, tmp_path: Path, ca: DevCA, stranger: DevCA
) -> None:
    # Named like a service that is allowed, but signed by a CA the server does not trust.
    forged = stranger.issue("cli")
    client = cli(
        mtls_registry,
        tmp_path,
        tls_ca_file=str(ca.cert_file),
        tls_client_cert_file=str(forged.cert_file),
        tls_client_key_file=str(forged.key_file),
    )
    result = await create(client)
    assert result.code == 1
    assert TITLE not in result.out


async def test_mutual_tls_refuses_a_service_that_is_not_allowed(
    mtls_registry: System, tmp_path: Path, ca: DevCA
) -> None:
    # Signed by the right CA, but the service it names may not call the registry.
    other = ca.issue("batch-job")
    client = cli(
        mtls_registry,
        tmp_path,
        tls_ca_file=str(ca.cert_file),
        tls_client_cert_file=str(other.cert_file),
        tls_client_key_file=str(other.key_file),
    )
    result = await create(client)
    assert result.code == 1
    assert result.err.startswith("error: PERMISSION_DENIED (CLIENT_NOT_ALLOWED)")
    assert "batch-job" in result.err


# ---- certificates renewed on disk -------------------------------------------------------------------


def _serial(der: bytes | None) -> int:
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _served_serial_of(issued: Issued) -> int:
    return x509.load_pem_x509_certificate(issued.cert_file.read_bytes()).serial_number


async def _served_serial(port: int, ca: DevCA, alpn: list[str], server_name: str = "localhost") -> int:
    """The serial number of the certificate a new connection gets; a client dialling an IP address
    sends no SNI (server_name "127.0.0.1"), one dialling a name does."""
    context = ssl.create_default_context(cafile=str(ca.cert_file))
    context.set_alpn_protocols(alpn)
    _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=server_name)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        return _serial(ssl_object.getpeercert(binary_form=True))
    finally:
        writer.close()
        # The server may answer h2 frames after our close_notify: irrelevant here.
        with contextlib.suppress(ssl.SSLError, ConnectionError):
            await writer.wait_closed()


async def test_a_grpc_server_serves_a_renewed_certificate_without_a_restart(ca: DevCA) -> None:
    issued = ca.issue("registry")
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    tls = ServerTls(issued.cert_file, issued.key_file)
    port = server.add_secure_port("127.0.0.1:0", grpc_server_credentials(tls, recheck_s=0))
    await server.start()
    try:
        first = await _served_serial(port, ca, ["h2"])
        assert first == _served_serial_of(issued)
        renewed = ca.issue("registry")
        second = await _served_serial(port, ca, ["h2"])
        assert second == _served_serial_of(renewed) != first
        # And gRPC over the renewed certificate works.
        credentials = grpc_channel_credentials(ClientTls(ca_file=ca.cert_file))
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await server.stop(0)


async def test_a_renewal_caught_half_written_keeps_the_current_certificate(ca: DevCA, stranger: DevCA) -> None:
    issued = ca.issue("registry")
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_secure_port(
        "127.0.0.1:0", grpc_server_credentials(ServerTls(issued.cert_file, issued.key_file), recheck_s=0)
    )
    await server.start()
    try:
        before = await _served_serial(port, ca, ["h2"])
        # A new certificate whose key has not been written yet: the pair does not match.
        issued.cert_file.write_bytes(stranger.issue("registry").cert_file.read_bytes())
        assert await _served_serial(port, ca, ["h2"]) == before
        # Once the renewal is complete, it is served.
        renewed = ca.issue("registry")
        assert await _served_serial(port, ca, ["h2"]) == _served_serial_of(renewed)
    finally:
        await server.stop(0)


@pytest.mark.parametrize("server_name", ["localhost", "127.0.0.1"])
async def test_an_http_server_serves_a_renewed_certificate_without_a_restart(ca: DevCA, server_name: str) -> None:
    issued = ca.issue("portal")
    context = http_server_ssl_context(ServerTls(issued.cert_file, issued.key_file), recheck_s=0)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        first = await _served_serial(port, ca, ["http/1.1"], server_name)
        assert first == _served_serial_of(issued)
        renewed = ca.issue("portal")
        assert await _served_serial(port, ca, ["http/1.1"], server_name) == _served_serial_of(renewed) != first
    finally:
        server.close()
        await server.wait_closed()


async def test_the_metrics_port_speaks_tls_with_the_services_certificate(ca: DevCA) -> None:
    import urllib.request

    from normreg_common.metrics import MetricsEndpoint

    issued = ca.issue("registry")
    endpoint = MetricsEndpoint("127.0.0.1:0", tls=ServerTls(issued.cert_file, issued.key_file))
    try:
        assert endpoint.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(ca.cert_file))
        with await asyncio.to_thread(urllib.request.urlopen, endpoint.url, timeout=10, context=trusted) as reply:
            assert reply.status == 200
            assert b"# HELP" in reply.read()
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            await asyncio.to_thread(urllib.request.urlopen, endpoint.url, timeout=10)
    finally:
        endpoint.close()


async def test_the_container_health_check_speaks_tls_where_the_service_does(tls_registry: System, ca: DevCA) -> None:
    import os
    import sys

    script = HEALTHCHECK
    address = f"127.0.0.1:{tls_registry.apps['registry'].port}"
    settings = tls_registry.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")}
    env.update(NORMREG_TLS_CERT_FILE=settings.tls_cert_file, NORMREG_TLS_KEY_FILE=settings.tls_key_file)

    async def check(extra: dict[str, str]) -> tuple[int, str]:
        # A subprocess of its own while this loop serves the registry it checks.
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(script), address, env={**env, **extra}, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        return await process.wait(), out.decode()

    code, out = await check({"NORMREG_TLS_CA_FILE": str(ca.cert_file)})
    assert code == 0
    assert "SERVING" in out
    code, _ = await check({})  # TLS, but the CA is unknown
    assert code == 1
