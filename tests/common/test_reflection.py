"""Server reflection v1 and v1alpha: a client that knows only the server's address can describe a
method, its request message and the field behaviours, as `grpcurl describe` does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2
from normreg_common.clock import FakeClock

from tests.harness import System

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock)
    await s.start()
    yield s
    await s.stop()


async def ask(
    channel: grpc.aio.Channel, version: str, requests: list[reflection_pb2.ServerReflectionRequest]
) -> list[reflection_pb2.ServerReflectionResponse]:
    # v1 and v1alpha exchange the same messages; only the service's name differs.
    call = channel.stream_stream(
        f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return [reply async for reply in call(iter(requests), timeout=10)]


async def describe(channel: grpc.aio.Channel, version: str, symbol: str) -> descriptor_pool.DescriptorPool:
    """A descriptor pool built only from what the server sent, dependencies fetched by file name."""
    pool = descriptor_pool.DescriptorPool()
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    wanted = [reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)]
    while wanted:
        replies = await ask(channel, version, wanted)
        wanted = []
        for reply in replies:
            assert not reply.HasField("error_response"), reply.error_response
            for raw in reply.file_descriptor_response.file_descriptor_proto:
                proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
                files.setdefault(proto.name, proto)
        for proto in list(files.values()):
            wanted += [
                reflection_pb2.ServerReflectionRequest(file_by_filename=dep)
                for dep in proto.dependency
                if dep not in files
            ]
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])
        added.add(name)

    for name in files:
        add(name)
    return pool


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
@pytest.mark.parametrize(
    ("service", "method"),
    [
        ("registry", "normreg.v1.RegistryService.CreateComment"),
        ("review", "normreg.v1.ReviewService.DecideReview"),
        ("search", "normreg.v1.SearchService.SearchDocuments"),
        ("registry", "normreg.v1.DeadLetterService.RetryDeadLetter"),
    ],
)
async def test_a_method_is_described_by_reflection(system: System, version: str, service: str, method: str) -> None:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{system.apps[service].port}")
    try:
        [listing] = await ask(channel, version, [reflection_pb2.ServerReflectionRequest(list_services="")])
        names = {s.name for s in listing.list_services_response.service}
        assert {method.rsplit(".", 1)[0], "grpc.reflection.v1.ServerReflection"} <= names
        pool = await describe(channel, version, method)
    finally:
        await channel.close()
    described = pool.FindMethodByName(method)
    first = described.input_type.fields[0]
    behaviours = first.GetOptions().Extensions[field_behavior_pb2.field_behavior]
    assert described.input_type.full_name.startswith("normreg.v1.")
    assert list(behaviours), f"{described.input_type.full_name}.{first.name} has no field_behavior"


async def test_the_error_reason_catalogue_is_read_by_reflection(system: System) -> None:
    from normreg.v1 import error_reason_pb2

    channel = grpc.aio.insecure_channel(f"127.0.0.1:{system.apps['registry'].port}")
    try:
        [reply] = await ask(
            channel, "v1", [reflection_pb2.ServerReflectionRequest(file_containing_symbol="normreg.v1.ErrorReason")]
        )
    finally:
        await channel.close()
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in reply.file_descriptor_response.file_descriptor_proto
    ]
    [catalogue] = [f for f in files if f.name == "normreg/v1/error_reason.proto"]
    [reasons] = [e for e in catalogue.enum_type if e.name == "ErrorReason"]
    retry = {v.name: v.options.Extensions[error_reason_pb2.retry] for v in reasons.value}
    assert retry["LEGALITY_REVIEW_NOT_APPROVED"] == error_reason_pb2.RETRY_AFTER_CHANGE
    assert retry["ETAG_MISMATCH"] == error_reason_pb2.RETRY_AFTER_CHANGE
