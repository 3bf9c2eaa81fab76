"""gRPC plumbing shared by the services: one interceptor for identity and error mapping, health,
reflection, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2
from grpc_status import rpc_status
from normreg.v1 import error_reason_pb2

from normreg_common import stopping
from normreg_common.auth import Authenticator
from normreg_common.errors import InvalidArgument, NormregError, PermissionDenied
from normreg_common.principal import PUBLIC, Principal
from normreg_common.rpc_observer import ObservingInterceptor
from normreg_common.tls import ServerTls, grpc_server_credentials, peer_service

log = logging.getLogger(__name__)

_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal", default=PUBLIC)
# The calling service named by its client certificate under mutual TLS; "" otherwise.
_peer_service: contextvars.ContextVar[str] = contextvars.ContextVar("peer_service", default="")

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# What a request may weigh unless its method says otherwise: every field of a lookup, a filter or a
# transition fits many times over. Methods that carry a document's text name their own limit.
DEFAULT_REQUEST_BYTES = 64 * 1024
# Callers without a token: how many are served at once, and how many may wait for a turn. Beyond
# that they are told to come back (RESOURCE_EXHAUSTED), so the public cannot hold the memory of
# the service hostage, whatever the transport allows.
ANONYMOUS_CONCURRENCY = 16
ANONYMOUS_QUEUE = 64
# Health checks are asked without a token, by the search supervisor and by orchestrators. Queued
# behind the public's calls, a busy but live process looked dead under load (at a million documents
# 32 searches held every turn for tens of seconds) and was killed, failing every call it served.
_UNLIMITED_PREFIX = "/grpc.health.v1.Health/"


class _Undecodable:
    """Stands in for a request whose bytes are not the method's message, so the handler can refuse it
    with the caller's error instead of the framework's UNKNOWN."""

    def __init__(self, error: InvalidArgument) -> None:
        self.error = error


def guarded_deserializer(deserializer: Callable[[bytes], Any] | None, limit: int) -> Callable[[bytes], Any]:
    """`deserializer` that never raises: a request over `limit` bytes or not decodable becomes _Undecodable."""

    def decode(raw: bytes) -> Any:
        if len(raw) > limit:
            error = InvalidArgument("request", f"the request is {len(raw)} bytes; this method accepts at most {limit}")
            error.reason = "REQUEST_TOO_LARGE"
            return _Undecodable(error)
        if deserializer is None:
            return raw
        try:
            return deserializer(raw)
        except Exception as exc:  # any decoding failure is the caller's bytes, never our fault
            return _Undecodable(
                InvalidArgument("request", f"the request bytes are not a valid message of this method ({exc})")
            )

    return decode


class AnonymousLimiter:
    """At most `concurrency` calls without a token at once, `queue` more waiting; the rest refused."""

    def __init__(self, concurrency: int = ANONYMOUS_CONCURRENCY, queue: int = ANONYMOUS_QUEUE) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._queue = queue
        self._waiting = 0

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._slots.locked():
            if self._waiting >= self._queue:
                raise Busy()
            self._waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self._waiting -= 1
        else:
            await self._slots.acquire()
        try:
            yield
        finally:
            self._slots.release()


class Busy(NormregError):
    code = "RESOURCE_EXHAUSTED"
    reason = "TOO_MANY_ANONYMOUS_REQUESTS"

    def __init__(self) -> None:
        super().__init__("too many requests without a token are being served; retry in a moment")


def current_principal() -> Principal:
    return _principal.get()


def current_peer_service() -> str:
    return _peer_service.get()


# The published catalogue of reasons (normreg.v1.ErrorReason); importing it also lets server
# reflection describe it to clients.
_CATALOGUED = frozenset(error_reason_pb2.ErrorReason.keys())


def to_status(error: NormregError, domain: str) -> status_pb2.Status:
    if error.reason not in _CATALOGUED:
        log.error("reason %s is not in the published catalogue (protos/normreg/v1/error_reason.proto)", error.reason)
    details: list[Any] = [
        error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=dict(error.metadata))
    ]
    if isinstance(error, InvalidArgument):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.description)
                ]
            )
        )
    elif error.code == "FAILED_PRECONDITION":
        details.append(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=error.reason,
                        subject=error.metadata.get("resource", ""),
                        description=error.message,
                    )
                ]
            )
        )
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=getattr(code_pb2, error.code), message=error.message, details=packed)


class EdgeInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Resolves the caller from its bearer token (and, under mutual TLS, the calling service from its
    certificate) and turns domain errors into google.rpc.Status."""

    def __init__(
        self,
        authenticator: Authenticator,
        domain: str,
        *,
        request_limits: Mapping[str, int] | None = None,
        anonymous: AnonymousLimiter | None = None,
        tls: ServerTls | None = None,
    ) -> None:
        self._authenticator = authenticator
        self._domain = domain
        self._limits = dict(request_limits or {})
        self._anonymous = anonymous or AnonymousLimiter()
        self._mutual = tls is not None and tls.mutual
        self._allowed_clients = tls.allowed_clients if tls is not None else frozenset()
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def request_limit(self, method: str) -> int:
        """The byte limit of `method` (`/package.Service/Method`), looked up by its last part."""
        return self._limits.get(method.rsplit("/", 1)[-1], DEFAULT_REQUEST_BYTES)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = details.method
        # Handlers are fixed per method: wrap each once, not on every call.
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        inner = handler.unary_unary
        authenticator = self._authenticator
        domain = self._domain
        anonymous = self._anonymous
        mutual = self._mutual
        allowed = self._allowed_clients
        limited = not method.startswith(_UNLIMITED_PREFIX)

        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                service = peer_service(context.auth_context()) if mutual else ""
                if allowed and service not in allowed:
                    raise PermissionDenied(
                        "CLIENT_NOT_ALLOWED",
                        f"the client certificate names {service or 'no service'!r}, not allowed here",
                    )
                if isinstance(request, _Undecodable):
                    raise request.error
                principal = await authenticator.authenticate(context.invocation_metadata())
                token = _principal.set(principal)
                peer = _peer_service.set(service)
                try:
                    if principal.is_public and limited:
                        async with anonymous.turn():
                            return await inner(request, context)
                    return await inner(request, context)
                finally:
                    _peer_service.reset(peer)
                    _principal.reset(token)
            except NormregError as error:
                await context.abort_with_status(rpc_status.to_status(to_status(error, domain)))
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception:
                log.exception("unexpected error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error; the request was not applied")

        return grpc.unary_unary_rpc_method_handler(
            wrapper,
            request_deserializer=guarded_deserializer(handler.request_deserializer, self.request_limit(method)),
            response_serializer=handler.response_serializer,
        )


REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


class _Reflection(reflection.aio.ReflectionServicer):  # type: ignore[misc]
    """grpcio-reflection's servicer, which also finds the file of a method (`Service.Method`): the
    descriptor pool knows only services, messages, enums and fields by name, and without this
    `grpcurl describe normreg.v1.RegistryService.CreateComment` says "not found"."""

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        reply = super()._file_containing_symbol(request, fully_qualified_name)
        service, _, method = fully_qualified_name.rpartition(".")
        if reply.HasField("error_response") and service:
            try:
                found = self._pool.FindServiceByName(service).FindMethodByName(method)
            except KeyError:
                found = None
            if found is not None:
                return super()._file_containing_symbol(request, service)
        return reply


def _serve_reflection(server: grpc.aio.Server, names: Sequence[str]) -> None:
    """Server reflection in v1 (what grpcurl and current tools ask first) and v1alpha (older tools).

    grpcio-reflection implements only v1alpha; the v1 protocol is the same messages under a new
    service name, so one servicer answers both."""
    servicer = _Reflection([*names, reflection.SERVICE_NAME, REFLECTION_V1])
    handlers = {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(name, handlers) for name in (reflection.SERVICE_NAME, REFLECTION_V1)]
    )


# Beside other processes on one port: a client's HTTP/2 connection, and every call on it, stays with
# the process that accepted it, so connections are told to reconnect every so often (GOAWAY) and
# a process that started later gets its share. Calls under way may take their time to finish.
_SHARED_PORT_OPTIONS = (
    ("grpc.max_connection_age_ms", 30_000),
    ("grpc.max_connection_age_grace_ms", 3_600_000),
)


def create_server(
    address: str,
    authenticator: Authenticator,
    domain: str,
    register: Sequence[Callable[[grpc.aio.Server], str]],
    *,
    max_concurrent_rpcs: int = 1000,
    request_limits: Mapping[str, int] | None = None,
    tls: ServerTls | None = None,
    reuse_port: bool = False,
) -> tuple[grpc.aio.Server, int]:
    """Builds a server with our interceptor, health and reflection; returns it with the bound port.

    `request_limits` maps a method's name (`CreateDocument`) to the bytes its request may weigh;
    others get DEFAULT_REQUEST_BYTES. The transport refuses anything above the largest of them
    before reading it. With `tls` the port speaks only TLS (mutual TLS when it names a client CA).
    `reuse_port`: several processes listen on the same address, the kernel spreading connections.
    """
    limits = dict(request_limits or {})
    server = grpc.aio.server(
        # Outermost first: the observer sees the code the client gets, refusals included.
        interceptors=[
            ObservingInterceptor(domain),
            EdgeInterceptor(authenticator, domain, request_limits=limits, tls=tls),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs,
        options=[
            ("grpc.max_receive_message_length", max([DEFAULT_REQUEST_BYTES, *limits.values()])),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # Without probing, a stream's receive window stays at HTTP/2's 64 KiB instead of growing to
            # megabytes: a caller cannot park much more than a request's limit in our buffers.
            ("grpc.http2.bdp_probe", 0),
            ("grpc.so_reuseport", 1 if reuse_port else 0),
            *_SHARED_PORT_OPTIONS * reuse_port,
        ],
    )
    names = [add(server) for add in register]
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    _serve_reflection(server, [*names, health.SERVICE_NAME])
    port = server.add_secure_port(address, grpc_server_credentials(tls)) if tls else server.add_insecure_port(address)
    if port == 0:
        raise RuntimeError(f"could not bind {address}")
    server.health_servicer = health_servicer
    server.service_names = names
    return server, port


async def mark_serving(server: grpc.aio.Server) -> None:
    health_servicer: health.aio.HealthServicer = server.health_servicer
    for name in [*server.service_names, ""]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


async def mark_not_serving(server: grpc.aio.Server) -> None:
    health_servicer: health.aio.HealthServicer = server.health_servicer
    await health_servicer.enter_graceful_shutdown()


def install_signal_handlers(stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stop`, and from then on the process has `stopping.STOP.limit_s` to exit."""
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stopping.arm()
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal)
