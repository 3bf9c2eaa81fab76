"""Channels to the services: every call carries the bearer token and a deadline; a failed call
becomes one readable line.

The token and the deadline are added by a client interceptor, so no command can forget them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from normreg.v1 import (
    filing_review_service_pb2_grpc,
    registry_service_pb2_grpc,
    review_service_pb2_grpc,
    search_service_pb2_grpc,
)
from normreg_common.channels import open_channel
from normreg_common.tls import ClientTls

DEFAULT_TIMEOUT_S = 30.0
SERVICES = ("registry", "review", "search", "filing")
# The services that keep dead letters of their own consumers.
DEAD_LETTER_SERVICES = ("registry", "review", "search", "filing")


class _CallOptions(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Adds `authorization: Bearer <jwt>` and the deadline, and notes which service is being called."""

    def __init__(self, clients: Clients, service: str) -> None:
        self._clients = clients
        self._service = service

    async def intercept_unary_unary(
        self, continuation: Callable[[Any, Any], Any], details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        self._clients.last_service = self._service
        metadata = grpc.aio.Metadata(*tuple(details.metadata or ()))
        if self._clients.token:
            metadata.add("authorization", f"Bearer {self._clients.token}")
        timeout = details.timeout if details.timeout is not None else self._clients.timeout
        return await continuation(
            grpc.aio.ClientCallDetails(details.method, timeout, metadata, details.credentials, details.wait_for_ready),
            request,
        )


class Clients:
    """Lazily opened channels, one per service, closed together."""

    def __init__(
        self,
        addresses: Mapping[str, str],
        token: str | None,
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        tls: ClientTls | None = None,
    ) -> None:
        """`tls` None: plaintext, as `make run` serves on loopback."""
        self.addresses = dict(addresses)
        self.token = token
        self.timeout = timeout
        self.tls = tls
        # The service of the most recent call: the CLI calls one at a time, so a failure is from this one.
        self.last_service = ""
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, service: str) -> grpc.aio.Channel:
        """The channel to `service`, for the services' shared APIs (dead letters)."""
        return self._channel(service)

    def _channel(self, service: str) -> grpc.aio.Channel:
        if service not in self._channels:
            interceptors = [_CallOptions(self, service)]
            address = self.addresses[service]
            self._channels[service] = open_channel(address, self.tls, interceptors=interceptors)
        return self._channels[service]

    @property
    def registry(self) -> registry_service_pb2_grpc.RegistryServiceAsyncStub:
        return cast(
            "registry_service_pb2_grpc.RegistryServiceAsyncStub",
            registry_service_pb2_grpc.RegistryServiceStub(self._channel("registry")),
        )

    @property
    def review(self) -> review_service_pb2_grpc.ReviewServiceAsyncStub:
        return cast(
            "review_service_pb2_grpc.ReviewServiceAsyncStub",
            review_service_pb2_grpc.ReviewServiceStub(self._channel("review")),
        )

    @property
    def search(self) -> search_service_pb2_grpc.SearchServiceAsyncStub:
        return cast(
            "search_service_pb2_grpc.SearchServiceAsyncStub",
            search_service_pb2_grpc.SearchServiceStub(self._channel("search")),
        )

    @property
    def filing(self) -> filing_review_service_pb2_grpc.FilingReviewServiceAsyncStub:
        return cast(
            "filing_review_service_pb2_grpc.FilingReviewServiceAsyncStub",
            filing_review_service_pb2_grpc.FilingReviewServiceStub(self._channel("filing")),
        )

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()


def _status_details(error: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """The ErrorInfo reason and the BadRequest fields of the google.rpc.Status, if the server sent one."""
    try:
        status = rpc_status.from_call(error)
    except ValueError:  # a status whose code or message disagrees with the call's
        return "", []
    if status is None:
        return "", []
    reason = ""
    fields: list[str] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [violation.field for violation in bad.field_violations]
    return reason, fields


def describe_error(error: grpc.aio.AioRpcError, clients: Clients) -> str:
    """One line: `error: CODE (REASON, field F): message`, or where the unreachable server was expected."""
    code = error.code()
    service = clients.last_service or "registry"
    address = clients.addresses.get(service, "?")
    reason, fields = _status_details(error)
    if code == grpc.StatusCode.UNAVAILABLE and not reason:
        details = error.details() or ""
        if "handshake" in details.lower() or "ssl" in details.lower() or "certificate" in details.lower():
            return (
                f"error: TLS with the {service} service at {address} failed: {' '.join(details.split())} "
                "(NORMREG_TLS_CA_FILE must name the CA that signed its certificate; "
                "NORMREG_TLS_CLIENT_CERT_FILE/_KEY_FILE where it requires a client certificate)"
            )
        line = (
            f"error: cannot reach the {service} service at {address}: is it running? "
            f"Start the system with `make run`, or point --{service} / NORMREG_{service.upper()}_ADDR at it"
        )
        if clients.tls is not None and clients.tls.cert_file is None:
            # A server that requires client certificates closes the connection on a client without one.
            line += " (if it requires client certificates: set NORMREG_TLS_CLIENT_CERT_FILE and _KEY_FILE)"
        return line
    if code == grpc.StatusCode.DEADLINE_EXCEEDED and not reason:
        return (
            f"error: DEADLINE_EXCEEDED: the {service} service at {address} did not answer within {clients.timeout:g} s"
        )
    tags = [reason] if reason and reason != code.name else []
    tags += [f"field {field}" for field in fields]
    head = f"error: {code.name}" + (f" ({', '.join(tags)})" if tags else "")
    message = " ".join((error.details() or "").split())
    return f"{head}: {message}" if message else head
