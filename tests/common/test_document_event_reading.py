"""Whatever a document event's data holds, the shared reading of the published messages either
returns the message or says the data is unreadable (UnreadableData, which the consumers set aside
as a dead letter with that reason): in the published form and in the legacy snapshot form alike."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
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
                    "amends",
                    "amended_by",
                    "version_number",
                    "actor",
                    "reason",
                    "kind",
                    "issuing_body",
                    "review_round",
                    "revision",
                    "drafters",
                    "filing_recipients",
                    "materials",
                    "recipient",
                ]
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=10,
)
DATA = st.dictionaries(
    st.sampled_from(["change", "document", "version", "details", "version_number", "actor", "review_round"]),
    VALUES,
    max_size=5,
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
@given(action=ACTIONS, data=DATA, published=st.booleans())
def test_any_data_reads_as_the_message_or_is_unreadable(action: str, data: dict[str, Any], published: bool) -> None:
    e = event(action, data, published)
    try:
        common = document_events.read_common(e)
        assert common is not None
    except UnreadableData:
        pass
    cls = document_events.message_class(e.type)
    if cls is not None:
        try:
            document_events.read(e, cls)
        except UnreadableData:
            pass
