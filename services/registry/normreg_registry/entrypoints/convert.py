"""Domain objects to protobuf messages, showing each caller only what it may see."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2
from normreg.v1 import document_pb2 as pb
from normreg_common import proto_dates, proto_times
from normreg_common.paging import PAGE_BYTES
from normreg_common.principal import Principal

from normreg_registry.domain import access
from normreg_registry.domain.cleanup import Campaign
from normreg_registry.domain.history import HistoryEntry
from normreg_registry.domain.lifecycle import Kind, Procedure, State
from normreg_registry.domain.model import Document, Evaluation, Version
from normreg_registry.domain.versions import Filing

STATE_TO_PB = {s: pb.VersionState.Value(f"VERSION_STATE_{s.value}") for s in State}
STATE_FROM_PB = {v: k for k, v in STATE_TO_PB.items()}
KIND_TO_PB = {k: pb.DocumentKind.Value(f"DOCUMENT_KIND_{k.value}") for k in Kind}
KIND_FROM_PB = {v: k for k, v in KIND_TO_PB.items()}
PROCEDURE_TO_PB = {p: pb.Procedure.Value(f"PROCEDURE_{p.value}") for p in Procedure}
PROCEDURE_FROM_PB = {v: k for k, v in PROCEDURE_TO_PB.items()}


def timestamp(value: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    return proto_times.timestamp(value)


def _internal(principal: Principal, doc: Document) -> bool:
    return access.sees_internal(principal, doc)


def version_pb(doc: Document, v: Version, internal: bool, full: bool = True) -> pb.Version:
    out = pb.Version(
        name=doc.version_name(v.number),
        version_number=v.number,
        state=STATE_TO_PB[v.state],
        title=v.title,
        body=v.body if full else "",
        articles=[pb.Article(label=a.label, text=a.text) for a in v.articles] if full else [],
        create_time=timestamp(v.created_at),
        update_time=timestamp(v.updated_at),
        amends=doc.version_name(v.amends) if v.amends else "",
        amended_by=doc.version_name(v.amended_by) if v.amended_by else "",
    )
    if v.comment_window:
        proto_dates.fill(out.comment_window, "start_date", v.comment_window.start)
        proto_dates.fill(out.comment_window, "end_date", v.comment_window.end)
    if v.promulgation:
        p = v.promulgation
        out.promulgation.uniform_number = str(p.number) if p.number else ""
        out.promulgation.registration_number = p.registration_number
        out.promulgation.early_effect_reason = p.early_effect_reason
        proto_dates.fill(out.promulgation, "promulgation_date", p.promulgation_date)
        proto_dates.fill(out.promulgation, "effective_date", p.effective_date)
        proto_dates.fill(out.promulgation, "validity_end_date", p.validity_end)
    if internal:
        out.revision = v.revision
        out.approved_revision = v.approved_revision
        out.state_reason = v.state_reason
        out.procedures.extend(
            pb.ProcedureRecord(procedure=PROCEDURE_TO_PB[r.procedure], summary=r.summary, record_time=timestamp(r.at))
            for r in v.procedures.values()
        )
        for o in v.obligations:
            slot = out.filing_obligations.add(recipient=o.recipient)
            proto_dates.fill(slot, "due_date", o.due_date)
            if o.filing is not None:
                slot.filing.CopyFrom(filing_pb(doc, v, o.filing))
    elif v.state in {State.REPEALED, State.DECLARED_INVALID, State.EXPIRED}:
        # Why a rule stopped applying is public; why a draft was rejected is not.
        out.state_reason = v.state_reason
    return out


def document_pb(doc: Document, principal: Principal, *, full: bool = True) -> pb.Document:
    visible = access.visible_versions(principal, doc)
    internal = _internal(principal, doc)
    newest = visible[-1] if visible else doc.latest
    return pb.Document(
        name=doc.name,
        kind=KIND_TO_PB[doc.kind],
        issuing_body=doc.issuing_body,
        number_prefix=doc.number_prefix,
        drafting_org=doc.drafting_org if internal else "",
        title=newest.title,
        state=STATE_TO_PB[newest.state],
        versions=[version_pb(doc, v, internal, full) for v in visible],
        etag=access.etag_for(principal, doc),
        create_time=timestamp(doc.created_at),
        update_time=timestamp(doc.updated_at),
        provisional=doc.provisional,
        filing_required=doc.filing_required,
        filing_exemption_reason=doc.filing_exemption_reason if internal else "",
    )


def bounded_full(
    doc: Document, principal: Principal, *, wanted: int | None = None, budget: int = PAGE_BYTES
) -> pb.Document:
    """The FULL view within `budget` bytes: bodies newest first (the `wanted` version before all),
    each one that does not fit left out and marked `body_omitted`. The first always fits: one
    version is bounded by the body size limit."""
    out = document_pb(doc, principal, full=False)
    versions = {v.number: v for v in access.visible_versions(principal, doc)}
    internal = _internal(principal, doc)
    used = out.ByteSize()
    first = True
    for slot in sorted(out.versions, key=lambda v: (v.version_number != wanted, -v.version_number)):
        whole = version_pb(doc, versions[slot.version_number], internal, full=True)
        extra = whole.ByteSize() - slot.ByteSize()
        if not first and used + extra > budget:
            slot.body_omitted = True
            continue
        slot.CopyFrom(whole)
        used += extra
        first = False
    return out


def filing_pb(doc: Document, v: Version, f: Filing) -> pb.Filing:
    out = pb.Filing(
        document=doc.name,
        version_number=v.number,
        recipient=f.recipient,
        materials=pb.FilingMaterials(**{k: bool(f.materials.get(k)) for k in f.MATERIALS}),
        complete=f.complete,
        on_time=f.on_time,
        outcome=pb.FilingOutcome.Value(f"FILING_OUTCOME_{f.outcome}") if f.outcome else pb.FILING_OUTCOME_UNSPECIFIED,
        outcome_note=f.outcome_note,
    )
    proto_dates.fill(out, "filed_date", f.filed_date)
    proto_dates.fill(out, "due_date", f.due_date)
    if f.reported_by:
        out.reported_by, out.received_filing = f.reported_by, f.received_filing
        out.recipient_status = f.recipient_status
        out.missing_materials.extend(f.missing)
        out.provisions.extend(f.provisions)
        for field in ("registered_date", "review_due", "completion_due", "decided_date", "correction_due"):
            proto_dates.fill(out, field, getattr(f, field))
    elif f.outcome == "CORRECTION_REQUIRED":
        proto_dates.fill(out, "correction_due", f.correction_due)
    return out


def evaluation_pb(doc: Document, e: Evaluation) -> pb.Evaluation:
    return pb.Evaluation(
        name=f"{doc.name}/evaluations/{e.id}",
        version_number=e.version,
        evaluator=e.evaluator,
        method=e.method,
        findings=e.findings,
        conclusion=pb.EvaluationConclusion.Value(f"EVALUATION_CONCLUSION_{e.conclusion}"),
        create_time=timestamp(e.at),
        led_to=e.led_to,
    )


def history_pb(entry: HistoryEntry) -> pb.HistoryEntry:
    return pb.HistoryEntry(
        sequence=entry.sequence,
        version_number=entry.version,
        action=entry.action,
        actor=entry.actor,
        time=timestamp(dt.datetime.fromisoformat(entry.time)),
        from_state=STATE_TO_PB[State(entry.from_state)] if entry.from_state else pb.VERSION_STATE_UNSPECIFIED,
        to_state=STATE_TO_PB[State(entry.to_state)] if entry.to_state else pb.VERSION_STATE_UNSPECIFIED,
        reason=entry.reason,
        previous_hash=entry.previous_hash,
        hash=entry.hash,
    )


def campaign_pb(c: Campaign) -> pb.CleanupCampaign:
    return pb.CleanupCampaign(
        name=c.name,
        title=c.title,
        documents=c.documents,
        outcomes=[
            pb.CleanupOutcome(
                document=o.document,
                outcome=pb.CleanupOutcomeKind.Value(f"CLEANUP_OUTCOME_KIND_{o.outcome}"),
                reason=o.reason,
                missing_procedure=o.missing_procedure,
                remedy=o.remedy,
            )
            for o in c.outcomes.values()
        ],
        applied=c.applied,
        create_time=timestamp(c.created_at),
    )
