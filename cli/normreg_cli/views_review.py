"""How the review service's messages read on a terminal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from normreg.v1 import review_service_pb2 as review_pb

from normreg_cli import dates
from normreg_cli.enums import REVIEW_DECISION, REVIEW_STATE
from normreg_cli.render import fields, sections, table, timestamp, titled, with_hint


def review(r: review_pb.Review, tz: ZoneInfo, *, text: bool = False) -> str:
    due = dates.text(r.due_date) + (" (OVERDUE)" if r.overdue else "")
    head = fields(
        [
            ("review", r.name),
            ("document", r.document),
            ("version", str(r.version_number or "")),
            ("revision", str(r.revision or "")),
            ("title", r.title),
            ("drafting org", r.drafting_org),
            ("reviewing office", r.reviewing_office),
            ("state", REVIEW_STATE.word(r.state)),
            ("assignee", r.assignee),
            ("due", due),
            ("decision", REVIEW_DECISION.label(r.decision)),
            ("opinion", r.opinion),
            ("problems", "\n".join(f"- {p}" for p in r.problems)),
            ("created", timestamp(r.create_time, tz)),
            ("decided", timestamp(r.decide_time, tz)),
            ("etag", r.etag),
        ]
    )
    return sections(head, titled("text under review", r.body) if text else "")


def review_list(response: review_pb.ListReviewsResponse, hint: str) -> str:
    rows = [
        [
            r.name,
            r.document,
            str(r.version_number),
            r.title,
            REVIEW_STATE.word(r.state),
            r.assignee,
            dates.text(r.due_date),
            "OVERDUE" if r.overdue else "",
        ]
        for r in response.reviews
    ]
    headers = ["review", "document", "v", "title", "state", "assignee", "due", "overdue"]
    return with_hint(table(headers, rows, empty="no reviews", optional=["overdue"]), hint)
