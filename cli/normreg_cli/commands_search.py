"""Search service: what the public sees. Needs no identity."""

from __future__ import annotations

import argparse

from normreg.v1 import search_service_pb2 as search_pb

from normreg_cli import dates, views_search
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.enums import KIND, SORT, STATE
from normreg_cli.options import add_enum, add_paging, document_name, iso_date, next_page_hint


async def search(ctx: Context, args: argparse.Namespace) -> None:
    request = search_pb.SearchDocumentsRequest(
        query=" ".join(args.query),
        states=[STATE.value(s) for s in args.state or []],
        kinds=[KIND.value(k) for k in args.kind or []],
        issuing_bodies=args.body or [],
        valid_on=dates.to_pb(args.valid_on),
        uniform_number=args.number,
        sort=SORT.optional(args.sort),
        page_size=args.page_size,
        page_token=args.page_token,
    )
    if args.promulgated_from or args.promulgated_to:
        request.promulgation_date.CopyFrom(
            search_pb.DateRange(from_date=dates.to_pb(args.promulgated_from), to_date=dates.to_pb(args.promulgated_to))
        )
    response = await ctx.clients.search.SearchDocuments(request)
    tty = ctx.out.isatty()
    ctx.show(response, lambda: views_search.search_results(response, next_page_hint(response.next_page_token), tty=tty))


async def show(ctx: Context, args: argparse.Namespace) -> None:
    if bool(args.name) == bool(args.number):
        raise UsageError("give a DOCUMENT or --number, one of the two")
    found = await ctx.clients.search.GetPublicDocument(
        search_pb.GetPublicDocumentRequest(name=args.name or "", uniform_number=args.number)
    )
    ctx.show(found, lambda: views_search.public_document(found, text=not args.no_text))


async def consultations(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.search.ListOpenConsultations(
        search_pb.ListOpenConsultationsRequest(page_size=args.page_size, page_token=args.page_token)
    )
    ctx.show(response, lambda: views_search.consultations(response, next_page_hint(response.next_page_token)))


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "search",
        search,
        "anyone: search promulgated rules (default: those in force)",
        epilog="example: normreg search 城市绿化 --kind normative_document --valid-on 2026-06-01",
    )
    p.add_argument("query", nargs="*", help="words to look for (may be empty)")
    add_enum(p, "--state", STATE, "state", repeat=True)
    add_enum(p, "--kind", KIND, "kind", repeat=True)
    p.add_argument("--body", action="append", metavar="BODY", help="issuing body (repeatable)")
    p.add_argument("--valid-on", default="", type=iso_date, metavar="DATE", help="the version valid on this date")
    p.add_argument("--number", default="", help="uniform number, e.g. 赤政规〔2026〕1号")
    p.add_argument("--promulgated-from", default="", type=iso_date, metavar="DATE")
    p.add_argument("--promulgated-to", default="", type=iso_date, metavar="DATE")
    add_enum(p, "--sort", SORT, "order")
    add_paging(p)

    p = add_command(subparsers, "show", show, "anyone: read a promulgated document and its public timeline")
    p.add_argument("name", nargs="?", type=document_name, metavar="DOCUMENT", help="documents/{d}[/versions/{v}]")
    p.add_argument("--number", default="", help="find it by uniform number instead")
    p.add_argument("--no-text", action="store_true", help="leave out the text")

    p = add_command(subparsers, "consultations", consultations, "anyone: drafts open for public comment")
    add_paging(p)
