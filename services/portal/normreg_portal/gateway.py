"""The portal's only way to the rest of normreg: SearchService for reading; RegistryService.CreateComment
and FilingReviewService.SubmitReviewSuggestion for writing.

Every call has a deadline; every gRPC error becomes a PortalError a page can show. The portal never
sends a token: it sees exactly what the anonymous public sees.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import filing_review_service_pb2_grpc as fgrpc
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.channels import open_channel
from normreg_common.tls import ClientTls

from normreg_portal import dates
from normreg_portal.errors import BadRequest, Conflict, NotFound, PortalError, TooMany, TooSlow, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# Options a long-lived channel to a service on the same network wants.
CHANNEL_OPTIONS = [("grpc.keepalive_time_ms", 30_000), ("grpc.max_receive_message_length", 16 * 1024 * 1024)]


class Gateway:
    def __init__(
        self,
        search_addr: str,
        registry_addr: str,
        timeout_s: float = 5.0,
        tls: ClientTls | None = None,
        *,
        filing_addr: str = "",
    ) -> None:
        """`filing_addr`: the filing service that receives review suggestions; empty = no form."""
        self._search_channel = _channel(search_addr, tls)
        self._registry_channel = _channel(registry_addr, tls)
        self._filing_channel = _channel(filing_addr, tls) if filing_addr else None
        self.filing_stub = fgrpc.FilingReviewServiceStub(self._filing_channel) if self._filing_channel else None
        self.search_stub = sgrpc.SearchServiceStub(self._search_channel)
        # GetPublicDocument's reply as the bytes on the wire: a page already rendered from the same
        # bytes needs neither their parsing nor a second serialisation to recognise them.
        self._public_document_bytes = self._search_channel.unary_unary(
            "/normreg.v1.SearchService/GetPublicDocument",
            request_serializer=spb.GetPublicDocumentRequest.SerializeToString,
            response_deserializer=None,
        )
        self.registry_stub = rgrpc.RegistryServiceStub(self._registry_channel)
        self.timeout_s = timeout_s

    async def close(self) -> None:
        await self._search_channel.close()
        await self._registry_channel.close()
        if self._filing_channel is not None:
            await self._filing_channel.close()

    @property
    def takes_suggestions(self) -> bool:
        return self.filing_stub is not None

    async def search(self, request: spb.SearchDocumentsRequest) -> spb.SearchDocumentsResponse:
        return await self._call(
            lambda: self.search_stub.SearchDocuments(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def document(self, document_id: str, valid_on: dt.date | None = None) -> spb.PublicDocument:
        request = spb.GetPublicDocumentRequest(name=f"documents/{document_id}")
        dates.set_date(request, "valid_on", valid_on)
        return await self._call(
            lambda: self.search_stub.GetPublicDocument(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def version(self, document_id: str, number: int) -> spb.PublicDocument:
        request = spb.GetPublicDocumentRequest(name=f"documents/{document_id}/versions/{number}")
        return await self._call(
            lambda: self.search_stub.GetPublicDocument(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def document_bytes(self, document_id: str, valid_on: dt.date | None = None) -> bytes:
        """`document`'s reply, serialised (spb.PublicDocument.FromString reads it)."""
        request = spb.GetPublicDocumentRequest(name=f"documents/{document_id}")
        dates.set_date(request, "valid_on", valid_on)
        return await self._bytes(request)

    async def version_bytes(self, document_id: str, number: int) -> bytes:
        """`version`'s reply, serialised."""
        return await self._bytes(spb.GetPublicDocumentRequest(name=f"documents/{document_id}/versions/{number}"))

    async def _bytes(self, request: spb.GetPublicDocumentRequest) -> bytes:
        reply = await self._call(
            lambda: self._public_document_bytes(request, timeout=self.timeout_s, wait_for_ready=True)
        )
        return cast(bytes, reply)

    async def by_number(self, uniform_number: str) -> spb.PublicDocument:
        request = spb.GetPublicDocumentRequest(uniform_number=uniform_number)
        return await self._call(
            lambda: self.search_stub.GetPublicDocument(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def consultations(self, page_size: int = 100, page_token: str = "") -> spb.ListOpenConsultationsResponse:
        request = spb.ListOpenConsultationsRequest(page_size=page_size, page_token=page_token)
        return await self._call(
            lambda: self.search_stub.ListOpenConsultations(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def submit_comment(self, version: str, text: str) -> pb.Comment:
        """A comment on `version` (documents/{d}/versions/{n}), the draft the reader was shown."""
        request = rpb.CreateCommentRequest(parent=version, comment=pb.Comment(text=text))
        return await self._call(
            lambda: self.registry_stub.CreateComment(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def submit_review_suggestion(self, suggestion: fpb.ReviewSuggestion) -> fpb.ReviewSuggestion:
        """A review suggestion (审查建议) to the filing service; its reply never carries the contact."""
        stub = self.filing_stub
        if stub is None:
            raise NotFound()
        request = fpb.SubmitReviewSuggestionRequest(review_suggestion=suggestion)
        return await self._call(
            lambda: stub.SubmitReviewSuggestion(request, timeout=self.timeout_s, wait_for_ready=True)
        )

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            raise portal_error(error) from error


def _channel(address: str, tls: ClientTls | None) -> grpc.aio.Channel:
    return open_channel(address, tls, options=CHANNEL_OPTIONS)


# Shown when a review suggestion names a text that is no longer in force.
NOT_IN_FORCE = "审查建议只能针对现行有效或已公布尚未生效的文件；本文件已不再有效。"
# Shown when it names a kind not filed for review here.
NOT_REVIEWED_HERE = (
    "本文件不报送本机关备案审查：对法律、行政法规的审查建议，请向全国人民代表大会常务委员会提出"
    "（立法法第一百一十条）；重大行政决策不属于备案审查的范围。"
)


def portal_error(error: grpc.aio.AioRpcError) -> PortalError:
    code = error.code()
    if code == grpc.StatusCode.NOT_FOUND:
        return NotFound()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return BadRequest("请求中有无法识别的内容，请检查后重试。", field=_field(error))
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED):
        reason = _reason(error)
        if reason == "SUGGESTION_ON_TEXT_NOT_IN_FORCE":
            return Conflict(NOT_IN_FORCE)
        if reason == "SUGGESTION_NOT_REVIEWED_HERE":
            return Conflict(NOT_REVIEWED_HERE)
        return Conflict("征求意见期未开始或已经结束，意见未能提交。")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return NotFound()
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        if _reason(error) == "SEARCH_TOO_LONG":
            return TooSlow()
        return TooMany("提交过于频繁，请稍后再试。")
    log.warning("portal: %s from a backend call: %s", code.name, error.details())
    return Unavailable()


def _field(error: grpc.aio.AioRpcError) -> str:
    """The field of the first field violation of a google.rpc.Status refusal; "" when it names none."""
    try:
        status = rpc_status.from_call(error)
    except (ValueError, DecodeError):
        return ""
    for detail in status.details if status is not None else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            return str(bad.field_violations[0].field)
    return ""


def _reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a google.rpc.Status refusal; "" when it carries none (or one that
    does not agree with the call's own code and message)."""
    try:
        status = rpc_status.from_call(error)
    except (ValueError, DecodeError):
        return ""
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""
