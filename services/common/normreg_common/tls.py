"""Transport security for our own ports: gRPC and HTTP servers with certificates reloaded from disk
when they change, mutual TLS with a service identity taken from the client certificate, and the
matching client credentials.

A certificate renewed on disk (cert-manager, a cron job, `make run-tls` issuing anew) is picked up
by the next connection without a restart; established connections keep the certificate they
started with.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import grpc

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often a busy server looks at its files: a stat per connection is cheap, but not per handshake
# under a connection storm.
RECHECK_S = 1.0


@dataclass(frozen=True)
class ServerTls:
    """A server's certificate chain and key (PEM). With `client_ca_file`, clients must present a
    certificate signed by that CA; with `allowed_clients` too, its common name must be one of them."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None
    allowed_clients: frozenset[str] = field(default_factory=frozenset)

    @property
    def mutual(self) -> bool:
        return self.client_ca_file is not None


@dataclass(frozen=True)
class ClientTls:
    """How a client checks servers (`ca_file`, else the system's trust store) and, for mutual TLS,
    the certificate it presents."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


def _signature(paths: Sequence[Path | None]) -> tuple[tuple[int, int, int], ...]:
    out = []
    for path in paths:
        if path is None:
            continue
        st = os.stat(path)
        out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


class _Watched(Generic[T]):
    """Re-reads a set of files when any of them changes, looking at most once per `recheck_s`.

    A failed load (a renewal caught half-written, a key that does not match the certificate) keeps
    the previous value and is tried again at the next look.
    """

    def __init__(self, paths: Sequence[Path | None], load: Callable[[], T], what: str, recheck_s: float) -> None:
        self._paths = list(paths)
        self._load = load
        self._what = what
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._signature = _signature(self._paths)
        self.current = load()

    def poll(self) -> T | None:
        """The new value when the files changed since the last successful load, else None."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < self._recheck_s:
                return None
            self._checked = now
            try:
                signature = _signature(self._paths)
                if signature == self._signature:
                    return None
                value = self._load()
            except (OSError, ssl.SSLError, ValueError) as exc:
                log.warning("%s: the certificate files do not load (%s); keeping the current ones", self._what, exc)
                return None
            self._signature = signature
            self.current = value
            log.info("%s: certificate reloaded", self._what)
            return value


def _check_pair(cert_file: Path, key_file: Path) -> None:
    """Raises unless the key belongs to the certificate (ssl checks that when loading the pair)."""
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert_file, key_file)


def _grpc_config(tls: ServerTls) -> grpc.ServerCertificateConfiguration:
    _check_pair(tls.cert_file, tls.key_file)
    root = tls.client_ca_file.read_bytes() if tls.client_ca_file else None
    return grpc.ssl_server_certificate_configuration(
        [(tls.key_file.read_bytes(), tls.cert_file.read_bytes())], root_certificates=root
    )


def grpc_server_credentials(tls: ServerTls, *, recheck_s: float = RECHECK_S) -> grpc.ServerCredentials:
    """TLS for a gRPC server; gRPC asks the fetcher before every new connection whether the
    certificate changed."""
    watched = _Watched(
        [tls.cert_file, tls.key_file, tls.client_ca_file],
        lambda: _grpc_config(tls),
        f"gRPC TLS {tls.cert_file}",
        recheck_s,
    )
    return grpc.dynamic_ssl_server_credentials(watched.current, watched.poll, require_client_authentication=tls.mutual)


def http_server_ssl_context(tls: ServerTls, *, recheck_s: float = RECHECK_S) -> ssl.SSLContext:
    """TLS for an HTTP server (uvicorn, aiohttp, prometheus-client): the returned context hands each
    new handshake a context rebuilt from the files when they changed."""

    def build() -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(tls.cert_file, tls.key_file)
        if tls.client_ca_file is not None:
            context.load_verify_locations(tls.client_ca_file)
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    watched = _Watched([tls.cert_file, tls.key_file, tls.client_ca_file], build, f"HTTP TLS {tls.cert_file}", recheck_s)
    outer = build()

    def on_hello(connection: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext) -> None:
        watched.poll()
        connection.context = watched.current

    outer.sni_callback = on_hello
    return outer


def client_ssl_context(tls: ClientTls) -> ssl.SSLContext:
    """For our HTTP clients (OIDC discovery, the web portal's calls): verifies the server by `ca_file`
    or the system trust store and presents the client certificate when one is set."""
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file and tls.key_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def grpc_channel_credentials(tls: ClientTls) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=tls.ca_file.read_bytes() if tls.ca_file else None,
        private_key=tls.key_file.read_bytes() if tls.key_file else None,
        certificate_chain=tls.cert_file.read_bytes() if tls.cert_file else None,
    )


def peer_service(auth_context: Mapping[str, Sequence[bytes]]) -> str:
    """The calling service's identity under mutual TLS: the common name of its certificate, else its
    first subject alternative name; "" without a verified client certificate."""
    for key in ("x509_common_name", "x509_subject_alternative_name"):
        values = auth_context.get(key) or ()
        for value in values:
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            if text:
                return text
    return ""
