"""Reading proto3 JSON (as a dict) into a message: json_format.ParseDict's result, faster for the plain
JSON this project's producers write.

json_format reads a field at a time in Python, through several layers per field: an event's
snapshot (some sixty fields) cost a search consumer about a quarter of a millisecond, on every event
of every version. Here a dict whose keys are the fields' own names and whose values already have the
fields' types (str, int, bool, nested objects, lists of them, RFC 3339 timestamps) is set field by
field directly. Anything else — a JSON name (camelCase), null, a number written as a string or a
float, bytes, enums, maps, oneofs, other well-known types, an extension — is left to json_format for
the whole message, so what is accepted, what is refused and how are exactly as before.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

_TIMESTAMP = "google.protobuf.Timestamp"
_SCALAR_TYPES: dict[int, type] = {
    descriptor.FieldDescriptor.TYPE_STRING: str,
    descriptor.FieldDescriptor.TYPE_BOOL: bool,
    descriptor.FieldDescriptor.TYPE_INT32: int,
    descriptor.FieldDescriptor.TYPE_INT64: int,
    descriptor.FieldDescriptor.TYPE_UINT32: int,
    descriptor.FieldDescriptor.TYPE_UINT64: int,
    descriptor.FieldDescriptor.TYPE_SINT32: int,
    descriptor.FieldDescriptor.TYPE_SINT64: int,
    descriptor.FieldDescriptor.TYPE_FIXED32: int,
    descriptor.FieldDescriptor.TYPE_FIXED64: int,
    descriptor.FieldDescriptor.TYPE_SFIXED32: int,
    descriptor.FieldDescriptor.TYPE_SFIXED64: int,
}
# Far below json_format's own limit (100): deeper data is json_format's to judge.
_MAX_DEPTH = 32


class _NotPlain(Exception):
    """The data holds something only json_format may decide on."""


def parse_dict(data: Any, message: M, *, ignore_unknown_fields: bool = False) -> M:
    """`json_format.ParseDict(data, message, ignore_unknown_fields=...)` for a fresh `message`."""
    try:
        _fill(data, message, ignore_unknown_fields, 0)
    except (_NotPlain, ValueError, TypeError):
        message.Clear()
        return json_format.ParseDict(data, message, ignore_unknown_fields=ignore_unknown_fields)
    return message


def _fill(data: Any, message: Message, ignore_unknown: bool, depth: int) -> None:
    if type(data) is not dict or depth > _MAX_DEPTH:
        raise _NotPlain
    desc = message.DESCRIPTOR
    fields = desc.fields_by_name
    by_json = _json_names(desc)
    for key, value in data.items():
        field = fields.get(key)
        if field is None or by_json.get(key, field) is not field:
            # json_format looks a key up by JSON name first, then tries extensions ([...]).
            if key in by_json or key.startswith("[") or not ignore_unknown:
                raise _NotPlain
            continue
        if value is None or field.containing_oneof is not None:
            raise _NotPlain
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry:
                raise _NotPlain
            if field.is_repeated:
                if type(value) is not list:
                    raise _NotPlain
                repeated = getattr(message, key)
                for item in value:
                    _fill_message(item, repeated.add(), ignore_unknown, depth + 1)
            else:
                sub = getattr(message, key)
                sub.SetInParent()
                _fill_message(value, sub, ignore_unknown, depth + 1)
            continue
        expected = _SCALAR_TYPES.get(field.type)
        if expected is None:
            raise _NotPlain
        if field.is_repeated:
            if type(value) is not list or any(type(item) is not expected for item in value):
                raise _NotPlain
            if expected is str:
                for text in value:
                    _plain_text(text)
            getattr(message, key).extend(value)
            continue
        if type(value) is not expected:
            raise _NotPlain
        if isinstance(value, str):
            _plain_text(value)
        setattr(message, key, value)


@functools.cache
def _json_names(desc: descriptor.Descriptor) -> dict[str, descriptor.FieldDescriptor]:
    return {f.json_name: f for f in desc.fields}


def _fill_message(value: Any, message: Message, ignore_unknown: bool, depth: int) -> None:
    name = message.DESCRIPTOR.full_name
    if name == _TIMESTAMP:
        if type(value) is not str:
            raise _NotPlain
        message.FromJsonString(value)  # type: ignore[attr-defined]  # as json_format reads one
    elif name.startswith("google.protobuf."):
        raise _NotPlain  # wrappers, Struct, Value, Any, Duration, FieldMask: their own JSON forms
    else:
        _fill(value, message, ignore_unknown, depth)


def _plain_text(value: str) -> None:
    """json_format refuses a text with an unpaired surrogate; a text without any is plain."""
    if not value.isascii():
        value.encode()  # UnicodeEncodeError (a ValueError) on any surrogate: json_format decides
