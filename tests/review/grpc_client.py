"""A gRPC caller for the tests: one identity, a deadline on every call, and readable errors."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2
from normreg.v1 import review_service_pb2 as pb
from normreg.v1 import review_service_pb2_grpc as pb_grpc

DEADLINE_S = 5.0


class Caller:
    def __init__(self, channel: grpc.aio.Channel, token: str | None) -> None:
        self._stub = pb_grpc.ReviewServiceStub(channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()

    async def list(self, **fields: object) -> pb.ListReviewsResponse:
        response: pb.ListReviewsResponse = await self._stub.ListReviews(
            pb.ListReviewsRequest(**fields), metadata=self._metadata, timeout=DEADLINE_S
        )
        return response

    async def get(self, name: str) -> pb.Review:
        review: pb.Review = await self._stub.GetReview(
            pb.GetReviewRequest(name=name), metadata=self._metadata, timeout=DEADLINE_S
        )
        return review

    async def claim(self, name: str) -> pb.Review:
        review: pb.Review = await self._stub.ClaimReview(
            pb.ClaimReviewRequest(name=name), metadata=self._metadata, timeout=DEADLINE_S
        )
        return review

    async def decide(self, request: pb.DecideReviewRequest) -> pb.Review:
        review: pb.Review = await self._stub.DecideReview(request, metadata=self._metadata, timeout=DEADLINE_S)
        return review


def approve(review: str, **fields: object) -> pb.DecideReviewRequest:
    """An approval of `review`; `fields` override any part of the request, the name included."""
    values: dict[str, object] = {"name": review, "decision": pb.REVIEW_DECISION_APPROVE, **fields}
    return pb.DecideReviewRequest(**values)  # type: ignore[arg-type]


def status_details(error: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """The ErrorInfo reason and the BadRequest fields of a failed call."""
    reason, fields = "", []
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        assert isinstance(value, bytes)
        for detail in status_pb2.Status.FromString(value).details:
            info = error_details_pb2.ErrorInfo()
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(bad):
                fields = [v.field for v in bad.field_violations]
    return reason, fields
