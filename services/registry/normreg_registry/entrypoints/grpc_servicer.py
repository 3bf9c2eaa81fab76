"""RegistryService over gRPC: parse and check the request, call one use case, convert the result.

No rules live here; identity comes from the edge interceptor, errors are mapped there too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_common import paging, proto_dates
from normreg_common.checkpoints import TOKEN_MAX as CHECKPOINT_TOKEN_MAX
from normreg_common.errors import InvalidArgument, NormregError, NotFound
from normreg_common.grpc_server import current_principal, to_status
from normreg_common.paging import IdCursor, IntCursor, PageTokens, fits
from normreg_common.validation import parse

from normreg_registry.application.service import ImportItem, RegistryService
from normreg_registry.domain import access, names
from normreg_registry.domain.access import OPERATIONS, Op
from normreg_registry.domain.articles import Article
from normreg_registry.domain.cleanup import Outcome
from normreg_registry.domain.lifecycle import State
from normreg_registry.domain.model import Document, ImportedVersion, Version
from normreg_registry.domain.numbers import UniformNumber
from normreg_registry.domain.versions import Filing, TimelineEntry
from normreg_registry.entrypoints import convert, due_pages
from normreg_registry.entrypoints import requests as rq

# Bytes a request may weigh (others: the edge's 64 KiB). A body is at most BODY_MAX characters of up
# to 4 bytes; an import carries several versions of one law.
REQUEST_LIMITS = {
    "CreateDocument": 2 * 1024 * 1024,
    "UpdateDraft": 2 * 1024 * 1024,
    "ImportDocument": 8 * 1024 * 1024,
    "ImportDocuments": 32 * 1024 * 1024,
    "CreateCleanupCampaign": 256 * 1024,
    "VerifyHistory": 8 * 1024 * 1024,
}
MAX_CHECKPOINTS = 10_000
MAX_IMPORT_BATCH = 200
DOMAIN = "normreg.registry"
FILING_OUTCOMES = {1: "ACCEPTED", 2: "CORRECTION_REQUIRED", 3: "REVOKED"}
CONCLUSIONS = {1: "CONTINUE", 2: "AMEND", 3: "REPEAL"}
CLEANUP_OUTCOMES = {1: "RETAIN", 2: "AMEND", 3: "REPEAL", 4: "DECLARE_INVALID"}


def doc_id(name: str, field: str = "name") -> str:
    return names.parse_document(name, field)


def doc_or_version(name: str, field: str = "name") -> tuple[str, int | None]:
    return names.parse_document_or_version(name, field)


def evaluation_id(name: str, document: str, field: str = "evaluation") -> int | None:
    return names.parse_evaluation(name, document, field) if name else None


DOCUMENT_PAGES: PageTokens[str] = PageTokens("registry.documents", IdCursor())
COMMENT_PAGES: PageTokens[int] = PageTokens("registry.comments", IntCursor())


def page_size(value: int, default: int = 50, maximum: int = 500) -> int:
    return paging.page_size(value, default=default, maximum=maximum)


def enum_value(mapping: dict[int, str], value: int, field: str) -> str:
    if value not in mapping:
        raise InvalidArgument(field, f"one of {', '.join(mapping.values())} is required")
    return mapping[value]


def import_item(request: rpb.ImportDocumentRequest) -> ImportItem:
    """One document to import, checked: what ImportDocument and each item of ImportDocuments parse."""
    if request.kind not in convert.KIND_FROM_PB:
        raise InvalidArgument("kind", "a document kind is required")
    cmd = parse(
        rq.ImportDocument,
        request_id=request.request_id,
        issuing_body=request.issuing_body,
        versions=[
            {
                "title": v.title,
                "body": v.body,
                "uniform_number": v.uniform_number,
                "articles": [{"label": a.label, "text": a.text} for a in v.articles],
                "amended_by": [{"title": a.title} for a in v.amended_by],
                "amends": [{"title": a.title} for a in v.amends],
            }
            for v in request.versions
        ],
    )
    versions = []
    for i, (raw, checked) in enumerate(zip(request.versions, cmd.versions, strict=True)):
        state = convert.STATE_FROM_PB.get(raw.state)
        if state is None:
            raise InvalidArgument(f"versions[{i}].state", "a state is required")
        number = None
        if checked.uniform_number:
            try:
                number = UniformNumber.parse(checked.uniform_number)
            except ValueError as exc:
                raise InvalidArgument(f"versions[{i}].uniform_number", str(exc)) from None
        path = f"versions.{i}."
        versions.append(
            ImportedVersion(
                title=checked.title,
                body=checked.body,
                state=State(state),
                promulgation_date=proto_dates.required(raw, "promulgation_date", path=path),
                effective_date=proto_dates.read(raw, "effective_date", path=path),
                validity_end=proto_dates.read(raw, "validity_end_date", path=path),
                number=number,
                articles=tuple(Article(a.label, a.text) for a in checked.articles) if checked.articles else None,
                public_acts=tuple(
                    TimelineEntry(proto_dates.required(raw_act, "date", path=f"{path}{event}.{j}."), event, act.title)
                    for event, acts, raws in (
                        ("amended_by", checked.amended_by, raw.amended_by),
                        ("amends", checked.amends, raw.amends),
                    )
                    for j, (act, raw_act) in enumerate(zip(acts, raws, strict=True))
                ),
            )
        )
    return ImportItem(cmd.request_id, convert.KIND_FROM_PB[request.kind], cmd.issuing_body, versions)


def prefixed(error: NormregError, prefix: str) -> NormregError:
    """An item's error with its field named from the batch request (documents[3].versions[0].title)."""
    if not isinstance(error, InvalidArgument):
        return error
    named = InvalidArgument(f"{prefix}.{error.field}" if error.field else prefix, error.description)
    named.reason = error.reason
    return named


class RegistryServicer(rgrpc.RegistryServiceServicer):
    def __init__(self, service: RegistryService) -> None:
        self._s = service

    @staticmethod
    def _doc(doc: Document) -> pb.Document:
        # A write answers with the BASIC view: the bodies of every version could outweigh a reply.
        return convert.document_pb(doc, current_principal(), full=False)

    async def CreateDocument(
        self, request: rpb.CreateDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        cmd = parse(
            rq.CreateDocument,
            request_id=request.request_id,
            title=request.title,
            body=request.body,
            issuing_body=request.issuing_body,
            number_prefix=request.number_prefix,
            filing_exemption_reason=request.filing_exemption_reason,
        )
        if request.kind not in convert.KIND_FROM_PB:
            raise InvalidArgument("kind", "a document kind is required")
        doc = await self._s.create_document(
            current_principal(),
            request_id=cmd.request_id,
            kind=convert.KIND_FROM_PB[request.kind],
            title=cmd.title,
            body=cmd.body,
            issuing_body=cmd.issuing_body,
            number_prefix=cmd.number_prefix,
            provisional=request.provisional,
            filing_exemption_reason=cmd.filing_exemption_reason,
        )
        return self._doc(doc)

    async def GetDocument(self, request: rpb.GetDocumentRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        name, version = doc_or_version(request.name)
        doc = await self._s.get_document(current_principal(), name)
        if version is not None and version not in {v.number for v in access.visible_versions(current_principal(), doc)}:
            raise NotFound(request.name)
        if request.view == rpb.DOCUMENT_VIEW_BASIC:
            return convert.document_pb(doc, current_principal(), full=False)
        return convert.bounded_full(doc, current_principal(), wanted=version)

    async def ListDocuments(
        self, request: rpb.ListDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListDocumentsResponse:
        full = request.view == rpb.DOCUMENT_VIEW_FULL
        # Full texts are large (a code can be 300k characters): keep a full page well under the message limit.
        size = page_size(request.page_size, default=10 if full else 50, maximum=10 if full else 500)
        # UNSPECIFIED is no filter; a number the API does not define is refused, as every list does.
        if request.state and request.state not in convert.STATE_FROM_PB:
            raise InvalidArgument("state", f"{request.state} is not a state of a version")
        if request.kind and request.kind not in convert.KIND_FROM_PB:
            raise InvalidArgument("kind", f"{request.kind} is not a kind of document")
        state = convert.STATE_FROM_PB[request.state].value if request.state else ""
        kind = convert.KIND_FROM_PB[request.kind].value if request.kind else ""
        filters = parse(rq.ListDocumentsFilter, issuing_body=request.issuing_body, drafting_org=request.drafting_org)
        query = {
            "state": state,
            "kind": kind,
            "issuing_body": filters.issuing_body,
            "drafting_org": filters.drafting_org,
            "view": full,
        }
        docs, cursor = await self._s.list_documents(
            current_principal(),
            after=DOCUMENT_PAGES.decode(request.page_token, query) or "",
            page_size=size,
            state=state,
            kind=kind,
            issuing_body=filters.issuing_body,
            drafting_org=filters.drafting_org,
        )
        principal = current_principal()
        documents = [
            convert.bounded_full(d, principal) if full else convert.document_pb(d, principal, full=False) for d in docs
        ]
        # A page is bounded by bytes as well as by count: it ends early rather than outgrow a reply.
        kept = fits(documents, lambda d: d.ByteSize())
        if kept < len(documents):
            cursor = docs[kept - 1].id
        return rpb.ListDocumentsResponse(
            documents=documents[:kept],
            next_page_token=DOCUMENT_PAGES.encode(cursor, query) if cursor else "",
        )

    async def UpdateDraft(self, request: rpb.UpdateDraftRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        paths = list(request.update_mask.paths)
        if not paths:
            raise InvalidArgument("update_mask", "name the fields to change: title, body")
        unknown = set(paths) - {"title", "body"}
        if unknown:
            raise InvalidArgument("update_mask", f"cannot update {', '.join(sorted(unknown))}; only title and body")
        cmd = parse(
            rq.UpdateDraft,
            title=request.title if "title" in paths else None,
            body=request.body if "body" in paths else None,
            etag=request.etag,
        )
        doc = await self._s.update_draft(
            current_principal(), doc_id(request.name), title=cmd.title, body=cmd.body, etag=cmd.etag
        )
        return self._doc(doc)

    async def OpenPublicComment(
        self, request: rpb.OpenPublicCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        start = proto_dates.required(request, "start_date")
        end = proto_dates.required(request, "end_date")
        return self._doc(await self._s.open_public_comment(current_principal(), doc_id(request.name), start, end))

    async def ClosePublicComment(
        self, request: rpb.ClosePublicCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        return self._doc(await self._s.close_public_comment(current_principal(), doc_id(request.name)))

    async def SubmitComment(self, request: rpb.SubmitCommentRequest, context: grpc.aio.ServicerContext) -> pb.Comment:
        cmd = parse(rq.SubmitComment, text=request.text)
        view = await self._s.submit_comment(current_principal(), doc_id(request.name), cmd.text)
        return pb.Comment(
            name=view.name,
            text=view.text,
            create_time=convert.timestamp(dt.datetime.fromisoformat(view.created_at)),
        )

    async def CreateComment(self, request: rpb.CreateCommentRequest, context: grpc.aio.ServicerContext) -> pb.Comment:
        document, version = doc_or_version(request.parent, "parent")
        cmd = parse(rq.CreateComment, comment={"text": request.comment.text})
        view = await self._s.submit_comment(current_principal(), document, cmd.comment.text, version)
        return pb.Comment(
            name=view.name,
            text=view.text,
            create_time=convert.timestamp(dt.datetime.fromisoformat(view.created_at)),
        )

    async def ListComments(
        self, request: rpb.ListCommentsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListCommentsResponse:
        # The deprecated `name` (documents/{d}) is served for one release, when parent is unset.
        if request.parent or not request.name:
            name, version = names.parse_comments_parent(request.parent, "parent")
        else:
            name, version = doc_id(request.name), None
        # Every version is the query the deprecated `name` always had: its page tokens stay valid.
        query: dict[str, object] = {"name": name} if version is None else {"name": name, "version": version}
        after = COMMENT_PAGES.decode(request.page_token, query) or 0
        views, next_cursor = await self._s.list_comments(
            current_principal(), name, after, page_size(request.page_size), version
        )
        comments = [
            pb.Comment(
                name=v.name,
                text=v.text,
                reply=v.reply,
                create_time=convert.timestamp(dt.datetime.fromisoformat(v.created_at)),
            )
            for v in views
        ]
        # 500 comments with their replies can outweigh a reply: the page also ends at PAGE_BYTES.
        kept = fits(comments, lambda c: c.ByteSize())
        if kept < len(comments):
            next_cursor = comments[kept - 1].name.rsplit("/", 1)[1]
        return rpb.ListCommentsResponse(
            comments=comments[:kept],
            next_page_token=COMMENT_PAGES.encode(int(next_cursor), query) if next_cursor else "",
        )

    async def ReplyToComment(self, request: rpb.ReplyToCommentRequest, context: grpc.aio.ServicerContext) -> pb.Comment:
        document, version, comment = names.parse_comment(request.name)
        cmd = parse(rq.Reply, reply=request.reply)
        view = await self._s.reply_to_comment(current_principal(), document, version, comment, cmd.reply)
        return pb.Comment(
            name=view.name,
            text=view.text,
            reply=view.reply,
            create_time=convert.timestamp(dt.datetime.fromisoformat(view.created_at)),
        )

    async def RecordProcedure(
        self, request: rpb.RecordProcedureRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        if request.procedure not in convert.PROCEDURE_FROM_PB:
            raise InvalidArgument("procedure", "one of PUBLIC_PARTICIPATION, EXPERT_ARGUMENTATION, RISK_ASSESSMENT")
        cmd = parse(rq.RecordProcedure, summary=request.summary)
        return self._doc(
            await self._s.record_procedure(
                current_principal(),
                doc_id(request.name),
                convert.PROCEDURE_FROM_PB[request.procedure],
                cmd.summary,
            )
        )

    async def SubmitForReview(
        self, request: rpb.SubmitForReviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        return self._doc(await self._s.submit_for_review(current_principal(), doc_id(request.name), request.etag))

    async def RecordDeliberation(
        self, request: rpb.RecordDeliberationRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        decision = enum_value({1: "ADOPT", 2: "SEND_BACK"}, request.decision, "decision")
        cmd = parse(rq.Deliberation, meeting=request.meeting, reason=request.reason)
        day = proto_dates.required(request, "meeting_date")
        return self._doc(
            await self._s.record_deliberation(
                current_principal(),
                doc_id(request.name),
                adopt=decision == "ADOPT",
                meeting=cmd.meeting,
                meeting_date=day,
                reason=cmd.reason,
            )
        )

    async def Promulgate(self, request: rpb.PromulgateRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        cmd = parse(
            rq.Promulgate,
            early_effect_reason=request.early_effect_reason,
            number_sequence=request.number_sequence,
            validity_years=request.validity_years,
        )
        return self._doc(
            await self._s.promulgate(
                current_principal(),
                doc_id(request.name),
                promulgation_date=proto_dates.read(request, "promulgation_date"),
                effective_date=proto_dates.read(request, "effective_date"),
                early_effect_reason=cmd.early_effect_reason,
                number_sequence=cmd.number_sequence,
                validity_years=cmd.validity_years,
            )
        )

    async def RecordFiling(self, request: rpb.RecordFilingRequest, context: grpc.aio.ServicerContext) -> pb.Filing:
        document, version = doc_or_version(request.name)
        cmd = parse(rq.Filing, recipient=request.recipient)
        filed = proto_dates.required(request, "filed_date")
        m = request.materials
        materials = {
            "text": m.text,
            "drafting_explanation": m.drafting_explanation,
            "legal_basis": m.legal_basis,
            "legality_review_opinion": m.legality_review_opinion,
        }
        doc, v = await self._s.record_filing(
            current_principal(),
            document,
            version,
            filed_date=filed,
            recipient=cmd.recipient,
            materials=materials,
        )
        obligation = v.obligation(cmd.recipient.strip())
        assert obligation is not None and obligation.filing is not None  # the filing just recorded
        return convert.filing_pb(doc, v, obligation.filing)

    async def RecordFilingReview(
        self, request: rpb.RecordFilingReviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.Filing:
        document, version = doc_or_version(request.name)
        outcome = enum_value(FILING_OUTCOMES, request.outcome, "outcome")
        cmd = parse(rq.FilingReview, note=request.note, recipient=request.recipient)
        doc, filing = await self._s.record_filing_review(
            current_principal(),
            document,
            version,
            outcome,
            cmd.note,
            cmd.recipient,
            correction_due=proto_dates.read(request, "correction_due_date"),
        )
        v = doc.version(version) if version is not None else _filed_version(doc, filing)
        return convert.filing_pb(doc, v, filing)

    async def RecordEvaluation(
        self, request: rpb.RecordEvaluationRequest, context: grpc.aio.ServicerContext
    ) -> pb.Evaluation:
        conclusion = enum_value(CONCLUSIONS, request.conclusion, "conclusion")
        cmd = parse(rq.Evaluation, evaluator=request.evaluator, method=request.method, findings=request.findings)
        doc, e = await self._s.record_evaluation(
            current_principal(),
            doc_id(request.name),
            evaluator=cmd.evaluator,
            method=cmd.method,
            findings=cmd.findings,
            conclusion=conclusion,
        )
        return convert.evaluation_pb(doc, e)

    async def ListEvaluations(
        self, request: rpb.ListEvaluationsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListEvaluationsResponse:
        doc, evaluations = await self._s.list_evaluations(current_principal(), doc_id(request.parent, "parent"))
        return rpb.ListEvaluationsResponse(evaluations=[convert.evaluation_pb(doc, e) for e in evaluations])

    async def ListDueEvaluations(
        self, request: rpb.ListDueEvaluationsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListDueEvaluationsResponse:
        out = []
        for d in await self._s.due_evaluations(current_principal()):
            item = rpb.DueEvaluation(version=d.version, title=d.title, uniform_number=d.uniform_number)
            proto_dates.fill(item, "validity_end_date", d.validity_end)
            proto_dates.fill(item, "due_from", d.due_from)
            out.append(item)
        return rpb.ListDueEvaluationsResponse(evaluations=out)

    async def StartAmendment(
        self, request: rpb.StartAmendmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        document = doc_id(request.name)
        parse(rq.Idempotent, request_id=request.request_id)
        return self._doc(
            await self._s.start_amendment(
                current_principal(), document, evaluation_id(request.evaluation, document), request.request_id
            )
        )

    async def Repeal(self, request: rpb.RepealRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        document = doc_id(request.name)
        cmd = parse(rq.Ending, reason=request.reason, repealed_by=request.repealed_by)
        return self._doc(
            await self._s.repeal(
                current_principal(),
                document,
                cmd.reason,
                evaluation_id(request.evaluation, document),
                cmd.repealed_by,
            )
        )

    async def DeclareInvalid(
        self, request: rpb.DeclareInvalidRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        cmd = parse(rq.Ending, reason=request.reason)
        return self._doc(await self._s.declare_invalid(current_principal(), doc_id(request.name), cmd.reason))

    async def Withdraw(self, request: rpb.WithdrawRequest, context: grpc.aio.ServicerContext) -> pb.Document:
        cmd = parse(rq.Ending, reason=request.reason)
        return self._doc(await self._s.withdraw(current_principal(), doc_id(request.name), cmd.reason))

    async def ImportDocument(
        self, request: rpb.ImportDocumentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Document:
        item = import_item(request)
        return self._doc(
            await self._s.import_document(
                current_principal(),
                request_id=item.request_id,
                kind=item.kind,
                issuing_body=item.issuing_body,
                versions=item.versions,
            )
        )

    async def ImportDocuments(
        self, request: rpb.ImportDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ImportDocumentsResponse:
        principal = current_principal()
        # Authorised before anything is read, so the public learns nothing from the items' errors.
        access.authorize_role(principal, OPERATIONS[Op.IMPORT], "importing documents")
        if not request.documents:
            raise InvalidArgument("documents", "at least one document is required")
        if len(request.documents) > MAX_IMPORT_BATCH:
            raise InvalidArgument("documents", f"at most {MAX_IMPORT_BATCH} documents per call")
        items: list[ImportItem | NormregError] = []
        for document in request.documents:
            try:
                if document.ByteSize() > REQUEST_LIMITS["ImportDocument"]:
                    too_large = InvalidArgument(
                        "", f"a document weighs at most {REQUEST_LIMITS['ImportDocument']} bytes"
                    )
                    too_large.reason = "REQUEST_TOO_LARGE"
                    raise too_large
                items.append(import_item(document))
            except NormregError as refused:
                items.append(refused)
        outcomes = await self._s.import_documents(principal, items)
        results = []
        for i, (document, outcome) in enumerate(zip(request.documents, outcomes, strict=True)):
            if isinstance(outcome, NormregError):
                error = to_status(prefixed(outcome, f"documents[{i}]"), DOMAIN)
                results.append(rpb.ImportDocumentResult(request_id=document.request_id, error=error))
            else:
                results.append(
                    rpb.ImportDocumentResult(
                        request_id=document.request_id, document=outcome.name, version_count=len(outcome.versions)
                    )
                )
        return rpb.ImportDocumentsResponse(results=results)

    async def GetHistory(
        self, request: rpb.GetHistoryRequest, context: grpc.aio.ServicerContext
    ) -> rpb.GetHistoryResponse:
        entries = await self._s.get_history(current_principal(), doc_id(request.name))
        return rpb.GetHistoryResponse(entries=[convert.history_pb(e) for e in entries])

    async def VerifyHistory(
        self, request: rpb.VerifyHistoryRequest, context: grpc.aio.ServicerContext
    ) -> rpb.VerifyHistoryResponse:
        target = doc_id(request.name) if request.name else None
        if len(request.checkpoints) > MAX_CHECKPOINTS:
            raise InvalidArgument("checkpoints", f"at most {MAX_CHECKPOINTS} per call; verify in parts")
        for i, token in enumerate(request.checkpoints):
            if len(token) > CHECKPOINT_TOKEN_MAX:
                raise InvalidArgument(f"checkpoints[{i}]", "longer than any checkpoint")
        docs, entries, problems = await self._s.verify_history(current_principal(), target, list(request.checkpoints))
        return rpb.VerifyHistoryResponse(
            intact=not problems, documents_checked=docs, entries_checked=entries, problems=problems
        )

    async def GetFilingReport(
        self, request: rpb.GetFilingReportRequest, context: grpc.aio.ServicerContext
    ) -> rpb.GetFilingReportResponse:
        if request.year and not 1900 <= request.year <= 2999:
            raise InvalidArgument("year", "a four-digit year, or 0 for all years")
        filters = parse(rq.FilingReportFilter, issuing_body=request.issuing_body, recipient=request.recipient)
        rows = await self._s.filing_report(current_principal(), request.year, filters.issuing_body, filters.recipient)
        return rpb.GetFilingReportResponse(
            rows=[
                pb.FilingReportRow(
                    year=r.year,
                    issuing_body=r.issuing_body,
                    required=r.required,
                    filed=r.filed,
                    filed_on_time=r.filed_on_time,
                    filed_complete=r.filed_complete,
                    filing_rate=r.filing_rate,
                    timeliness_rate=r.timeliness_rate,
                    conformity_rate=r.conformity_rate,
                    recipient=r.recipient,
                )
                for r in rows
            ]
        )

    async def ListDueFilings(
        self, request: rpb.ListDueFilingsRequest, context: grpc.aio.ServicerContext
    ) -> rpb.ListDueFilingsResponse:
        if not 0 <= request.within_days <= 366:
            raise InvalidArgument("within_days", "between 0 and 366")
        within = request.within_days or 7
        size = page_size(request.page_size, default=due_pages.DEFAULT, maximum=due_pages.MAXIMUM)
        query = {"within_days": within}
        found, more = await self._s.due_filings_page(
            current_principal(), within, after=due_pages.decode(request.page_token, query), size=size
        )
        window = [
            _due_filing(d.document, d.title, d.uniform_number, d.due_date, d.overdue, d.recipient, d.step)
            for _, d in found
        ]
        count = fits(window, lambda m: m.ByteSize())
        more = more or count < len(window)
        token = due_pages.encode(found[count - 1][0], query) if more and count else ""
        return rpb.ListDueFilingsResponse(filings=window[:count], next_page_token=token)

    async def CreateCleanupCampaign(
        self, request: rpb.CreateCleanupCampaignRequest, context: grpc.aio.ServicerContext
    ) -> pb.CleanupCampaign:
        cmd = parse(rq.Campaign, request_id=request.request_id, title=request.title, documents=list(request.documents))
        for i, name in enumerate(cmd.documents):
            doc_id(name, f"documents[{i}]")
        campaign = await self._s.create_campaign(current_principal(), cmd.request_id, cmd.title, cmd.documents)
        return convert.campaign_pb(campaign)

    async def RecordCleanupOutcome(
        self, request: rpb.RecordCleanupOutcomeRequest, context: grpc.aio.ServicerContext
    ) -> pb.CleanupCampaign:
        campaign_id = names.parse_campaign(request.name)
        o = request.outcome
        kind = enum_value(CLEANUP_OUTCOMES, o.outcome, "outcome.outcome")
        cmd = parse(
            rq.CleanupOutcome,
            document=o.document,
            reason=o.reason,
            missing_procedure=o.missing_procedure,
            remedy=o.remedy,
        )
        campaign = await self._s.record_cleanup_outcome(
            current_principal(),
            campaign_id,
            Outcome(cmd.document, kind, cmd.reason, cmd.missing_procedure, cmd.remedy),
        )
        return convert.campaign_pb(campaign)

    async def ApplyCleanupCampaign(
        self, request: rpb.ApplyCleanupCampaignRequest, context: grpc.aio.ServicerContext
    ) -> pb.CleanupCampaign:
        campaign = await self._s.apply_campaign(current_principal(), names.parse_campaign(request.name))
        return convert.campaign_pb(campaign)


def _filed_version(doc: Document, filing: Filing) -> Version:
    return next(v for v in reversed(doc.versions) if any(f is filing for f in v.filings))


def _due_filing(
    document: str, title: str, number: str, due: dt.date, overdue: bool, recipient: str, step: str
) -> pb.DueFiling:
    out = pb.DueFiling(
        document=document, title=title, uniform_number=number, overdue=overdue, recipient=recipient, step=step
    )
    proto_dates.fill(out, "due_date", due)
    return out


def register(servicer: RegistryServicer) -> Callable[[grpc.aio.Server], str]:
    def add(server: grpc.aio.Server) -> str:
        rgrpc.add_RegistryServiceServicer_to_server(servicer, server)
        return str(rpb.DESCRIPTOR.services_by_name["RegistryService"].full_name)

    return add
