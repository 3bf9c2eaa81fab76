"""Filing review service: the recipient's side of filing (备案审查): received filings, review
suggestions (审查建议) from anyone, missed filings and the report per subordinate jurisdiction."""

from __future__ import annotations

import argparse

from normreg.v1 import filing_review_service_pb2 as fpb

from normreg_cli import dates, views_filing_review
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.enums import MISSING_STATUS, RECEIVED_STATE, REQUESTER_KIND, REVIEW_OUTCOME
from normreg_cli.options import (
    add_enum,
    add_paging,
    document_name,
    iso_date,
    next_page_hint,
    positive_int,
    received_filing_name,
    suggestion_name,
)


def _show_filing(ctx: Context, f: fpb.ReceivedFiling) -> None:
    ctx.show(f, lambda: views_filing_review.received_filing(f, ctx.tz))


async def received_filings(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.filing.ListReceivedFilings(
        fpb.ListReceivedFilingsRequest(
            page_size=args.page_size,
            page_token=args.page_token,
            sender=args.sender,
            state=RECEIVED_STATE.optional(args.state),
            due_before=dates.to_pb(args.due_before),
            recipient=args.recipient,
        )
    )
    ctx.show(response, lambda: views_filing_review.received_filings(response, next_page_hint(response.next_page_token)))


async def received_filing(ctx: Context, args: argparse.Namespace) -> None:
    _show_filing(ctx, await ctx.clients.filing.GetReceivedFiling(fpb.GetReceivedFilingRequest(name=args.name)))


async def register_filing(ctx: Context, args: argparse.Namespace) -> None:
    registered = await ctx.clients.filing.RegisterReceivedFiling(
        fpb.RegisterReceivedFilingRequest(
            name=args.name, missing_materials=args.missing, note=args.note, etag=args.etag
        )
    )
    _show_filing(ctx, registered)


async def decide_filing(ctx: Context, args: argparse.Namespace) -> None:
    decided = await ctx.clients.filing.DecideFilingReview(
        fpb.DecideFilingReviewRequest(
            name=args.name,
            outcome=REVIEW_OUTCOME.value(args.outcome),
            reasons=args.reasons,
            provisions=args.provisions,
            note=args.note,
            etag=args.etag,
        )
    )
    _show_filing(ctx, decided)


async def correction_response(ctx: Context, args: argparse.Namespace) -> None:
    answered = await ctx.clients.filing.RecordCorrectionResponse(
        fpb.RecordCorrectionResponseRequest(name=args.name, response=args.response, etag=args.etag)
    )
    _show_filing(ctx, answered)


async def suggest_review(ctx: Context, args: argparse.Namespace) -> None:
    submitted = await ctx.clients.filing.SubmitReviewSuggestion(
        fpb.SubmitReviewSuggestionRequest(
            review_suggestion=fpb.ReviewSuggestion(
                document=args.document,
                sender=args.sender,
                provisions=args.provisions,
                reasons=args.reasons,
                contact=args.contact,
                requester_kind=REQUESTER_KIND.optional(args.requester),
            )
        )
    )
    ctx.show(submitted, lambda: views_filing_review.suggestion(submitted))


async def review_suggestions(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.filing.ListReviewSuggestions(
        fpb.ListReviewSuggestionsRequest(
            page_size=args.page_size,
            page_token=args.page_token,
            sender=args.sender,
            unanswered_only=args.unanswered,
        )
    )
    ctx.show(response, lambda: views_filing_review.suggestions(response, next_page_hint(response.next_page_token)))


async def reply_suggestion(ctx: Context, args: argparse.Namespace) -> None:
    replied = await ctx.clients.filing.ReplyToReviewSuggestion(
        fpb.ReplyToReviewSuggestionRequest(name=args.name, reply=args.reply)
    )
    ctx.show(replied, lambda: views_filing_review.suggestion(replied))


async def subordinate_report(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.filing.GetSubordinateFilingReport(
        fpb.GetSubordinateFilingReportRequest(sender=args.sender, year=args.year)
    )
    ctx.show(response, lambda: views_filing_review.subordinate_report(response))


async def missing_filings(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.filing.ListMissingFilings(
        fpb.ListMissingFilingsRequest(
            page_size=args.page_size,
            page_token=args.page_token,
            sender=args.sender,
            status=MISSING_STATUS.optional(args.status),
        )
    )
    ctx.show(response, lambda: views_filing_review.missing_filings(response, next_page_hint(response.next_page_token)))


def _filing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=received_filing_name, metavar="FILING", help="receivedFilings/{id} or just the id")


def _etag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--etag", default="", help="fail if the filing changed since this etag")


def _sender(parser: argparse.ArgumentParser, help: str = "only this subordinate jurisdiction (profile name)") -> None:
    parser.add_argument("--sender", default="", metavar="JURISDICTION", help=help)


def _provisions(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--provision", dest="provisions", action="append", default=[], metavar="TEXT", help=help)


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "received-filings", received_filings, "filing reviewer: list filings received")
    _sender(p)
    add_enum(p, "--state", RECEIVED_STATE, "only this state")
    p.add_argument("--due-before", type=iso_date, default="", metavar="DATE", help="awaited step due on or before")
    p.add_argument("--recipient", default="", help="only filings with this body")
    add_paging(p)

    p = add_command(subparsers, "received-filing", received_filing, "filing reviewer: read one received filing")
    _filing(p)

    p = add_command(
        subparsers, "register-filing", register_filing, "filing reviewer: register (登记) or ask for materials"
    )
    _filing(p)
    p.add_argument(
        "--missing",
        action="append",
        default=[],
        choices=views_filing_review.MATERIALS,
        help="a material to be completed (repeatable): the filing is then returned for completion",
    )
    p.add_argument("--note", default="", help="internal note (never sent to the sender)")
    _etag(p)

    p = add_command(subparsers, "decide-filing", decide_filing, "filing reviewer: decide the review")
    _filing(p)
    outcome = p.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--accept", dest="outcome", action="store_const", const="accepted", help="准予备案")
    outcome.add_argument(
        "--correct", dest="outcome", action="store_const", const="correction_required", help="要求纠正"
    )
    outcome.add_argument("--revoke", dest="outcome", action="store_const", const="revoked", help="予以撤销")
    p.add_argument("--reasons", default="", help="why (required to correct or revoke; sent to the sender)")
    _provisions(p, "a provision concerned, e.g. 第五条 (repeatable; required to correct or revoke)")
    p.add_argument("--note", default="", help="internal note (never sent to the sender)")
    _etag(p)

    p = add_command(
        subparsers, "correction-response", correction_response, "filing reviewer: record the sender's answer"
    )
    _filing(p)
    p.add_argument("--response", required=True, help="what the issuing body did: amended, repealed or explained")
    _etag(p)

    p = add_command(subparsers, "suggest-review", suggest_review, "anyone: ask the recipient to review a document")
    p.add_argument("document", type=document_name, metavar="DOC", help="documents/{id}[/versions/{n}] or the id")
    p.add_argument("--reasons", required=True, help="which superior law it conflicts with, and how")
    p.add_argument("--contact", required=True, help="how to reach you for the answer (never made public)")
    _provisions(p, "a provision concerned (repeatable)")
    _sender(p, "the jurisdiction that issued it (default: this deployment's own)")
    add_enum(p, "--requester", REQUESTER_KIND, "who asks (default citizen)")

    p = add_command(subparsers, "review-suggestions", review_suggestions, "filing reviewer: list review suggestions")
    _sender(p)
    p.add_argument("--unanswered", action="store_true", help="only those not answered yet")
    add_paging(p)

    p = add_command(subparsers, "reply-suggestion", reply_suggestion, "filing reviewer: answer a review suggestion")
    p.add_argument("name", type=suggestion_name, metavar="SUGGESTION", help="reviewSuggestions/{id} or the id")
    p.add_argument("--reply", required=True, help="the answer to the requester (反馈)")

    p = add_command(
        subparsers, "subordinate-report", subordinate_report, "filing reviewer: 报备率/及时率/规范率 per subordinate"
    )
    p.add_argument("--year", type=positive_int, required=True)
    _sender(p)

    p = add_command(subparsers, "missing-filings", missing_filings, "filing reviewer: promulgated but not filed")
    _sender(p)
    add_enum(p, "--status", MISSING_STATUS, "before or after the deadline")
    add_paging(p)
