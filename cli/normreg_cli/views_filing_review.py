"""How the filing review service's messages read on a terminal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from google.type import date_pb2
from normreg.v1 import filing_review_service_pb2 as fpb

from normreg_cli import dates, render
from normreg_cli.enums import KIND, MISSING_STATUS, RECEIVED_STATE, REQUESTER_KIND, REVIEW_OUTCOME
from normreg_cli.render import fields, table, timestamp, with_hint

MATERIALS = ("text", "drafting_explanation", "legal_basis", "legality_review_opinion")


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _due(date: date_pb2.Date, overdue: bool) -> str:
    text = dates.text(date)
    return text + (" (OVERDUE)" if overdue and text else "")


def received_filing(f: fpb.ReceivedFiling, tz: ZoneInfo) -> str:
    present = [m for m in MATERIALS if getattr(f.materials, m)]
    missing = [m for m in MATERIALS if not getattr(f.materials, m)]
    return fields(
        [
            ("filing", f.name),
            ("sender", f.sender),
            ("issuing body", f.issuing_body),
            ("document", f.document),
            ("title", f.title),
            ("kind", KIND.label(f.kind)),
            ("number", f.uniform_number),
            ("recipient", f.recipient),
            ("promulgated", dates.text(f.promulgation_date)),
            ("filing due", dates.text(f.filing_due_date)),
            ("filed", dates.text(f.filed_date) + ("" if f.on_time else " (LATE)")),
            ("materials", ", ".join(present) + (f"; missing {', '.join(missing)}" if missing else "")),
            ("complete on arrival", "yes" if f.complete_on_arrival else "no"),
            ("state", RECEIVED_STATE.label(f.state)),
            ("received", timestamp(f.receive_time, tz)),
            ("registered", dates.text(f.registered_date)),
            ("review due", _due(f.review_due, f.overdue and f.state == fpb.RECEIVED_FILING_STATE_REGISTERED)),
            ("materials requested", ", ".join(f.materials_requested)),
            ("completion due", _due(f.completion_due, f.overdue and bool(f.materials_requested))),
            ("outcome", REVIEW_OUTCOME.label(f.outcome)),
            ("decided", dates.text(f.decided_date)),
            ("reasons", f.reasons),
            ("provisions", ", ".join(f.provisions)),
            (
                "correction due",
                _due(f.correction_due, f.overdue and f.state == fpb.RECEIVED_FILING_STATE_CORRECTION_REQUIRED),
            ),
            ("correction answers", _bullets(list(f.correction_responses))),
            ("internal notes", _bullets(list(f.internal_notes))),
            ("etag", f.etag),
        ]
    )


def received_filings(response: fpb.ListReceivedFilingsResponse, hint: str) -> str:
    rows = [
        [
            f.name,
            f.sender,
            f.uniform_number or f.document,
            f.title,
            f.recipient,
            RECEIVED_STATE.word(f.state),
            dates.text(f.filed_date),
            "OVERDUE" if f.overdue else "",
        ]
        for f in response.received_filings
    ]
    headers = ["filing", "sender", "document", "title", "recipient", "state", "filed", "overdue"]
    return with_hint(table(headers, rows, empty="no received filings", optional=["overdue"]), hint)


def suggestion(s: fpb.ReviewSuggestion) -> str:
    return fields(
        [
            ("suggestion", s.name),
            ("document", s.document),
            ("sender", s.sender),
            ("provisions", ", ".join(s.provisions)),
            ("reasons", s.reasons),
            ("requester", REQUESTER_KIND.label(s.requester_kind)),
            ("contact", s.contact),
            ("submitted", dates.text(s.submitted_date)),
            ("reply due", _due(s.reply_due, s.overdue)),
            ("reply", s.reply),
            ("replied", dates.text(s.replied_date)),
        ]
    )


def suggestions(response: fpb.ListReviewSuggestionsResponse, hint: str) -> str:
    rows = [
        [
            s.name,
            s.sender,
            s.document,
            ", ".join(s.provisions),
            REQUESTER_KIND.word(s.requester_kind),
            s.contact,
            dates.text(s.submitted_date),
            dates.text(s.replied_date) if s.answered else ("OVERDUE" if s.overdue else "open"),
        ]
        for s in response.review_suggestions
    ]
    headers = ["suggestion", "sender", "document", "provisions", "requester", "contact", "submitted", "answered"]
    return with_hint(table(headers, rows, empty="no review suggestions"), hint)


def subordinate_report(response: fpb.GetSubordinateFilingReportResponse) -> str:
    rows = [
        [
            r.sender,
            str(r.year),
            str(r.required_count),
            str(r.filed_count),
            str(r.filed_on_time_count),
            str(r.conforming_count),
            render.percent(r.filing_rate),
            render.percent(r.timeliness_rate),
            render.percent(r.conformity_rate),
            str(r.accepted_count),
            str(r.corrected_count),
            str(r.revoked_count),
            str(r.suggestions_received_count),
            str(r.suggestions_answered_on_time_count),
        ]
        for r in response.reports
    ]
    headers = [
        "jurisdiction",
        "year",
        "required",
        "filed",
        "on time",
        "conforming",
        "报备率 filing",
        "及时率 timely",
        "规范率 conformity",
        "accepted",
        "corrected",
        "revoked",
        "suggestions",
        "answered on time",
    ]
    return table(headers, rows, empty="nothing to report")


def missing_filings(response: fpb.ListMissingFilingsResponse, hint: str) -> str:
    rows = [
        [
            m.sender,
            m.uniform_number or m.document,
            m.title,
            m.recipient,
            dates.text(m.promulgation_date),
            dates.text(m.filing_due_date),
            MISSING_STATUS.label(m.status),
        ]
        for m in response.missing_filings
    ]
    headers = ["sender", "document", "title", "recipient", "promulgated", "due", "status"]
    return with_hint(table(headers, rows, empty="no missing filings"), hint)
