"""Registry: the append-only history of a document and the check that nobody changed its past."""

from __future__ import annotations

import argparse

from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import views_registry
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.options import document_name

NOT_INTACT = 1


async def history(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.GetHistory(rpb.GetHistoryRequest(name=args.name))
    ctx.show(response, lambda: views_registry.history(response, ctx.tz))


async def verify(ctx: Context, args: argparse.Namespace) -> int:
    result = await ctx.clients.registry.VerifyHistory(rpb.VerifyHistoryRequest(name=args.name))
    ctx.show(result, lambda: views_registry.verification(result))
    return 0 if result.intact else NOT_INTACT


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "history", history, "every recorded transition of a document: who, when, why")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")

    p = add_command(
        subparsers,
        "verify",
        verify,
        "check the hash chain of the history (exit code 1 when it was altered)",
    )
    p.add_argument(
        "name", type=document_name, nargs="?", default="", metavar="DOCUMENT", help="default: every document"
    )
