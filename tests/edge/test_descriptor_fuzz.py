"""Every RPC of every service, called with requests built from the protobuf descriptors and with raw
wire bytes, by the public, by each role and with tokens whose claims do not fit: no answer may be
INTERNAL or UNKNOWN. The number of calls is bounded (CALLS_PER_METHOD) and the seed fixed, so a
failure reproduces."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
import pkgutil
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import jwt
import normreg.v1 as normreg_v1
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor, ServiceDescriptor
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common import auth
from normreg_common.clock import FakeClock

from tests.conftest import TEST_KEY
from tests.harness import System, one_version

CALLS_PER_METHOD = 40
FORBIDDEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


def declared_services() -> dict[str, ServiceDescriptor]:
    """Every service any normreg.v1 .proto declares (each generated module imported)."""
    found: dict[str, ServiceDescriptor] = {}
    for info in pkgutil.iter_modules(normreg_v1.__path__):
        if info.name.endswith("_pb2"):
            module = importlib.import_module(f"normreg.v1.{info.name}")
            found.update({s.full_name: s for s in module.DESCRIPTOR.services_by_name.values()})
    return found


SERVICES = declared_services()


async def served(address: str) -> list[str]:
    """The normreg services a server says it serves (server reflection)."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        names: list[str] = []
        async for reply in stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
        ):
            names += [s.name for s in reply.list_services_response.service]
    return [n for n in names if n.startswith("normreg.")]


async def every_method(system: System) -> AsyncIterator[tuple[MethodDescriptor, Callable[..., Any]]]:
    """Each method of each normreg service the running system serves, with a call taking raw bytes."""
    for app in system.apps.values():
        address = f"127.0.0.1:{app.port}"
        async with grpc.aio.insecure_channel(address) as channel:
            for service in [SERVICES[name] for name in await served(address)]:
                for method in service.methods:
                    yield method, channel.unary_unary(f"/{service.full_name}/{method.name}")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _strings(names: list[str]) -> dict[str, list[str]]:
    """Values a string field may get, by the kind of field: real names, forged tokens, dates at and
    past every bound, invisible and control characters, long text."""
    forged = [
        _b64("v1:" + "9" * 30),
        _b64("v1:é"),
        _b64("v1:-1"),
        _b64(json.dumps({"after": 2**63, "filters": ""})),
        _b64(json.dumps({"after": "x", "filters": None})),
        "p1." + _b64(json.dumps({"o": 10**30, "f": ""})),
        "p1." + _b64(json.dumps({"o": -1, "f": None})),
        "%%%",
        "",
    ]
    dates = ["9999-12-31", "9999-12-30", "0001-01-01", "1949-09-30", "2200-12-31", "2201-01-01", "2026-02-30"]
    odd = [
        "赤峰市\u200b人民政府",
        "\u202e规政赤",
        "a\x00b",
        "\ud7ff\ufffe",
        "x" * 70_000,
        "规" * 3000,
        "documents/",
        "documents/../x",
        "reviews/" + "9" * 40,
        "documents/x/versions/99999",
        "documents/x/versions/1/comments/" + "9" * 30,
        "title,body,etag",
    ]
    anything = names + forged + dates + odd
    return {"name": names + odd[6:], "page_token": forged, "date": dates, "": anything}


def _pool_of(field: FieldDescriptor) -> str:
    if field.name in ("name", "parent", "document", "evaluation", "campaign", "sender") or field.name.endswith("_name"):
        return "name"
    if field.name == "page_token":
        return "page_token"
    if field.name.endswith("date") or field.name in ("valid_on",):
        return "date"
    return ""


INTS = [0, 1, -1, 7, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)]
UINTS = [0, 1, 2**32 - 1, 2**64 - 1]


class Generator:
    def __init__(self, rng: random.Random, strings: dict[str, list[str]]) -> None:
        self._rng = rng
        self._strings = strings

    def message(self, descriptor: Descriptor, depth: int = 0) -> Any:
        cls = message_factory.GetMessageClass(descriptor)
        msg = cls()
        for field in descriptor.fields:
            if self._rng.random() < 0.2:
                continue
            if field.is_repeated:
                if field.message_type is not None and field.message_type.GetOptions().map_entry:
                    continue
                for _ in range(self._rng.randint(0, 3)):
                    if field.type == FieldDescriptor.TYPE_MESSAGE:
                        if depth < 3:
                            getattr(msg, field.name).add().CopyFrom(self.message(field.message_type, depth + 1))
                    else:
                        getattr(msg, field.name).append(self.scalar(field))
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                if depth < 3:
                    getattr(msg, field.name).CopyFrom(self.message(field.message_type, depth + 1))
            else:
                setattr(msg, field.name, self.scalar(field))
        return msg

    def scalar(self, field: FieldDescriptor) -> Any:
        t = field.type
        if t == FieldDescriptor.TYPE_STRING:
            pool = self._strings[_pool_of(field)] if self._rng.random() < 0.8 else self._strings[""]
            return self._rng.choice(pool)
        if t == FieldDescriptor.TYPE_BYTES:
            return self._rng.randbytes(self._rng.randint(0, 40))
        if t == FieldDescriptor.TYPE_BOOL:
            return self._rng.random() < 0.5
        if t == FieldDescriptor.TYPE_ENUM:
            values = [v.number for v in field.enum_type.values]
            return self._rng.choice([*values, 999, -5])
        if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return self._rng.choice([0.0, -1.0, 1e308, float("nan")])
        if t in (FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_FIXED32):
            return self._rng.choice(UINTS[:3])
        if t in (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64):
            return self._rng.choice(UINTS)
        if t in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32):
            return self._rng.choice([*INTS[:6], 3])
        return self._rng.choice(INTS)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def raw_requests(method: MethodDescriptor, rng: random.Random) -> list[bytes]:
    """Wire bytes no message parser accepts as this method's request, or only barely."""
    out = [b"\xff\xff\xff", rng.randbytes(64), b"\x0a\x80"]
    for field in method.input_type.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            payload = b"\xc3\x28\xff"  # invalid UTF-8
            out.append(_varint(field.number << 3 | 2) + _varint(len(payload)) + payload)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            payload = b"\xff\xff"
            out.append(_varint(field.number << 3 | 2) + _varint(len(payload)) + payload)
    return out


def bad_claims_tokens() -> list[str]:
    now = dt.datetime.now(dt.UTC)
    base = {"iss": auth.ISSUER, "sub": "mallory", "iat": now, "exp": now + dt.timedelta(hours=1)}
    variants: list[dict[str, Any]] = [
        {"org": None, "roles": ["drafter"]},
        {"roles": None},
        {"roles": 7},
        {"roles": ["admin"], "org": 3},
        {"sub": "\u200b"},
    ]
    return [jwt.encode({**base, **v}, TEST_KEY, algorithm=auth.ALGORITHM) for v in variants]


@pytest.fixture(params=["embedded", "postgres"])
async def system(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    """On the embedded stores and on PostgreSQL, which refuses what SQLite keeps (a NUL in text, an
    index entry past a btree page, an integer past bigint): the same requests, the same answers."""
    settings: dict[str, Any] = {}
    if request.param == "postgres":
        settings = {
            "postgres_url": request.getfixturevalue("postgres_url"),
            "postgres_schema_prefix": request.getfixturevalue("postgres_schema_prefix"),
            "postgres_pool_size": 2,
        }
    s = System(tmp_path, clock, services=("registry", "review", "search", "filing"), settings=settings)
    await s.start()
    yield s
    await s.stop()


async def _seed(s: System) -> list[str]:
    """A few real documents, so that generated names reach the rules and not only NOT_FOUND."""
    drafter = s.stub("registry", s.token("alice", "drafter", org="市城管局"))
    names = []
    for title in ("赤峰市共享单车停放管理办法", "赤峰市城市绿化管理办法"):
        doc = await drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                title=title,
                body="第一条 为了规范管理，制定本办法。",
                issuing_body="赤峰市人民政府",
                number_prefix="赤政规",
            )
        )
        names += [doc.name, f"{doc.name}/versions/1", f"{doc.name}/versions/1/comments/1", f"{doc.name}/evaluations/1"]
    # A text in force: a review suggestion is about one, never a draft.
    registrar = s.stub("registry", s.token("zhao", "registrar", org="市政府办"))
    in_force = await registrar.ImportDocument(
        one_version(
            "seed-in-force",
            pb.DOCUMENT_KIND_GOVERNMENT_RULE,
            "赤峰市人民政府",
            "赤峰市城市供水管理办法",
            pb.VERSION_STATE_IN_FORCE,
            "2020-01-01",
        )
    )
    names += [in_force.name, f"{in_force.name}/versions/1"]
    await s.pump()
    filing = s.stub("filing")
    suggestion = await filing.SubmitReviewSuggestion(
        fpb.SubmitReviewSuggestionRequest(
            review_suggestion=fpb.ReviewSuggestion(document=in_force.name, reasons="与上位法抵触", contact="a@b.cn")
        )
    )
    return [
        *names,
        "赤峰市人民政府",
        "赤政规〔2026〕1号",
        "reviews/1",
        "2026-03-02",
        "2026-04-30",
        suggestion.name,
        "receivedFilings/0123456789abcdef",
        "chifeng",
    ]


def _callers(s: System) -> list[tuple[tuple[str, str], ...]]:
    tokens = [
        s.token("alice", "drafter", org="市城管局"),
        s.token("reg", "registrar", org="政府办"),
        s.token("rita", "reviewer", org="司法局"),
        s.token("root", "admin"),
        s.token("sam", "secretary", "evaluator", org="政府办"),
        *bad_claims_tokens(),
    ]
    return [(), *((("authorization", f"Bearer {t}"),) for t in tokens)]


async def test_no_request_from_the_descriptors_or_raw_bytes_gets_internal_or_unknown(system: System) -> None:
    rng = random.Random(12)
    strings = _strings(await _seed(system))
    generator = Generator(rng, strings)
    callers = _callers(system)
    failures: list[str] = []
    calls = 0
    fuzzed: set[str] = set()
    for app in system.apps.values():
        address = f"127.0.0.1:{app.port}"
        channel = grpc.aio.insecure_channel(address, options=[("grpc.max_send_message_length", 16 * 1024 * 1024)])
        try:
            for service in [SERVICES[name] for name in await served(address)]:
                fuzzed.add(service.full_name)
                for method in service.methods:
                    path = f"/{service.full_name}/{method.name}"
                    call: Callable[..., Any] = channel.unary_unary(path)  # raw bytes in, raw bytes out
                    requests = [
                        generator.message(method.input_type).SerializeToString() for _ in range(CALLS_PER_METHOD)
                    ]
                    requests += raw_requests(method, rng)
                    for i, request in enumerate(requests):
                        calls += 1
                        try:
                            await call(request, metadata=callers[i % len(callers)], timeout=30)
                        except grpc.aio.AioRpcError as error:
                            if error.code() in FORBIDDEN:
                                failures.append(f"{method.name} #{i}: {error.code().name} {error.details()}")
                    await system.pump()
        finally:
            await channel.close()
    # Every service any .proto declares was served by one of the running services, and fuzzed.
    assert fuzzed == set(SERVICES), (
        f"declared in a .proto but served by none of the services this test starts: {set(SERVICES) - fuzzed}; "
        "start the service that serves it in the `system` fixture so that it is fuzzed too"
    )
    assert calls >= 36 * CALLS_PER_METHOD
    assert failures == [], "\n".join(failures[:40])


def test_every_proto_of_the_api_is_among_those_fuzzed() -> None:
    """A service or method added to a .proto is fuzzed without anyone remembering to add it here."""
    files = {p.stem for p in Path(normreg_v1.__path__[0]).glob("*_service_pb2.py")}
    assert {"registry_service_pb2", "review_service_pb2", "search_service_pb2"} <= files
    declared = {s.full_name for s in SERVICES.values()}
    assert len(declared) >= len(files)
    assert sum(len(s.methods) for s in SERVICES.values()) >= 36


# What one store keeps and the other refuses, in any text field: a NUL (PostgreSQL refuses it in text),
# a control character, and a value far past any bound (a btree entry holds ~2.7 KB).
EDGE_TEXTS = ["a\x00b", "\x00", "\x07", "长" * 5000]


def _string_paths(descriptor: Descriptor, prefix: tuple[str, ...] = (), depth: int = 0) -> list[tuple[str, ...]]:
    """Every singular string field of a request, and of the messages it holds (two levels down)."""
    out: list[tuple[str, ...]] = []
    for field in descriptor.fields:
        if field.is_repeated:
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            out.append((*prefix, field.name))
        elif field.type == FieldDescriptor.TYPE_MESSAGE and depth < 2:
            out += _string_paths(field.message_type, (*prefix, field.name), depth + 1)
    return out


def _with_text(descriptor: Descriptor, path: tuple[str, ...], value: str) -> bytes:
    msg = message_factory.GetMessageClass(descriptor)()
    target = msg
    for name in path[:-1]:
        target = getattr(target, name)
    setattr(target, path[-1], value)
    return bytes(msg.SerializeToString())


async def test_every_text_field_with_what_one_store_refuses_is_never_internal(system: System) -> None:
    """Each text field of each request, alone, holding a NUL, a control character or 5,000 characters,
    by the public and by an administrator: an answer or a refusal, never INTERNAL (a NUL in a list's
    filter reached PostgreSQL, which refused it: INTERNAL)."""
    await _seed(system)
    callers = [(), (("authorization", f"Bearer {system.token('root', 'admin', org='政府办')}"),)]
    failures: list[str] = []
    fields = 0
    async for method, call in every_method(system):
        for path in _string_paths(method.input_type):
            fields += 1
            for value in EDGE_TEXTS:
                for caller in callers:
                    try:
                        await call(_with_text(method.input_type, path, value), metadata=caller, timeout=30)
                    except grpc.aio.AioRpcError as error:
                        if error.code() in FORBIDDEN:
                            failures.append(f"{method.name} {'.'.join(path)}={value[:3]!r}: {error.details()}")
        await system.pump()
    assert fields >= 100
    assert failures == [], "\n".join(failures[:40])
