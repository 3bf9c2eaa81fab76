"""Event payloads as published protobuf messages (protos/normreg/events/v1): a producer writes the
message as `data` (proto3 JSON, .proto field names, every field present) and names it in
`dataschema`; a consumer reads `data` with the message, so it depends on the published contract and
never on the producer's code.

`dataschema` is the message's type URL (type.googleapis.com/normreg.events.v1.ReviewDecided), the
form google.protobuf.Any uses: a reader finds the descriptor by the name after the slash.
"""

from __future__ import annotations

from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message

from normreg_common import proto_json
from normreg_common.events import CloudEvent

TYPE_URL_PREFIX = "type.googleapis.com/"

M = TypeVar("M", bound=Message)


class UnreadableData(ValueError):
    """The event's data is not the message it should be."""


def dataschema(message: type[Message] | Message) -> str:
    return TYPE_URL_PREFIX + message.DESCRIPTOR.full_name


def to_data(message: Message) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def read(event: CloudEvent, message: type[M]) -> M:
    """`event.data` as `message`. Events written before payloads had a schema carry none and are
    read the same way; an event that names another schema is refused."""
    expected = dataschema(message)
    if event.dataschema is not None and event.dataschema != expected:
        raise UnreadableData(f"{event.type} names the schema {event.dataschema}, not {expected}")
    try:
        return proto_json.parse_dict(event.data, message(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise UnreadableData(f"{event.type}: data is not a {message.DESCRIPTOR.full_name}: {exc}") from None
