"""An event's attributes read without its data (EventHead) are CloudEvent's: the same values from
the same JSON, and every record whose attributes CloudEvent refuses is refused too."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pydantic
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg_common.events import REGISTRY_SOURCE, CloudEvent, EventHead

from tests.conftest import SHANGHAI

ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "dataschema", "sequence")

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**65),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.sampled_from(
        [
            "2026-03-02T09:00:00+08:00",
            "2026-03-02T09:00:00Z",
            "2026-03-02",
            "not a time",
            "1",
            "documents/d1",
            "normreg.registry.v1.imported",
        ]
    ),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def an_event() -> dict[str, Any]:
    event = CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1.imported",
        subject="documents/d1",
        time=dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI),
        sequence=3,
        data={"change": {"version_number": 1}, "version": {"body": "第一条　内容" * 50}},
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    parsed: dict[str, Any] = json.loads(event.to_bytes())
    return parsed


def read(cls: type[pydantic.BaseModel], raw: bytes) -> pydantic.BaseModel | None:
    try:
        return cls.model_validate_json(raw)
    except pydantic.ValidationError:
        return None


def test_a_registry_event_reads_as_its_attributes() -> None:
    raw = json.dumps(an_event(), ensure_ascii=False).encode()
    event, head = CloudEvent.from_bytes(raw), EventHead.from_bytes(raw)
    assert {a: getattr(head, a) for a in ATTRIBUTES} == {a: getattr(event, a) for a in ATTRIBUTES}


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from([*ATTRIBUTES, "data", "traceparent", "extra"]), VALUES, max_size=3),
    dropped=st.sets(st.sampled_from(ATTRIBUTES), max_size=2),
)
def test_attributes_are_accepted_and_refused_as_the_whole_event_is(changes: dict[str, Any], dropped: set[str]) -> None:
    fields = an_event()
    for name in dropped:
        fields.pop(name, None)
    fields.update(changes)
    raw = json.dumps(fields).encode()
    event, head = read(CloudEvent, raw), read(EventHead, raw)
    if event is not None:
        assert head is not None
        # An event without an id is given a new one by CloudEvent; its head has none.
        compared = [a for a in ATTRIBUTES if a != "id" or "id" in fields]
        assert {a: getattr(head, a) for a in compared} == {a: getattr(event, a) for a in compared}
    elif "data" not in changes and "traceparent" not in changes:
        # Refused for an attribute, not for the data or an extension it does not read.
        assert head is None


def test_a_record_that_is_not_an_event_is_refused() -> None:
    for raw in (b"not json", b"[]", b"{}", b'{"type": "x"}'):
        assert read(EventHead, raw) is None
