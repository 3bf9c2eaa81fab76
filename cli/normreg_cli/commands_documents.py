"""Registry: a document's lifecycle from draft to repeal, one command per transition."""

from __future__ import annotations

import argparse

from google.protobuf import field_mask_pb2
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates, views_registry
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.enums import KIND, PROCEDURE, STATE
from normreg_cli.options import (
    add_body,
    add_enum,
    add_paging,
    document_name,
    iso_date,
    next_page_hint,
    positive_int,
    read_body,
)


async def create(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.CreateDocument(
        rpb.CreateDocumentRequest(
            request_id=args.request_id,
            kind=KIND.value(args.kind),
            title=args.title,
            body=read_body(args) or "",
            issuing_body=args.issuing_body,
            number_prefix=args.prefix,
            provisional=args.provisional,
            filing_exemption_reason=args.not_filed_because,
        )
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def get(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.GetDocument(rpb.GetDocumentRequest(name=args.name))
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz, text=args.text))


async def list_documents(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.ListDocuments(
        rpb.ListDocumentsRequest(
            page_size=args.page_size,
            page_token=args.page_token,
            state=STATE.optional(args.state),
            kind=KIND.optional(args.kind),
            issuing_body=args.issuing_body,
            drafting_org=args.drafting_org,
        )
    )
    ctx.show(response, lambda: views_registry.document_list(response, ctx.tz, next_page_hint(response.next_page_token)))


async def edit(ctx: Context, args: argparse.Namespace) -> None:
    body = read_body(args)
    paths = [path for path, value in (("title", args.title), ("body", body)) if value is not None]
    if not paths:
        raise UsageError("nothing to change: give --title, --body or --body-file")
    etag = args.etag or (await ctx.clients.registry.GetDocument(rpb.GetDocumentRequest(name=args.name))).etag
    doc = await ctx.clients.registry.UpdateDraft(
        rpb.UpdateDraftRequest(
            name=args.name,
            update_mask=field_mask_pb2.FieldMask(paths=paths),
            title=args.title or "",
            body=body or "",
            etag=etag,
        )
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def procedure(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.RecordProcedure(
        rpb.RecordProcedureRequest(name=args.name, procedure=PROCEDURE.value(args.procedure), summary=args.summary)
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def submit(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.SubmitForReview(rpb.SubmitForReviewRequest(name=args.name, etag=args.etag))
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def deliberate(ctx: Context, args: argparse.Namespace) -> None:
    decision = rpb.DELIBERATION_DECISION_ADOPT if args.adopt else rpb.DELIBERATION_DECISION_SEND_BACK
    doc = await ctx.clients.registry.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=args.name,
            decision=decision,
            meeting=args.meeting,
            meeting_date=dates.to_pb(args.date),
            reason=args.reason,
        )
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def promulgate(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.Promulgate(
        rpb.PromulgateRequest(
            name=args.name,
            promulgation_date=dates.to_pb(args.date),
            effective_date=dates.to_pb(args.effective),
            early_effect_reason=args.reason,
            number_sequence=args.sequence,
            validity_years=args.validity_years,
        )
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def amend(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.StartAmendment(
        rpb.StartAmendmentRequest(name=args.name, evaluation=args.evaluation, request_id=args.request_id)
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def repeal(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.Repeal(
        rpb.RepealRequest(name=args.name, reason=args.reason, evaluation=args.evaluation, repealed_by=args.repealed_by)
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def invalidate(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.DeclareInvalid(rpb.DeclareInvalidRequest(name=args.name, reason=args.reason))
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def withdraw(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.Withdraw(rpb.WithdrawRequest(name=args.name, reason=args.reason))
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


def _name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", type=document_name, metavar="DOCUMENT", help="documents/{id} or just the id")


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "create", create, "drafter: create a draft")
    add_enum(p, "--kind", KIND, "level of legal force", required=True)
    p.add_argument("--title", required=True)
    add_body(p)
    p.add_argument("--issuing-body", required=True, metavar="BODY", help="e.g. 赤峰市人民政府")
    p.add_argument("--prefix", default="", help="prefix of its uniform number, e.g. 赤政规")
    p.add_argument("--provisional", action="store_true", help="暂行/试行: the shorter validity period")
    p.add_argument(
        "--not-filed-because",
        default="",
        metavar="REASON",
        help="only for a document that need not be filed (e.g. 内部工作制度): why; it then leaves the 报备率",
    )
    p.add_argument("--request-id", default="", metavar="ID", help="a retry with the same id returns the first result")

    p = add_command(subparsers, "get", get, "read a document with its versions")
    _name(p)
    p.add_argument("--text", action="store_true", help="also print the text of the newest version")

    p = add_command(subparsers, "list", list_documents, "list the documents the caller may see")
    add_enum(p, "--state", STATE, "only this state")
    add_enum(p, "--kind", KIND, "only this kind")
    p.add_argument("--issuing-body", default="", metavar="BODY")
    p.add_argument("--drafting-org", default="", metavar="ORG")
    add_paging(p)

    p = add_command(
        subparsers, "edit", edit, "drafter: change the title or text of a draft (reads the current etag unless --etag)"
    )
    _name(p)
    p.add_argument("--title")
    add_body(p, "new text")
    p.add_argument("--etag", default="", help="fail if the document changed since this etag")

    p = add_command(subparsers, "procedure", procedure, "drafter: record a procedure a major decision needs")
    _name(p)
    p.add_argument("procedure", type=PROCEDURE.parse, metavar="PROCEDURE", help=PROCEDURE.help())
    p.add_argument("--summary", required=True, help="what was done, e.g. 召开专家论证会")

    p = add_command(subparsers, "submit", submit, "drafter: submit the draft for legality review")
    _name(p)
    p.add_argument("--etag", default="", help="fail if the document changed since this etag")

    p = add_command(subparsers, "deliberate", deliberate, "secretary: record the executive meeting's decision")
    _name(p)
    decision = p.add_mutually_exclusive_group(required=True)
    decision.add_argument("--adopt", action="store_true", help="adopted (审议通过)")
    decision.add_argument("--send-back", action="store_true", help="sent back for redrafting")
    p.add_argument("--meeting", required=True, help="e.g. 市政府第12次常务会议")
    p.add_argument("--date", required=True, type=iso_date, help="date of the meeting, YYYY-MM-DD")
    p.add_argument("--reason", default="")

    p = add_command(subparsers, "promulgate", promulgate, "registrar: promulgate with a uniform number")
    _name(p)
    p.add_argument("--date", default="", type=iso_date, help="promulgation date (default today)")
    p.add_argument("--effective", default="", type=iso_date, metavar="DATE", help="effective date (default +30 days)")
    p.add_argument("--reason", default="", help="why it takes effect earlier than the default")
    p.add_argument(
        "--sequence", type=positive_int, default=0, metavar="N", help="sequence of the number (default next)"
    )
    p.add_argument(
        "--validity-years", type=positive_int, default=0, metavar="N", help="validity of a normative document"
    )

    p = add_command(subparsers, "amend", amend, "drafter: start an amendment (a new version) of a document in force")
    _name(p)
    p.add_argument("--evaluation", type=document_name, default="", help="documents/{d}/evaluations/{e} that led to it")
    p.add_argument("--request-id", default="", metavar="ID")

    p = add_command(subparsers, "repeal", repeal, "registrar: repeal a document in force (废止)")
    _name(p)
    p.add_argument("--reason", required=True)
    p.add_argument("--evaluation", type=document_name, default="", help="documents/{d}/evaluations/{e} that led to it")
    p.add_argument(
        "--repealed-by", default="", type=document_name, metavar="DOCUMENT", help="the document repealing it"
    )

    p = add_command(subparsers, "invalidate", invalidate, "registrar: declare a document in force invalid (宣布失效)")
    _name(p)
    p.add_argument("--reason", required=True)

    p = add_command(subparsers, "withdraw", withdraw, "drafter: withdraw a document before promulgation")
    _name(p)
    p.add_argument("--reason", required=True)
