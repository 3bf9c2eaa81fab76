"""Runs normreg's services in-process on loopback for end-to-end tests, sharing one event log.

Background tasks are off: `pump()` moves every pending event between the services until nothing
moves, so tests are deterministic and need no sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from normreg.v1 import document_pb2 as pb
from normreg.v1 import (
    filing_review_service_pb2_grpc,
    registry_service_pb2_grpc,
    review_service_pb2_grpc,
    search_service_pb2_grpc,
)
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.auth import Authenticator, TokenCodec
from normreg_common.clock import Clock
from normreg_common.eventlog.port import EventLog
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.settings import Settings

from tests.conftest import TEST_KEY

STUBS = {
    "registry": registry_service_pb2_grpc.RegistryServiceStub,
    "review": review_service_pb2_grpc.ReviewServiceStub,
    "search": search_service_pb2_grpc.SearchServiceStub,
    "filing": filing_review_service_pb2_grpc.FilingReviewServiceStub,
}


class Stub:
    """A stub whose calls carry a bearer token and a deadline."""

    def __init__(self, raw: Any, token: str | None, timeout: float = 20.0) -> None:
        self._raw = raw
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout

    def __getattr__(self, name: str) -> Callable[[Any], Awaitable[Any]]:
        method = getattr(self._raw, name)

        async def call(request: Any) -> Any:
            return await method(request, metadata=self._metadata, timeout=self._timeout)

        return call


def one_version(
    request_id: str,
    kind: pb.DocumentKind.ValueType,
    issuing_body: str,
    title: str,
    state: pb.VersionState.ValueType,
    promulgated: dt.date | str,
    effective: dt.date | str | None = None,
    *,
    body: str = "第一条 为了测试，制定本办法。",
) -> rpb.ImportDocumentRequest:
    """A document to import as it stands in one version (dates as `dt.date` or ISO text)."""
    version = rpb.ImportedVersion(
        title=title, body=body, state=state, promulgation_date=day(promulgated), effective_date=day(effective)
    )
    return rpb.ImportDocumentRequest(request_id=request_id, kind=kind, issuing_body=issuing_body, versions=[version])


class System:
    def __init__(
        self,
        data_dir: Path,
        clock: Clock,
        *,
        services: Sequence[str] = ("registry", "review", "search"),
        event_log: EventLog | None = None,
        settings: dict[str, Any] | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        """`authenticator` replaces the test signing key's (an OpenID provider's keys, for instance)."""
        self.settings = Settings(
            data_dir=data_dir,
            registry_addr="127.0.0.1:0",
            review_addr="127.0.0.1:0",
            search_addr="127.0.0.1:0",
            filing_addr="127.0.0.1:0",
            jwt_key=TEST_KEY,
            **(settings or {}),
        )
        self.clock = clock
        self.codec = TokenCodec(TEST_KEY)
        self.authenticator: Authenticator = authenticator or self.codec
        self.event_log = event_log or SqliteEventLog(data_dir / "eventlog.db")
        self.names = list(services)
        self.apps: dict[str, Any] = {}
        # A real broker delivers asynchronously: "nothing moved" must hold for several rounds, with
        # a pause between them, before the system counts as settled. The embedded log is synchronous.
        self.quiet_rounds = 1
        self.pause_s = 0.0
        self._channels: list[grpc.aio.Channel] = []

    async def start(self) -> None:
        await self.event_log.start()
        for name in self.names:
            bootstrap = importlib.import_module(f"normreg_{name}.bootstrap")
            app = await bootstrap.create_app(
                self.settings, clock=self.clock, event_log=self.event_log, background=False, codec=self.authenticator
            )
            await app.start()
            self.apps[name] = app

    async def pump(self, rounds: int = 200) -> int:
        """Relay outboxes and consume logs until `quiet_rounds` rounds in a row move nothing."""
        total = 0
        quiet = 0
        for _ in range(rounds):
            moved = 0
            for name in self.names:
                moved += await self.apps[name].sync()
            total += moved
            quiet = quiet + 1 if moved == 0 else 0
            if quiet >= self.quiet_rounds:
                return total
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
        raise AssertionError("events kept moving after many rounds: a feedback loop?")

    def stub(self, service: str, token: str | None = None) -> Stub:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.apps[service].port}")
        self._channels.append(channel)
        return Stub(STUBS[service](channel), token)

    def token(self, subject: str, *roles: str, org: str = "") -> str:
        return self.codec.issue(subject, list(roles), org)

    async def stop(self) -> None:
        for channel in self._channels:
            await channel.close()
        for app in reversed(list(self.apps.values())):
            await app.stop(0)
        await self.event_log.close()


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason carried in the google.rpc.Status details."""
    status = rpc_status.from_call(error)
    assert status is not None, f"no rich status in {error}"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    raise AssertionError(f"no ErrorInfo in {error}")


def field_violations(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    assert status is not None
    fields: list[str] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields.extend(v.field for v in bad.field_violations)
    return fields
