"""Review service: legality review (合法性审查) tasks, taken and decided by the legal affairs office."""

from __future__ import annotations

import argparse

from normreg.v1 import review_service_pb2 as review_pb

from normreg_cli import views_review
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.enums import REVIEW_DECISION, REVIEW_STATE
from normreg_cli.options import add_enum, add_paging, next_page_hint, review_name


async def reviews(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.review.ListReviews(
        review_pb.ListReviewsRequest(
            page_size=args.page_size,
            page_token=args.page_token,
            state=REVIEW_STATE.optional(args.state),
            reviewing_office=args.office,
            overdue_only=args.overdue,
        )
    )
    ctx.show(response, lambda: views_review.review_list(response, next_page_hint(response.next_page_token)))


async def review_get(ctx: Context, args: argparse.Namespace) -> None:
    found = await ctx.clients.review.GetReview(review_pb.GetReviewRequest(name=args.name))
    ctx.show(found, lambda: views_review.review(found, ctx.tz, text=args.text))


async def review_claim(ctx: Context, args: argparse.Namespace) -> None:
    claimed = await ctx.clients.review.ClaimReview(review_pb.ClaimReviewRequest(name=args.name))
    ctx.show(claimed, lambda: views_review.review(claimed, ctx.tz))


async def review_decide(ctx: Context, args: argparse.Namespace) -> None:
    decided = await ctx.clients.review.DecideReview(
        review_pb.DecideReviewRequest(
            name=args.name,
            decision=REVIEW_DECISION.value(args.decision),
            opinion=args.opinion,
            problems=args.problems,
            etag=args.etag,
        )
    )
    ctx.show(decided, lambda: views_review.review(decided, ctx.tz))


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=review_name, metavar="REVIEW", help="reviews/{id} or just the id")


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "reviews", reviews, "reviewer: list legality reviews")
    add_enum(p, "--state", REVIEW_STATE, "only this state")
    p.add_argument("--office", default="", help="only this reviewing office")
    p.add_argument("--overdue", action="store_true", help="only undecided reviews past their due date")
    add_paging(p)

    p = add_command(subparsers, "review-get", review_get, "reviewer: read one review")
    _name(p)
    p.add_argument("--text", action="store_true", help="also print the text under review")

    p = add_command(subparsers, "review-claim", review_claim, "reviewer: take a review task")
    _name(p)

    p = add_command(subparsers, "review-decide", review_decide, "reviewer: record the legality opinion")
    _name(p)
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", dest="decision", action="store_const", const="approve", help="lawful (合法)")
    decision.add_argument(
        "--return", dest="decision", action="store_const", const="return_for_revision", help="return for revision"
    )
    decision.add_argument("--reject", dest="decision", action="store_const", const="reject", help="unlawful (不合法)")
    p.add_argument("--opinion", default="", help="the written opinion")
    p.add_argument(
        "--problem", dest="problems", action="append", default=[], metavar="TEXT", help="a problem found (repeatable)"
    )
    p.add_argument("--etag", default="", help="fail if the review changed since this etag")
