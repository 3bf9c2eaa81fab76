"""Producer ↔ consumer contract of the review service's events, one test per event type: what the
review service publishes is the message its `dataschema` names, every field readable with the
published .proto alone; the registry reads `decided` into the decision it applies."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf import json_format, symbol_database
from google.protobuf.message import Message
from normreg.events.v1 import review_events_pb2 as ev
from normreg_common.event_data import TYPE_URL_PREFIX, UnreadableData, read
from normreg_common.eventlog.port import Delivery
from normreg_common.events import REVIEWS_TOPIC, CloudEvent
from normreg_registry.entrypoints.review_consumer import decode_delivery
from normreg_review.application.events import to_records
from normreg_review.domain.lifecycle import Action, Decision
from normreg_review.domain.model import Change, Review

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def review() -> Review:
    return Review(
        id="doc1-v1-r2",
        document="documents/doc1",
        version_number=1,
        review_round=2,
        revision=3,
        title="赤峰市城市绿化管理办法",
        body="第一条 为了加强城市绿化管理，制定本办法。",
        drafting_org="市城管局",
        drafters=("alice",),
        reviewing_office="司法局",
        create_time=AT,
        due_date=dt.date(2026, 3, 23),
        decision=Decision.RETURN_FOR_REVISION,
        opinion="第五条与上位法不一致",
        problems=("第五条",),
    )


def published(action: Action, actor: str, reason: str = "") -> tuple[CloudEvent, Message]:
    """The event the review service writes for `action`, and its data read by a consumer that has
    only the published descriptors: the message is found by the name in `dataschema`."""
    [record] = to_records(review(), [Change(action, 4, AT, actor, reason)])
    assert record.topic == REVIEWS_TOPIC and record.key == "documents/doc1"
    event = CloudEvent.from_bytes(record.value)
    assert event.type == f"normreg.review.v1.{action.value}"
    assert event.dataschema is not None and event.dataschema.startswith(TYPE_URL_PREFIX)
    message_class = symbol_database.Default().GetSymbol(event.dataschema.removeprefix(TYPE_URL_PREFIX))
    data = json_format.ParseDict(event.data, message_class())  # strict: no field unknown to the schema
    return event, data


REF = {
    "review": "reviews/doc1-v1-r2",
    "document": "documents/doc1",
    "version_number": 1,
    "review_round": 2,
    "revision": 3,
    "reviewing_office": "司法局",
}


def test_created_is_a_review_created_message() -> None:
    _, data = published(Action.CREATE, "alice")
    assert data == ev.ReviewCreated(
        **REF,
        title="赤峰市城市绿化管理办法",
        drafting_org="市城管局",
        requested_by="alice",
        due_date={"year": 2026, "month": 3, "day": 23},
    )


def test_claimed_is_a_review_claimed_message() -> None:
    _, data = published(Action.CLAIM, "rita")
    assert data == ev.ReviewClaimed(**REF, assignee="rita")


def test_cancelled_is_a_review_cancelled_message() -> None:
    _, data = published(Action.CANCEL, "alice", "政策调整")
    assert data == ev.ReviewCancelled(**REF, cancelled_by="alice", reason="政策调整")


def test_decided_is_a_review_decided_message_the_registry_applies() -> None:
    event, data = published(Action.DECIDE, "rita")
    assert data == ev.ReviewDecided(
        **REF, decision="RETURN_FOR_REVISION", reviewer="rita", opinion="第五条与上位法不一致", problems=["第五条"]
    )
    decision = decode_delivery(Delivery(REVIEWS_TOPIC, 0, 7, "documents/doc1", event.to_bytes()))
    assert decision is not None
    assert (decision.document_id, decision.decision, decision.version, decision.review_round, decision.review) == (
        "doc1",
        "RETURN_FOR_REVISION",
        1,
        2,
        "reviews/doc1-v1-r2",
    )
    assert (decision.subject, decision.sequence, decision.at) == ("reviews/doc1-v1-r2", 4, AT)


def test_a_decided_event_written_before_payloads_had_a_schema_still_reads() -> None:
    event, _ = published(Action.DECIDE, "rita")
    older = CloudEvent.model_validate(event.model_dump() | {"dataschema": None})
    assert read(older, ev.ReviewDecided).decision == "RETURN_FOR_REVISION"


def test_data_that_is_not_the_named_message_is_refused() -> None:
    event, _ = published(Action.DECIDE, "rita")
    with pytest.raises(UnreadableData):
        read(CloudEvent.model_validate(event.model_dump() | {"data": {"version_number": "one"}}), ev.ReviewDecided)
    with pytest.raises(UnreadableData):
        read(event, ev.ReviewClaimed)
