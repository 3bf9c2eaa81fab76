"""gRPC clients of the services for the load drivers: a bearer token and a deadline on every call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from normreg.v1 import registry_service_pb2_grpc, review_service_pb2_grpc, search_service_pb2_grpc
from normreg_common.channels import open_channel

from bench.procs import System

STUBS: dict[str, Any] = {
    "registry": registry_service_pb2_grpc.RegistryServiceStub,
    "review": review_service_pb2_grpc.ReviewServiceStub,
    "search": search_service_pb2_grpc.SearchServiceStub,
}


class Stub:
    def __init__(self, channel: grpc.aio.Channel, service: str, token: str | None, timeout: float = 30.0) -> None:
        self._raw = STUBS[service](channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def __getattr__(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method = getattr(self._raw, name)

        async def call(request: Any) -> Any:
            return await method(request, metadata=self._metadata, timeout=self._timeout)

        return call


class Clients:
    """One channel per service, shared by every caller (as a real client would)."""

    def __init__(self, system: System) -> None:
        self._system = system
        self._channels: dict[str, grpc.aio.Channel] = {}

    def stub(self, service: str, subject: str = "", role: str = "", org: str = "") -> Stub:
        if service not in self._channels:
            self._channels[service] = open_channel(self._system.address(service))
        token = self._system.token(subject, role, org) if role else None
        return Stub(self._channels[service], service, token)

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
