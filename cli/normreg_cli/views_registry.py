"""How the registry's messages read on a terminal. Pure functions from a message to text."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates, render
from normreg_cli.enums import (
    CLEANUP_OUTCOME,
    CONCLUSION,
    FILING_OUTCOME,
    KIND,
    PROCEDURE,
    STATE,
)
from normreg_cli.render import fields, sections, table, timestamp, titled, with_hint, yes_no

MATERIALS = ("text", "drafting_explanation", "legal_basis", "legality_review_opinion")
HASH_SHOWN = 12


def promulgation(doc: pb.Document) -> pb.Promulgation:
    """Of the newest promulgated version visible; empty when none is."""
    for version in reversed(doc.versions):
        if version.promulgation.uniform_number:
            return version.promulgation
    return pb.Promulgation()


def uniform_number(doc: pb.Document) -> str:
    return promulgation(doc).uniform_number


def document(doc: pb.Document, tz: ZoneInfo, *, text: bool = False) -> str:
    head = fields(
        [
            ("name", doc.name),
            ("title", doc.title),
            ("kind", KIND.label(doc.kind)),
            ("state", STATE.label(doc.state)),
            ("number", uniform_number(doc)),
            ("registration", promulgation(doc).registration_number),
            ("issuing body", doc.issuing_body),
            ("number prefix", doc.number_prefix),
            ("drafting org", doc.drafting_org),
            ("provisional", "yes (暂行/试行)" if doc.provisional else ""),
            ("filing", "required" if doc.filing_required else f"not required: {doc.filing_exemption_reason}"),
            ("created", timestamp(doc.create_time, tz)),
            ("updated", timestamp(doc.update_time, tz)),
            ("etag", doc.etag),
        ]
    )
    latest = doc.versions[-1] if doc.versions else None
    procedures = ""
    if latest is not None and latest.procedures:
        procedures = titled(
            "procedures recorded",
            table(
                ["procedure", "recorded", "summary"],
                [[PROCEDURE.label(p.procedure), timestamp(p.record_time, tz), p.summary] for p in latest.procedures],
            ),
        )
    body = titled(f"text of version {latest.version_number}", latest.body) if text and latest is not None else ""
    return sections(head, titled("versions", versions(doc.versions)), procedures, body)


def versions(items: Sequence[pb.Version]) -> str:
    rows = []
    for v in items:
        p = v.promulgation
        note = v.state_reason or (f"amended by {v.amended_by}" if v.amended_by else "")
        if v.amends:
            note = f"amends {v.amends}" + (f"; {note}" if note else "")
        rows.append(
            [
                str(v.version_number),
                STATE.word(v.state),
                str(v.revision),
                str(v.approved_revision or ""),
                render.span(dates.text(v.comment_window.start_date), dates.text(v.comment_window.end_date)),
                p.uniform_number,
                dates.text(p.promulgation_date),
                dates.text(p.effective_date),
                dates.text(p.validity_end_date),
                note,
            ]
        )
    headers = ["v", "state", "rev", "approved", "comment window", "number", "promulgated", "effective", "valid until"]
    optional = ["comment window", "number", "promulgated", "effective", "valid until", "note"]
    return table([*headers, "note"], rows, empty="(no versions visible)", optional=optional)


def document_list(response: rpb.ListDocumentsResponse, tz: ZoneInfo, hint: str) -> str:
    rows = [
        [d.name, STATE.word(d.state), KIND.word(d.kind), d.title, uniform_number(d), timestamp(d.update_time, tz)]
        for d in response.documents
    ]
    headers = ["document", "state", "kind", "title", "number", "updated"]
    listing = table(headers, rows, empty="no documents", optional=["number"])
    return with_hint(listing, hint)


def comments(response: rpb.ListCommentsResponse, tz: ZoneInfo, hint: str) -> str:
    rows = [[c.name, timestamp(c.create_time, tz), c.text, c.reply] for c in response.comments]
    return with_hint(table(["comment", "received", "text", "reply"], rows, empty="no comments"), hint)


def comment(c: pb.Comment, tz: ZoneInfo) -> str:
    return fields(
        [("comment", c.name), ("received", timestamp(c.create_time, tz)), ("text", c.text), ("reply", c.reply)]
    )


def history(response: rpb.GetHistoryResponse, tz: ZoneInfo) -> str:
    rows = [
        [
            str(e.sequence),
            str(e.version_number),
            timestamp(e.time, tz),
            e.action,
            e.actor,
            STATE.word(e.from_state),
            STATE.word(e.to_state),
            e.reason,
            e.hash[:HASH_SHOWN],
        ]
        for e in response.entries
    ]
    headers = ["seq", "v", "time", "action", "actor", "from", "to", "reason", "hash"]
    return table(headers, rows, empty="no history")


def verification(result: rpb.VerifyHistoryResponse) -> str:
    counts = f"{result.documents_checked} documents, {result.entries_checked} history entries checked"
    if result.intact:
        return f"intact: {counts}"
    return "\n".join([f"NOT INTACT: {counts}", *(f"  {p}" for p in result.problems)])


def materials(m: pb.FilingMaterials) -> str:
    return ", ".join(name for name in MATERIALS if getattr(m, name))


def filing(f: pb.Filing) -> str:
    return fields(
        [
            ("document", f.document),
            ("version", str(f.version_number or "")),
            ("filed", dates.text(f.filed_date)),
            ("recipient", f.recipient),
            ("materials", materials(f.materials) or "(none)"),
            ("complete", yes_no(f.complete)),
            ("due", dates.text(f.due_date)),
            ("on time", yes_no(f.on_time)),
            ("outcome", FILING_OUTCOME.label(f.outcome)),
            ("note", f.outcome_note),
            *_reported(f),
        ]
    )


def _reported(f: pb.Filing) -> list[tuple[str, str]]:
    """What the recipient's own registry reported by event, when it runs normreg."""
    if not f.reported_by:
        return []
    return [
        ("reported by", f"{f.reported_by} ({f.received_filing})"),
        ("recipient says", f.recipient_status),
        ("registered", dates.text(f.registered_date)),
        ("review due", dates.text(f.review_due)),
        ("missing", ", ".join(f.missing_materials)),
        ("complete by", dates.text(f.completion_due)),
        ("provisions", "、".join(f.provisions)),
        ("correct by", dates.text(f.correction_due)),
    ]


def due_filings(response: rpb.ListDueFilingsResponse) -> str:
    rows = [
        [
            f.document,
            f.title,
            f.uniform_number,
            {"COMPLETE_MATERIALS": "complete-materials", "CORRECT": "correct"}.get(f.step, "file"),
            f.recipient or "?",
            dates.text(f.due_date),
            "OVERDUE" if f.overdue else "due",
        ]
        for f in response.filings
    ]
    return table(["document", "title", "number", "step", "recipient", "due", "status"], rows, empty="no filings due")


def filing_report(response: rpb.GetFilingReportResponse) -> str:
    rows = [
        [
            str(r.year),
            r.issuing_body,
            r.recipient or "?",
            str(r.required),
            str(r.filed),
            str(r.filed_on_time),
            str(r.filed_complete),
            render.percent(r.filing_rate),
            render.percent(r.timeliness_rate),
            render.percent(r.conformity_rate),
        ]
        for r in response.rows
    ]
    headers = ["year", "issuing body", "recipient", "required", "filed", "on time", "complete"]
    rates = ["报备率 filing", "及时率 timely", "规范率 conformity"]
    return table([*headers, *rates], rows, empty="nothing to report")


def evaluation(e: pb.Evaluation, tz: ZoneInfo) -> str:
    return fields(
        [
            ("evaluation", e.name),
            ("version", str(e.version_number or "")),
            ("evaluator", e.evaluator),
            ("method", e.method),
            ("conclusion", CONCLUSION.label(e.conclusion)),
            ("findings", e.findings),
            ("recorded", timestamp(e.create_time, tz)),
            ("led to", e.led_to),
        ]
    )


def evaluations(response: rpb.ListEvaluationsResponse) -> str:
    rows = [
        [e.name, str(e.version_number), e.evaluator, CONCLUSION.label(e.conclusion), e.led_to]
        for e in response.evaluations
    ]
    return table(["evaluation", "version", "evaluator", "conclusion", "led to"], rows, empty="no evaluations")


def due_evaluations(response: rpb.ListDueEvaluationsResponse) -> str:
    rows = [
        [e.version, e.title, e.uniform_number, dates.text(e.validity_end_date), dates.text(e.due_from)]
        for e in response.evaluations
    ]
    return table(["version", "title", "number", "valid until", "due from"], rows, empty="no evaluations due")


def campaign(c: pb.CleanupCampaign, tz: ZoneInfo) -> str:
    head = fields(
        [
            ("campaign", c.name),
            ("title", c.title),
            ("applied", yes_no(c.applied)),
            ("created", timestamp(c.create_time, tz)),
        ]
    )
    outcomes = {o.document: o for o in c.outcomes}
    rows = []
    for name in [*c.documents, *(d for d in outcomes if d not in c.documents)]:
        o = outcomes.get(name)
        if o is None:
            rows.append([name, "(pending)", "", "", ""])
        else:
            rows.append([name, CLEANUP_OUTCOME.label(o.outcome), o.reason, o.missing_procedure, o.remedy])
    listing = table(["document", "outcome", "reason", "missing procedure", "remedy"], rows, empty="(no documents)")
    return sections(head, listing)
