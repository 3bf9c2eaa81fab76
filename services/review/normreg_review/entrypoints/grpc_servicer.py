"""The ReviewService gRPC API: validate at the edge, call the use case, map the result. No rules here."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from normreg.v1 import review_service_pb2 as pb
from normreg.v1 import review_service_pb2_grpc as pb_grpc
from normreg_common.grpc_server import current_principal
from normreg_common.validation import parse, resource_id

from normreg_review.application.service import ReviewService
from normreg_review.entrypoints import proto_mapping, requests

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["ReviewService"].full_name


class ReviewServicer(pb_grpc.ReviewServiceServicer):
    def __init__(self, service: ReviewService) -> None:
        self._service = service

    async def ListReviews(
        self, request: pb.ListReviewsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListReviewsResponse:
        query = parse(
            requests.ListReviews,
            page_size=request.page_size,
            page_token=request.page_token,
            state=proto_mapping.state_filter(request.state),
            reviewing_office=request.reviewing_office,
            overdue_only=request.overdue_only,
        )
        today = self._service.today()
        reviews, token = await self._service.list_reviews(
            current_principal(),
            state=query.state,
            reviewing_office=query.reviewing_office,
            overdue_only=query.overdue_only,
            page_size=query.page_size,
            page_token=query.page_token,
            size_of=lambda review: proto_mapping.to_proto(review, today).ByteSize(),
        )
        return pb.ListReviewsResponse(
            reviews=[proto_mapping.to_proto(r, today) for r in reviews], next_page_token=token
        )

    async def GetReview(self, request: pb.GetReviewRequest, context: grpc.aio.ServicerContext) -> pb.Review:
        review_id = _review_id(parse(requests.ReviewByName, name=request.name).name)
        review = await self._service.get_review(current_principal(), review_id)
        return proto_mapping.to_proto(review, self._service.today())

    async def ClaimReview(self, request: pb.ClaimReviewRequest, context: grpc.aio.ServicerContext) -> pb.Review:
        review_id = _review_id(parse(requests.ReviewByName, name=request.name).name)
        review = await self._service.claim_review(current_principal(), review_id)
        return proto_mapping.to_proto(review, self._service.today())

    async def DecideReview(self, request: pb.DecideReviewRequest, context: grpc.aio.ServicerContext) -> pb.Review:
        command = parse(
            requests.DecideReview,
            name=request.name,
            decision=proto_mapping.decision(request.decision),
            opinion=request.opinion,
            problems=list(request.problems),
            etag=request.etag,
        )
        review = await self._service.decide_review(
            current_principal(),
            _review_id(command.name),
            decision=command.decision,
            opinion=command.opinion,
            problems=command.problems,
            etag=command.etag,
        )
        return proto_mapping.to_proto(review, self._service.today())


def _review_id(name: str) -> str:
    return resource_id(name, "reviews")


def register(service: ReviewService) -> Callable[[grpc.aio.Server], str]:
    def add(server: grpc.aio.Server) -> str:
        pb_grpc.add_ReviewServiceServicer_to_server(ReviewServicer(service), server)
        return SERVICE_NAME

    return add
