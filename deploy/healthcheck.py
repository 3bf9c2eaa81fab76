"""Health check for the normreg image: exit 0 when the server answers SERVING, 1 otherwise.

    python /app/healthcheck.py [HOST:PORT] [--service NAME] [--timeout SECONDS] [--http]

The gRPC services are asked grpc.health.v1; the web portal (normreg_portal, or --http) is asked
GET /healthz, which must answer 200.

It asks grpc.health.v1.Health/Check with grpcio and grpcio-health-checking, which the image has
anyway, so Docker's HEALTHCHECK and compose need no grpc_health_probe binary. (Kubernetes doesn't
use this script: it has native gRPC probes.)

Without HOST:PORT it checks the service that this container runs. PID 1's command line
(`python -m normreg_<name>`) gives the name, NORMREG_<NAME>_ADDR gives the listen address, and the
service's default port is used when that variable is unset. A wildcard host (0.0.0.0, ::, empty)
becomes the loopback address. Service "" (the server as a whole) turns SERVING once the service
has started.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

DEFAULT_PORTS = {"registry": 50051, "review": 50052, "search": 50053, "portal": 8080}
HTTP_SERVICES = {"portal"}
WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - names a wildcard, binds nothing


def _own_service() -> str | None:
    try:
        argv = Path("/proc/1/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for arg in argv:
        name = arg.decode(errors="replace").removeprefix("normreg_")
        if arg.startswith(b"normreg_") and name in DEFAULT_PORTS:
            return name
    return None


def _target(explicit: str | None) -> str:
    if explicit:
        address = explicit
    else:
        service = _own_service()
        if service is None:
            raise SystemExit("healthcheck: PID 1 runs no normreg service; pass HOST:PORT")
        address = os.environ.get(f"NORMREG_{service.upper()}_ADDR") or f"0.0.0.0:{DEFAULT_PORTS[service]}"
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"healthcheck: not a HOST:PORT address: {address!r}")
    return f"{'127.0.0.1' if host in WILDCARD_HOSTS else host}:{port}"


def _read(variable: str) -> bytes | None:
    path = os.environ.get(variable, "")
    return Path(path).read_bytes() if path else None


def _channel(grpc: Any, target: str) -> Any:
    """Speaks TLS when the service does (NORMREG_TLS_CERT_FILE): checks it with NORMREG_TLS_CA_FILE and,
    under mutual TLS, presents the client certificate, else the service's own (it is signed by the
    same CA and names the service)."""
    if not os.environ.get("NORMREG_TLS_CERT_FILE"):
        return grpc.insecure_channel(target)
    cert = _read("NORMREG_TLS_CLIENT_CERT_FILE") or _read("NORMREG_TLS_CERT_FILE")
    key = _read("NORMREG_TLS_CLIENT_KEY_FILE") or _read("NORMREG_TLS_KEY_FILE")
    mutual = bool(os.environ.get("NORMREG_TLS_CLIENT_CA_FILE"))
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read("NORMREG_TLS_CA_FILE"),
        private_key=key if mutual else None,
        certificate_chain=cert if mutual else None,
    )
    # The certificate names the service's host, not necessarily the loopback address we dial.
    override = os.environ.get("NORMREG_TLS_HEALTHCHECK_SERVER_NAME", "")
    options = [("grpc.ssl_target_name_override", override)] if override else []
    return grpc.secure_channel(target, credentials, options=options)


def _http_check(target: str, timeout: float) -> int:
    import ssl
    import urllib.error
    import urllib.request

    scheme = "https" if os.environ.get("NORMREG_TLS_CERT_FILE") else "http"
    context = None
    if scheme == "https":
        context = ssl.create_default_context(cafile=os.environ.get("NORMREG_TLS_CA_FILE") or None)
        # The certificate names the service's host, not the loopback address dialled here.
        context.check_hostname = False
    url = f"{scheme}://{target}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as reply:  # noqa: S310 - our own URL
            status = reply.status
    except (urllib.error.URLError, OSError) as err:
        print(f"{url}: {err}", file=sys.stderr)
        return 1
    print(f"{url}: HTTP {status}")
    return 0 if status == 200 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="health check (grpc.health.v1, or GET /healthz with --http)")
    parser.add_argument("address", nargs="?", help="HOST:PORT (default: this container's service)")
    parser.add_argument("--service", default="", help='health service name (default "": the whole server)')
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument("--http", action="store_true", help="an HTTP service (the portal): GET /healthz")
    args = parser.parse_args(argv)
    target = _target(args.address)
    if args.http or (not args.address and _own_service() in HTTP_SERVICES):
        return _http_check(target, args.timeout)

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    request = health_pb2.HealthCheckRequest(service=args.service)
    try:
        with _channel(grpc, target) as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(request, timeout=args.timeout)
    except grpc.RpcError as err:
        print(f"{target}: {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    print(f"{target}: {status}")
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
