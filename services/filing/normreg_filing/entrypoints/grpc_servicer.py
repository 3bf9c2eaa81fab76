"""The FilingReviewService gRPC API: validate at the edge, call the use case, map the result. No rules
here beyond paging and the per-client limit on anonymous suggestions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import grpc
from normreg.v1 import filing_review_service_pb2 as pb
from normreg.v1 import filing_review_service_pb2_grpc as pb_grpc
from normreg_common import proto_dates
from normreg_common.errors import NormregError
from normreg_common.grpc_server import current_principal
from normreg_common.paging import IntCursor, PageTokens, fits, page_size
from normreg_common.ratelimit import RateLimiter
from normreg_common.validation import parse, resource_id

from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain import access
from normreg_filing.entrypoints import proto_mapping, requests

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["FilingReviewService"].full_name
PAGE_DEFAULT = 50
PAGE_MAX = 500
T = TypeVar("T")
M = TypeVar("M")

_FILINGS: PageTokens[int] = PageTokens("receivedFilings", IntCursor())
_SUGGESTIONS: PageTokens[int] = PageTokens("reviewSuggestions", IntCursor())
# The position of the page's last sighting (an offset into the whole list before: refused now).
_MISSING: PageTokens[int] = PageTokens("missingFilings.seen", IntCursor())


class TooManySuggestions(NormregError):
    code = "RESOURCE_EXHAUSTED"
    reason = "TOO_MANY_SUGGESTIONS"

    def __init__(self) -> None:
        super().__init__("too many review suggestions from this client; try again later")


def _peer_key(context: grpc.aio.ServicerContext) -> str:
    """The client's address without its port: `ipv4:10.0.0.7:51234` -> `ipv4:10.0.0.7`."""
    peer = context.peer() or ""
    return peer.rsplit(":", 1)[0] if peer.count(":") >= 2 else peer


class FilingReviewServicer(pb_grpc.FilingReviewServiceServicer):
    def __init__(self, service: FilingReviewService, suggestion_limiter: RateLimiter) -> None:
        self._service = service
        self._limiter = suggestion_limiter

    async def ListReceivedFilings(
        self, request: pb.ListReceivedFilingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReceivedFilingsResponse:
        query = parse(
            requests.ListReceivedFilings,
            page_size=request.page_size,
            page_token=request.page_token,
            sender=request.sender,
            state=proto_mapping.state_filter(request.state),
            recipient=request.recipient,
        )
        due_before = proto_dates.read(request, "due_before", selects=True)
        size = page_size(query.page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        filters = {
            "sender": query.sender,
            "state": query.state or "",
            "recipient": query.recipient,
            "due_before": due_before or "",
        }
        # The token holds the arrival position of the page's last filing: the next page is read
        # from the store after it, not found in a list of every filing.
        found, more = await self._service.received_page(
            current_principal(),
            sender=query.sender,
            state=query.state.value if query.state else "",
            due_before=due_before,
            recipient=query.recipient,
            after=_FILINGS.decode(query.page_token, filters) or 0,
            size=size,
        )
        today = self._service.today()
        window = [proto_mapping.received_filing(f, today) for _, f in found]
        count = fits(window, lambda m: m.ByteSize())
        more = more or count < len(window)
        token = _FILINGS.encode(found[count - 1][0], filters) if more and count else ""
        return pb.ListReceivedFilingsResponse(received_filings=window[:count], next_page_token=token)

    async def GetReceivedFiling(
        self, request: pb.GetReceivedFilingRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReceivedFiling:
        filing_id = _filing_id(parse(requests.FilingByName, name=request.name).name)
        f = await self._service.get_received(current_principal(), filing_id)
        return proto_mapping.received_filing(f, self._service.today())

    async def RegisterReceivedFiling(
        self, request: pb.RegisterReceivedFilingRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReceivedFiling:
        command = parse(
            requests.RegisterReceivedFiling,
            name=request.name,
            missing_materials=list(request.missing_materials),
            note=request.note,
            etag=request.etag,
        )
        f = await self._service.register(
            current_principal(),
            _filing_id(command.name),
            list(command.missing_materials),
            command.note,
            command.etag,
        )
        return proto_mapping.received_filing(f, self._service.today())

    async def DecideFilingReview(
        self, request: pb.DecideFilingReviewRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReceivedFiling:
        command = parse(
            requests.DecideFilingReview,
            name=request.name,
            outcome=proto_mapping.outcome(request.outcome),
            reasons=request.reasons,
            provisions=list(request.provisions),
            note=request.note,
            etag=request.etag,
        )
        f = await self._service.decide(
            current_principal(),
            _filing_id(command.name),
            command.outcome,
            command.reasons,
            list(command.provisions),
            command.note,
            command.etag,
        )
        return proto_mapping.received_filing(f, self._service.today())

    async def RecordCorrectionResponse(
        self, request: pb.RecordCorrectionResponseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReceivedFiling:
        command = parse(
            requests.RecordCorrectionResponse, name=request.name, response=request.response, etag=request.etag
        )
        f = await self._service.record_correction_response(
            current_principal(), _filing_id(command.name), command.response, command.etag
        )
        return proto_mapping.received_filing(f, self._service.today())

    async def SubmitReviewSuggestion(
        self, request: pb.SubmitReviewSuggestionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviewSuggestion:
        given = request.review_suggestion
        command = parse(
            requests.SubmitReviewSuggestion,
            document=given.document,
            sender=given.sender,
            provisions=list(given.provisions),
            reasons=given.reasons,
            contact=given.contact,
            requester_kind=proto_mapping.requester_kind(given.requester_kind),
        )
        principal = current_principal()
        # Checked after validation, so a malformed request does not use up the client's allowance.
        if principal.is_public and not self._limiter.allow(_peer_key(context)):
            raise TooManySuggestions()
        s = await self._service.submit_suggestion(
            document=command.document,
            sender=command.sender,
            provisions=list(command.provisions),
            reasons=command.reasons,
            contact=command.contact,
            requester_kind=command.requester_kind,
        )
        return proto_mapping.review_suggestion(s, self._service.today(), with_contact=access.is_reviewer(principal))

    async def ListReviewSuggestions(
        self, request: pb.ListReviewSuggestionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReviewSuggestionsResponse:
        query = parse(
            requests.ListReviewSuggestions,
            page_size=request.page_size,
            page_token=request.page_token,
            sender=request.sender,
            unanswered_only=request.unanswered_only,
        )
        size = page_size(query.page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        principal = current_principal()
        filters = {"sender": query.sender, "unanswered_only": query.unanswered_only}
        found, more = await self._service.suggestions_page(
            principal,
            query.sender,
            unanswered_only=query.unanswered_only,
            after=_SUGGESTIONS.decode(query.page_token, filters) or 0,
            size=size,
        )
        today = self._service.today()
        reviewer = access.is_reviewer(principal)
        window = [proto_mapping.review_suggestion(s, today, with_contact=reviewer) for _, s in found]
        count = fits(window, lambda m: m.ByteSize())
        more = more or count < len(window)
        token = _SUGGESTIONS.encode(found[count - 1][0], filters) if more and count else ""
        return pb.ListReviewSuggestionsResponse(review_suggestions=window[:count], next_page_token=token)

    async def ReplyToReviewSuggestion(
        self, request: pb.ReplyToReviewSuggestionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReviewSuggestion:
        command = parse(requests.ReplyToReviewSuggestion, name=request.name, reply=request.reply)
        principal = current_principal()
        s = await self._service.reply_to_suggestion(
            principal, resource_id(command.name, "reviewSuggestions"), command.reply
        )
        return proto_mapping.review_suggestion(s, self._service.today(), with_contact=access.is_reviewer(principal))

    async def GetSubordinateFilingReport(
        self, request: pb.GetSubordinateFilingReportRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSubordinateFilingReportResponse:
        query = parse(requests.GetSubordinateFilingReport, sender=request.sender, year=request.year)
        principal = current_principal()
        if query.sender:
            reports = [await self._service.report(principal, query.sender, query.year)]
        else:
            reports = await self._service.reports(principal, query.year)
        return pb.GetSubordinateFilingReportResponse(reports=[proto_mapping.report(r) for r in reports])

    async def ListMissingFilings(
        self, request: pb.ListMissingFilingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMissingFilingsResponse:
        query = parse(
            requests.ListMissingFilings,
            page_size=request.page_size,
            page_token=request.page_token,
            sender=request.sender,
            overdue=proto_mapping.missing_status(request.status),
        )
        size = page_size(query.page_size, default=PAGE_DEFAULT, maximum=PAGE_MAX)
        filters = {"sender": query.sender, "overdue": query.overdue}
        found, more = await self._service.missing_page(
            current_principal(),
            query.sender,
            query.overdue,
            after=_MISSING.decode(query.page_token, filters) or 0,
            size=size,
        )
        window = [proto_mapping.missing_filing(m) for _, m in found]
        count = fits(window, lambda m: m.ByteSize())
        more = more or count < len(window)
        token = _MISSING.encode(found[count - 1][0], filters) if more and count else ""
        return pb.ListMissingFilingsResponse(missing_filings=window[:count], next_page_token=token)

    async def VerifyReceivedFilings(
        self, request: pb.VerifyReceivedFilingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyReceivedFilingsResponse:
        result = await self._service.verify_received_filings(current_principal())
        return pb.VerifyReceivedFilingsResponse(
            filings_checked=result.filings_checked,
            events_checked=result.events_checked,
            events_unsent=result.events_unsent,
            problems=[pb.FilingVerificationProblem(filing=p.filing, problem=p.problem) for p in result.problems],
        )


def _filing_id(name: str) -> str:
    return resource_id(name, "receivedFilings")


def register(service: FilingReviewService, suggestion_limiter: RateLimiter) -> Callable[[grpc.aio.Server], str]:
    def add(server: grpc.aio.Server) -> str:
        pb_grpc.add_FilingReviewServiceServicer_to_server(FilingReviewServicer(service, suggestion_limiter), server)
        return SERVICE_NAME

    return add
