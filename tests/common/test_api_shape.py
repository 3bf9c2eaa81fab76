"""Rules of the published API that every new method and field must keep: each RPC says what it
refuses, each request field says its behaviour, and calendar dates are google.type.Date."""

from __future__ import annotations

import re
from pathlib import Path

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from normreg.v1 import (
    dead_letter_service_pb2,
    registry_service_pb2,
    review_service_pb2,
    search_service_pb2,
)

PROTOS = Path(__file__).resolve().parents[2] / "protos" / "normreg" / "v1"
FILES = [registry_service_pb2, review_service_pb2, search_service_pb2, dead_letter_service_pb2]
RPC = re.compile(r"((?:^[ \t]*//[^\n]*\n)*)^[ \t]*rpc (\w+)\(", re.MULTILINE)


def test_every_rpc_says_what_it_refuses() -> None:
    silent = []
    for path in sorted(PROTOS.glob("*_service.proto")):
        for comment, name in RPC.findall(path.read_text()):
            if "Refuses" not in comment and "Deprecated" not in comment:
                silent.append(f"{path.name}: {name}")
    assert silent == []


def _requests() -> list[Descriptor]:
    out = []
    for module in FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            out += [method.input_type for method in service.methods]
    return out


def test_every_request_field_has_a_field_behavior() -> None:
    bare = [
        f"{message.full_name}.{field.name}"
        for message in _requests()
        for field in message.fields
        if not field.GetOptions().deprecated
        and not list(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])
    ]
    assert bare == []


def _messages() -> list[Descriptor]:
    seen: dict[str, Descriptor] = {}
    pending = [m for module in FILES for m in module.DESCRIPTOR.message_types_by_name.values()]
    while pending:
        message = pending.pop()
        if message.full_name in seen or not message.full_name.startswith("normreg."):
            continue
        seen[message.full_name] = message
        pending += [f.message_type for f in message.fields if f.message_type is not None]
    return list(seen.values())


DATE_TYPES = {"google.type.Date", "normreg.v1.DateRange"}


def test_calendar_dates_are_google_type_date() -> None:
    dated = re.compile(r"(^|_)(date|valid_on|valid_from|valid_to)$")
    text_dates = [
        f"{message.full_name}.{field.name}"
        for message in _messages()
        for field in message.fields
        if dated.search(field.name)
        and not (field.message_type is not None and field.message_type.full_name in DATE_TYPES)
        and not (field.type == FieldDescriptor.TYPE_STRING and field.GetOptions().deprecated)
    ]
    assert text_dates == []
