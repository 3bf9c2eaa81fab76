"""Whatever a document event's data holds, the shared reading of the published messages either
returns the message or says the data is unreadable (UnreadableData, which the consumers set aside
as a dead letter with that reason): in the published form and in the legacy snapshot form alike."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events
from normreg_common.event_data import UnreadableData, dataschema
from normreg_common.events import REGISTRY_SOURCE, CloudEvent

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["2026-03-02", "2026-13-40", "2026-03-02T09:00:00+08:00", "documents/x/versions/1", ""]),
)
KEYS = st.sampled_from(
    [
        "name",
        "number",
        "state",
        "title",
        "body",
        "articles",
        "label",
        "text",
        "timeline",
        "date",
        "event",
        "promulgation",
        "promulgation_date",
        "effective_date",
        "validity_end",
        "validity_end_date",
        "year",
        "month",
        "day",
        "comment_window",
        "start",
        "end",
        "start_date",
        "end_date",
        "updated_at",
        "update_time",
        "created_at",
        "amends",
        "amended_by",
        "version_number",
        "actor",
        "reason",
        "kind",
        "issuing_body",
        "provisional",
        "version_count",
        "review_round",
        "revision",
        "drafters",
        "filing_required",
        "filing_due_date",
        "filing_recipients",
        "materials",
        "recipient",
        "refiling",
        "filed_date",
        "due_date",
        "uniform_number",
    ]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=8,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=8)
# Both forms always carry the parts their reader looks into, so every field's reading is exercised.
LEGACY = st.fixed_dictionaries(
    {"document": OBJECTS, "version": OBJECTS},
    optional={"details": OBJECTS, "version_number": VALUES, "actor": VALUES, "reason": VALUES, "from_state": VALUES},
)
SPECIFIC = "review_round revision drafters filing_required filing_due_date filing_recipients materials recipient"
PUBLISHED = st.fixed_dictionaries(
    {"change": OBJECTS, "document": OBJECTS, "version": OBJECTS},
    optional={key: VALUES for key in SPECIFIC.split()},
)
ACTIONS = st.sampled_from(["review_requested", "promulgated", "filing_recorded", "withdrawn", "added_later"])


def event(action: str, data: dict[str, Any], published: bool) -> CloudEvent:
    cls = document_events.message_class(f"normreg.registry.v1.{action}") or dev.DocumentEvent
    return CloudEvent(
        source=REGISTRY_SOURCE,
        type=f"normreg.registry.v1.{action}",
        subject="documents/x",
        time=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        sequence=1,
        dataschema=dataschema(cls) if published else None,
        data=data,
    )


@settings(max_examples=150, deadline=None)
@given(action=ACTIONS, data=st.one_of(LEGACY.map(lambda d: (False, d)), PUBLISHED.map(lambda d: (True, d))))
def test_any_data_reads_as_the_message_or_is_unreadable(action: str, data: tuple[bool, dict[str, Any]]) -> None:
    published, content = data
    e = event(action, content, published)
    with contextlib.suppress(UnreadableData):
        assert document_events.read_common(e) is not None
    cls = document_events.message_class(e.type)
    if cls is not None:
        with contextlib.suppress(UnreadableData):
            document_events.read(e, cls)


ARTICLE_VALUES = st.one_of(st.text(max_size=8), st.none(), st.integers(), st.lists(st.text(max_size=2), max_size=1))
ARTICLES = st.lists(
    st.one_of(
        st.fixed_dictionaries({"label": st.text(max_size=8), "text": st.text(max_size=20)}),
        st.dictionaries(st.sampled_from(["label", "text", "Label", "extra"]), ARTICLE_VALUES, max_size=3),
        SCALARS,
    ),
    max_size=4,
)


READABLE = st.fixed_dictionaries(
    {
        "change": st.just({"to_state": "IN_FORCE"}),
        "document": st.just({"name": "documents/x"}),
        "version": st.fixed_dictionaries({"name": st.just("documents/x/versions/1"), "title": st.text(max_size=5)}),
    }
)


@settings(max_examples=200, deadline=None)
@given(content=st.one_of(READABLE, PUBLISHED), articles=ARTICLES)
def test_a_version_s_articles_read_as_json_format_reads_them(content: dict[str, Any], articles: list[Any]) -> None:
    # The articles of the registry's events are read apart from the rest of the message (faster);
    # whatever they hold, the message is the one json_format makes of the whole data, or neither reads.
    data = {**content, "version": {**content["version"], "articles": articles}}
    try:
        expected: dev.DocumentEvent | None = json_format.ParseDict(
            data, dev.DocumentEvent(), ignore_unknown_fields=True
        )
    except json_format.ParseError:
        expected = None
    e = event("promulgated", data, published=True)
    try:
        read = document_events.read_common(e)
    except UnreadableData:
        read = None
    assert read == expected


def test_articles_keep_their_order_and_text() -> None:
    data = {
        "document": {"name": "documents/x"},
        "version": {"name": "documents/x/versions/1", "articles": [{"label": "第一条", "text": "甲"}, {"text": "乙"}]},
    }
    read = document_events.read_common(event("promulgated", data, published=True))
    assert read is not None
    assert [(a.label, a.text) for a in read.version.articles] == [("第一条", "甲"), ("", "乙")]
