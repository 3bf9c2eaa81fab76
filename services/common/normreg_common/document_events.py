"""Reading the registry's document events with their published messages
(protos/normreg/events/v1/document_events.proto), for any consumer: the CloudEvents type
normreg.registry.v1.{action} carries normreg.events.v1.Document{Action}, and every such message
starts with the change, the document head and the version snapshot (DocumentEvent).

Events written before the messages were published carry no `dataschema` and a snapshot of the
registry's own records; for one release they are read through `legacy_document_events`, which
turns them into the same messages, so a log or topic that still holds them replays unchanged.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from normreg.events.v1 import document_events_pb2 as dev

from normreg_common import event_data, legacy_document_events, proto_json
from normreg_common.event_data import UnreadableData
from normreg_common.events import CloudEvent

TYPE_PREFIX = "normreg.registry.v1."
# Registry events on the documents topic that are not changes of a document (their own messages).
NOT_DOCUMENT_CHANGES = frozenset({TYPE_PREFIX + "comment_received"})
# The part every document event message starts with.
COMMON_FIELDS = ("change", "document", "version")

M = TypeVar("M", bound=Message)


def message_name(action: str) -> str:
    """normreg.events.v1 message name of an action: entered_into_force -> DocumentEnteredIntoForce."""
    return "Document" + "".join(part[:1].upper() + part[1:] for part in action.split("_"))


# Bounded: types come from the wire.
@functools.lru_cache(maxsize=256)
def message_class(event_type: str) -> type[Message] | None:
    """The published message of a document event type, or None when the type is not one."""
    if not event_type.startswith(TYPE_PREFIX) or event_type in NOT_DOCUMENT_CHANGES:
        return None
    name = message_name(event_type.removeprefix(TYPE_PREFIX))
    if name == "DocumentEvent" or name not in dev.DESCRIPTOR.message_types_by_name:
        return None
    cls: type[Message] = getattr(dev, name)
    return cls if has_common_fields(cls) else None


def has_common_fields(cls: type[Message]) -> bool:
    fields = cls.DESCRIPTOR.fields_by_number
    common = dev.DocumentEvent.DESCRIPTOR.fields_by_number
    return all(
        n in fields and fields[n].name == f.name and fields[n].message_type is f.message_type for n, f in common.items()
    )


def is_document_event(event: CloudEvent) -> bool:
    return event.type.startswith(TYPE_PREFIX) and event.type not in NOT_DOCUMENT_CHANGES


def read(event: CloudEvent, message: type[M]) -> M:
    """`event.data` as `message` (a document event message): the published message when the event
    names it, the legacy snapshot turned into it when the event names no schema. Raises
    UnreadableData for anything else; the consumer sets the record aside."""
    if event.dataschema is None:
        return legacy_document_events.upcast(event, message)
    return event_data.read(event, message)


def read_common(event: CloudEvent) -> dev.DocumentEvent | None:
    """The change, head and snapshot of any document event, of a type this reader knows or not;
    None for an event that is not a document change."""
    if not is_document_event(event):
        return None
    if event.dataschema is None:
        return legacy_document_events.upcast(event, dev.DocumentEvent)
    known = message_class(event.type)
    if known is not None and event.dataschema != event_data.dataschema(known):
        raise UnreadableData(f"{event.type} names the schema {event.dataschema}, not {event_data.dataschema(known)}")
    if not event.dataschema.startswith(event_data.TYPE_URL_PREFIX + dev.DESCRIPTOR.package + ".Document"):
        raise UnreadableData(f"{event.type} names the schema {event.dataschema}, not a document event message")
    data, articles = _articles_apart(event.data)
    try:
        message = proto_json.parse_dict(data, dev.DocumentEvent(), ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise UnreadableData(f"{event.type}: data is not a document event: {exc}") from None
    message.version.articles.extend(dev.DocumentArticle(label=label, text=text) for label, text in articles)
    return message


_ARTICLE_FIELDS = frozenset({"label", "text"})


def _articles_apart(data: Any) -> tuple[Any, list[tuple[str, str]]]:
    """The data without its version's articles, and the articles, when every article is plain
    strings under their field names (as the registry writes them): json_format reads a field at a
    time in Python, and a law's articles were most of the time a search consumer spent on an event.
    Anything else is left in the data for json_format to read, or refuse, as before."""
    version = data.get("version") if isinstance(data, dict) else None
    articles = version.get("articles") if isinstance(version, dict) else None
    if not isinstance(data, dict) or not isinstance(version, dict) or not isinstance(articles, list):
        return data, []
    plain: list[tuple[str, str]] = []
    for article in articles:
        if not isinstance(article, dict) or not article.keys() <= _ARTICLE_FIELDS:
            return data, []
        label, text = article.get("label", ""), article.get("text", "")
        if not isinstance(label, str) or not isinstance(text, str):
            return data, []
        plain.append((label, text))
    return {**data, "version": {k: v for k, v in version.items() if k != "articles"}}, plain
