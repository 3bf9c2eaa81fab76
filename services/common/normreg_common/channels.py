"""Client channels to normreg's services, with the reads retried when a connection turns over.

A server tells each connection to go away after a while (`grpc_server`: max_connection_age), so
that processes sharing a port get their share of clients. A call sent at that instant can be
refused with UNAVAILABLE although nothing is wrong. A read is safe to send again, and the protos
say which methods are reads (`idempotency_level = NO_SIDE_EFFECTS`), so the retry policy is read
from them: a new read is retried without anyone listing it here, and a write never is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.descriptor_pb2 import MethodOptions
from normreg.v1 import (
    dead_letter_service_pb2,
    filing_review_service_pb2,
    registry_service_pb2,
    review_service_pb2,
    search_service_pb2,
)

from normreg_common.tls import ClientTls, grpc_channel_credentials

SERVICES: tuple[ServiceDescriptor, ...] = (
    registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"],
    review_service_pb2.DESCRIPTOR.services_by_name["ReviewService"],
    search_service_pb2.DESCRIPTOR.services_by_name["SearchService"],
    filing_review_service_pb2.DESCRIPTOR.services_by_name["FilingReviewService"],
    dead_letter_service_pb2.DESCRIPTOR.services_by_name["DeadLetterService"],
)

_SAFE_TO_REPEAT = (MethodOptions.NO_SIDE_EFFECTS, MethodOptions.IDEMPOTENT)

# Four attempts over about a third of a second: long enough for a new connection to be made, short
# beside any call's deadline. The throttle stops retrying when most calls fail, so a server that is
# really down is not sent four times the calls.
RETRY_POLICY = {
    "maxAttempts": 4,
    "initialBackoff": "0.05s",
    "maxBackoff": "0.5s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}
RETRY_THROTTLING = {"maxTokens": 10, "tokenRatio": 0.1}


def safe_to_repeat(method: MethodDescriptor) -> bool:
    return method.GetOptions().idempotency_level in _SAFE_TO_REPEAT


def service_config(services: Iterable[ServiceDescriptor] = SERVICES) -> str:
    """The gRPC service config (JSON) that retries every method the protos mark free of side effects."""
    names = [
        {"service": service.full_name, "method": method.name}
        for service in services
        for method in service.methods
        if safe_to_repeat(method)
    ]
    config: dict[str, Any] = {"retryThrottling": RETRY_THROTTLING}
    if names:
        config["methodConfig"] = [{"name": names, "retryPolicy": RETRY_POLICY}]
    return json.dumps(config)


_SERVICE_CONFIG = service_config()


def channel_options(extra: Sequence[tuple[str, Any]] = ()) -> list[tuple[str, Any]]:
    """`extra` and the retry policy; an `extra` service config replaces ours."""
    options = list(extra)
    if not any(name == "grpc.service_config" for name, _ in options):
        options.append(("grpc.service_config", _SERVICE_CONFIG))
    return options


def open_channel(
    address: str,
    tls: ClientTls | None = None,
    *,
    options: Sequence[tuple[str, Any]] = (),
    interceptors: Sequence[grpc.aio.ClientInterceptor] | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel to one of normreg's services; `tls` None is plaintext."""
    if tls is None:
        return grpc.aio.insecure_channel(address, options=channel_options(options), interceptors=interceptors)
    return grpc.aio.secure_channel(
        address, grpc_channel_credentials(tls), options=channel_options(options), interceptors=interceptors
    )
