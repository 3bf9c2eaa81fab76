"""Registry: the append-only history of a document. Its check (`verify`) is in commands_verify."""

from __future__ import annotations

import argparse

from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import views_registry
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.options import document_name


async def history(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.GetHistory(rpb.GetHistoryRequest(name=args.name))
    ctx.show(response, lambda: views_registry.history(response, ctx.tz))


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "history", history, "every recorded transition of a document: who, when, why")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
