"""Between the domain and the generated protobuf messages. Generated code is used as it is."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from normreg.v1 import review_service_pb2 as pb
from normreg_common import proto_dates

from normreg_review.domain.lifecycle import Decision, ReviewState
from normreg_review.domain.model import Review

_STATE_TO_PROTO = {
    ReviewState.OPEN: pb.REVIEW_STATE_OPEN,
    ReviewState.CLAIMED: pb.REVIEW_STATE_CLAIMED,
    ReviewState.DECIDED: pb.REVIEW_STATE_DECIDED,
    ReviewState.CANCELLED: pb.REVIEW_STATE_CANCELLED,
}
_STATE_FROM_PROTO: dict[int, ReviewState] = {int(v): k for k, v in _STATE_TO_PROTO.items()}
_DECISION_TO_PROTO = {
    Decision.APPROVE: pb.REVIEW_DECISION_APPROVE,
    Decision.RETURN_FOR_REVISION: pb.REVIEW_DECISION_RETURN_FOR_REVISION,
    Decision.REJECT: pb.REVIEW_DECISION_REJECT,
}
_DECISION_FROM_PROTO: dict[int, Decision] = {int(v): k for k, v in _DECISION_TO_PROTO.items()}


def state_filter(value: int) -> ReviewState | int | None:
    """None for no filter; an unknown number is passed on for validation to refuse."""
    if value == pb.REVIEW_STATE_UNSPECIFIED:
        return None
    return _STATE_FROM_PROTO.get(value, value)


def decision(value: int) -> Decision | int | None:
    """UNSPECIFIED becomes None and an unknown number stays a number: validation refuses both."""
    if value == pb.REVIEW_DECISION_UNSPECIFIED:
        return None
    return _DECISION_FROM_PROTO.get(value, value)


def _timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def to_proto(review: Review, today: dt.date) -> pb.Review:
    out = pb.Review(
        name=review.name,
        document=review.document,
        version_number=review.version_number,
        revision=review.revision,
        title=review.title,
        body=review.body,
        drafting_org=review.drafting_org,
        reviewing_office=review.reviewing_office,
        state=_STATE_TO_PROTO[review.state],
        assignee=review.assignee,
        decision=_DECISION_TO_PROTO[review.decision] if review.decision else pb.REVIEW_DECISION_UNSPECIFIED,
        opinion=review.opinion,
        problems=list(review.problems),
        create_time=_timestamp(review.create_time),
        overdue=review.is_overdue(today),
        decide_time=_timestamp(review.decide_time),
        etag=review.etag,
    )
    proto_dates.fill(out, "due_date", review.due_date)
    return out
