"""Registry: filing (备案) with the superior body, the due list, and the filing report."""

from __future__ import annotations

import argparse

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates, views_registry
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.enums import FILING_OUTCOME
from normreg_cli.options import document_name, iso_date, positive_int


def materials(text: str) -> list[str]:
    """`text,legal_basis` (or `all`, or `none`) -> the FilingMaterials fields sent."""
    words = [w.strip().lower().replace("-", "_") for w in text.split(",") if w.strip()]
    if words == ["all"]:
        return list(views_registry.MATERIALS)
    if words == ["none"]:
        return []
    unknown = [w for w in words if w not in views_registry.MATERIALS]
    if unknown:
        known = ", ".join(views_registry.MATERIALS)
        raise argparse.ArgumentTypeError(f"unknown material {', '.join(unknown)}; give some of {known}, or all")
    return words


async def record_filing(ctx: Context, args: argparse.Namespace) -> None:
    sent = pb.FilingMaterials(**dict.fromkeys(args.materials, True))
    filing = await ctx.clients.registry.RecordFiling(
        rpb.RecordFilingRequest(
            name=args.name, filed_date=dates.to_pb(args.date), recipient=args.recipient, materials=sent
        )
    )
    ctx.show(filing, lambda: views_registry.filing(filing))


async def filing_review(ctx: Context, args: argparse.Namespace) -> None:
    outcome = FILING_OUTCOME.value(args.outcome)
    filing = await ctx.clients.registry.RecordFilingReview(
        rpb.RecordFilingReviewRequest(
            name=args.name,
            outcome=outcome,
            note=args.note,
            recipient=args.recipient,
            correction_due_date=dates.to_pb(args.due),
        )
    )
    ctx.show(filing, lambda: views_registry.filing(filing))


async def due_filings(ctx: Context, args: argparse.Namespace) -> None:
    # Every page, most urgent first: the registrar's list of what to file is whole or misleading.
    response = rpb.ListDueFilingsResponse()
    token = ""
    while True:
        page = await ctx.clients.registry.ListDueFilings(
            rpb.ListDueFilingsRequest(within_days=args.within, page_size=args.page_size, page_token=token)
        )
        response.filings.extend(page.filings)
        token = page.next_page_token
        if not token:
            break
    ctx.show(response, lambda: views_registry.due_filings(response))


async def report(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.GetFilingReport(
        rpb.GetFilingReportRequest(year=args.year, issuing_body=args.issuing_body, recipient=args.recipient)
    )
    ctx.show(response, lambda: views_registry.filing_report(response))


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "file", record_filing, "registrar: record the filing with the superior body")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    p.add_argument("--date", required=True, type=iso_date, help="date filed, YYYY-MM-DD")
    p.add_argument("--recipient", required=True, help="e.g. 内蒙古自治区人民政府")
    p.add_argument(
        "--materials",
        type=materials,
        default=[],
        metavar="LIST",
        help=f"materials sent, comma-separated: {','.join(views_registry.MATERIALS)} (or all)",
    )

    p = add_command(subparsers, "file-review", filing_review, "registrar: record the recipient's review of a filing")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    outcome = p.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--accepted", dest="outcome", action="store_const", const="accepted", help="准予备案")
    outcome.add_argument(
        "--correction", dest="outcome", action="store_const", const="correction_required", help="correction required"
    )
    outcome.add_argument("--revoked", dest="outcome", action="store_const", const="revoked", help="revoked")
    p.add_argument("--note", default="")
    p.add_argument("--recipient", default="", help="whose outcome (needed when several filings await one)")
    p.add_argument(
        "--due",
        type=iso_date,
        default="",
        metavar="YYYY-MM-DD",
        help="with --correction: by when the recipient requires it (default: the profile's period from today)",
    )

    p = add_command(subparsers, "due-filings", due_filings, "registrar: filings due soon, and overdue ones")
    p.add_argument("--within", type=positive_int, default=0, metavar="DAYS", help="due within DAYS (default 7)")
    p.add_argument(
        "--page-size", type=positive_int, default=0, metavar="N", help="filings asked for at a time (default 500)"
    )

    p = add_command(
        subparsers, "report", report, "registrar: filing rate, timeliness and conformity (报备率/及时率/规范率)"
    )
    p.add_argument("--year", type=positive_int, default=0, help="one year (default all)")
    p.add_argument("--issuing-body", default="", metavar="BODY")
    p.add_argument("--recipient", default="", metavar="BODY", help="only the filings with this recipient")
