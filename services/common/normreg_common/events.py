"""The event envelope: CloudEvents 1.0 attributes in structured JSON mode, plus a per-stream sequence.

A consumer drops an event whose `sequence` is not above the last one it applied for that `subject`,
so duplicates and stale copies change nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DOCUMENTS_TOPIC = "normreg.documents"
REVIEWS_TOPIC = "normreg.reviews"
# What a recipient tells senders about their filings (the filing review service).
FILINGS_TOPIC = "normreg.filings"

REGISTRY_SOURCE = "/normreg/registry"
REVIEW_SOURCE = "/normreg/review"
FILING_SOURCE = "/normreg/filing"


class CloudEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    # The stream the event belongs to, e.g. documents/{id}; also the partition key.
    subject: str
    time: dt.datetime
    datacontenttype: str = "application/json"
    # The protobuf message `data` is (in the proto3 JSON mapping), as a type URL; see event_data.py.
    dataschema: str | None = None
    # Position of the event in its subject's stream, from 1, without gaps.
    sequence: int = Field(ge=1)
    data: dict[str, Any]
    # Extension attributes (CloudEvents' distributed tracing extension): the W3C trace context of
    # the request that wrote the event, so its consumers continue that trace. Absent when not tracing.
    traceparent: str | None = None
    tracestate: str | None = None
    # Extension attribute: the registry's signed checkpoint of the subject's history after this
    # event (normreg_common.checkpoints), kept by witnesses outside the registry.
    checkpoint: str | None = None
    # Extension attributes for events that cross jurisdictions (normreg_common.federation): the
    # jurisdiction that sent it, and its Ed25519 signature over everything else in the event.
    jurisdiction: str | None = None
    jurisdictionsig: str | None = None

    def to_bytes(self) -> bytes:
        absent = {name for name in _EXTENSIONS if getattr(self, name) is None}
        return self.model_dump_json(exclude=absent or None).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEvent:
        return cls.model_validate_json(raw)


class EventHead(BaseModel):
    """An event's attributes without its data: what a consumer needs to tell an event it reads from
    one it only passes (its type) and to record either in its stream (source, subject, sequence).

    Read from the same JSON as CloudEvent, with the same checks of each attribute; `data` is stepped
    over by the JSON reader and never built into objects. A version's event is ~13 KB, nearly all of
    it data, and building that was most of what the review service spent on an event it ignores."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = "1.0"
    id: str = ""
    source: str
    type: str
    subject: str
    time: dt.datetime
    dataschema: str | None = None
    sequence: int = Field(ge=1)

    @classmethod
    def from_bytes(cls, raw: bytes) -> EventHead:
        return cls.model_validate_json(raw)


# Optional attributes, left out of the JSON when unset.
_EXTENSIONS = ("dataschema", "traceparent", "tracestate", "checkpoint", "jurisdiction", "jurisdictionsig")


def canonical_json(value: Any) -> str:
    """Stable serialisation used for hashing and comparing."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
