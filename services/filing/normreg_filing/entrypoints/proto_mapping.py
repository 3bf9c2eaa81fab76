"""Between the filing review domain and the generated protobuf messages. What a caller may see is
decided before this (domain/access.py); the one field mapped by who asks is a suggestion's contact."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2
from normreg.v1 import document_pb2
from normreg.v1 import filing_review_service_pb2 as pb
from normreg_common import proto_dates

from normreg_filing.domain import access
from normreg_filing.domain.lifecycle import FilingState, Outcome
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import MissingFiling, SubordinateReport

_STATE_TO_PROTO = {
    FilingState.RECEIVED: pb.RECEIVED_FILING_STATE_RECEIVED,
    FilingState.MATERIALS_REQUESTED: pb.RECEIVED_FILING_STATE_MATERIALS_REQUESTED,
    FilingState.REGISTERED: pb.RECEIVED_FILING_STATE_REGISTERED,
    FilingState.CORRECTION_REQUIRED: pb.RECEIVED_FILING_STATE_CORRECTION_REQUIRED,
    FilingState.ACCEPTED: pb.RECEIVED_FILING_STATE_ACCEPTED,
    FilingState.REVOKED: pb.RECEIVED_FILING_STATE_REVOKED,
}
_STATE_FROM_PROTO: dict[int, FilingState] = {int(v): k for k, v in _STATE_TO_PROTO.items()}
_OUTCOME_TO_PROTO = {
    Outcome.ACCEPTED: pb.FILING_REVIEW_OUTCOME_ACCEPTED,
    Outcome.CORRECTION_REQUIRED: pb.FILING_REVIEW_OUTCOME_CORRECTION_REQUIRED,
    Outcome.REVOKED: pb.FILING_REVIEW_OUTCOME_REVOKED,
}
_OUTCOME_FROM_PROTO: dict[int, Outcome] = {int(v): k for k, v in _OUTCOME_TO_PROTO.items()}
_REQUESTER_FROM_PROTO = {
    pb.REQUESTER_KIND_UNSPECIFIED: "citizen",
    pb.REQUESTER_KIND_CITIZEN: "citizen",
    pb.REQUESTER_KIND_ORGANISATION: "organisation",
    pb.REQUESTER_KIND_STATE_BODY: "state_body",
}
_REQUESTER_TO_PROTO = {
    "citizen": pb.REQUESTER_KIND_CITIZEN,
    "organisation": pb.REQUESTER_KIND_ORGANISATION,
    "state_body": pb.REQUESTER_KIND_STATE_BODY,
}


def state_filter(value: int) -> FilingState | int | None:
    """None for no filter; an unknown number is passed on for validation to refuse."""
    if value == pb.RECEIVED_FILING_STATE_UNSPECIFIED:
        return None
    return _STATE_FROM_PROTO.get(value, value)


def outcome(value: int) -> Outcome | int | None:
    """UNSPECIFIED becomes None and an unknown number stays a number: validation refuses both."""
    if value == pb.FILING_REVIEW_OUTCOME_UNSPECIFIED:
        return None
    return _OUTCOME_FROM_PROTO.get(value, value)


def requester_kind(value: int) -> str | int:
    return _REQUESTER_FROM_PROTO.get(value, value)  # type: ignore[call-overload, no-any-return]


def missing_status(value: int) -> bool | int | None:
    """The `overdue` filter of a missing-filings listing: None for both."""
    if value == pb.MISSING_FILING_STATUS_UNSPECIFIED:
        return None
    if value == pb.MISSING_FILING_STATUS_BEFORE_DEADLINE:
        return False
    if value == pb.MISSING_FILING_STATUS_AFTER_DEADLINE:
        return True
    return value


def _date(day: dt.date | None) -> date_pb2.Date | None:
    return proto_dates.to_pb(day) if day is not None else None


def _kind(kind: str) -> int:
    name = f"DOCUMENT_KIND_{kind}"
    return document_pb2.DocumentKind.Value(name) if name in document_pb2.DocumentKind.DESCRIPTOR.values_by_name else 0


def received_filing(f: ReceivedFiling, today: dt.date) -> pb.ReceivedFiling:
    receive_time = Timestamp()
    receive_time.FromDatetime(f.received_at.astimezone(dt.UTC))
    outcome = Outcome(f.outcome) if f.outcome else None
    return pb.ReceivedFiling(
        name=f.name,
        sender=f.sender,
        issuing_body=f.issuing_body,
        document=f.document,
        title=f.title,
        kind=_kind(f.kind),  # type: ignore[arg-type]
        uniform_number=f.uniform_number,
        recipient=f.recipient,
        promulgation_date=_date(f.promulgation_date),
        filing_due_date=_date(f.due_date),
        filed_date=_date(f.filed_date),
        on_time=f.on_time,
        materials=document_pb2.FilingMaterials(**{m: bool(f.materials.get(m)) for m in f.materials}),
        complete_on_arrival=f.complete_on_arrival,
        state=_STATE_TO_PROTO[f.state],
        receive_time=receive_time,
        registered_date=_date(f.registered_on),
        review_due=_date(f.review_due),
        materials_requested=list(f.materials_requested),
        completion_due=_date(f.completion_due),
        outcome=_OUTCOME_TO_PROTO[outcome] if outcome else pb.FILING_REVIEW_OUTCOME_UNSPECIFIED,
        decided_date=_date(f.decided_on),
        reasons=f.reasons,
        provisions=list(f.provisions),
        correction_due=_date(f.correction_due),
        correction_required_once=f.ever_corrected,
        correction_responses=list(f.responses),
        internal_notes=list(f.internal_notes),
        overdue=access.overdue(f, today),
        etag=access.etag(f),
    )


def review_suggestion(s: ReviewSuggestion, today: dt.date, *, with_contact: bool) -> pb.ReviewSuggestion:
    """`with_contact` only for the recipient's reviewers: the requester's identity is never public."""
    return pb.ReviewSuggestion(
        name=s.name,
        document=s.document,
        sender=s.sender,
        provisions=list(s.provisions),
        reasons=s.reasons,
        contact=s.contact if with_contact else "",
        requester_kind=_REQUESTER_TO_PROTO.get(s.requester_kind, pb.REQUESTER_KIND_UNSPECIFIED),
        submitted_date=_date(s.submitted_on),
        reply_due=_date(s.reply_due),
        reply=s.reply,
        replied_date=_date(s.replied_on),
        answered=s.answered,
        overdue=not s.answered and today > s.reply_due,
    )


def report(r: SubordinateReport) -> pb.SubordinateFilingReport:
    return pb.SubordinateFilingReport(
        sender=r.sender,
        year=r.year,
        required_count=r.required,
        filed_count=r.filed,
        filed_on_time_count=r.filed_on_time,
        conforming_count=r.filed_conforming,
        filing_rate=r.filing_rate,
        timeliness_rate=r.timeliness_rate,
        conformity_rate=r.conformity_rate,
        accepted_count=r.accepted,
        corrected_count=r.corrected,
        revoked_count=r.revoked,
        suggestions_received_count=r.suggestions_received,
        suggestions_answered_on_time_count=r.suggestions_answered_on_time,
    )


def missing_filing(m: MissingFiling) -> pb.MissingFiling:
    p = m.promulgation
    return pb.MissingFiling(
        sender=p.sender,
        document=p.document,
        title=p.title,
        issuing_body=p.issuing_body,
        kind=_kind(p.kind),  # type: ignore[arg-type]
        uniform_number=p.uniform_number,
        recipient=p.recipient,
        promulgation_date=_date(p.promulgation_date),
        filing_due_date=_date(p.due_date),
        status=pb.MISSING_FILING_STATUS_AFTER_DEADLINE if m.overdue else pb.MISSING_FILING_STATUS_BEFORE_DEADLINE,
    )
