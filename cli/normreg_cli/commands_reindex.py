"""`normreg reindex`: rebuild the public search index from the event log (administrators).

The search service builds the new index aside and switches to it at the end, so search is never empty.
"""

from __future__ import annotations

import argparse

from normreg.v1 import search_service_pb2 as spb

from normreg_cli.command import Context, Subparsers, add_command


async def reindex(ctx: Context, args: argparse.Namespace) -> None:
    reply = await ctx.clients.search.RebuildIndex(spb.RebuildIndexRequest())
    ctx.show(reply, lambda: f"search index rebuilt from the event log in {reply.seconds:.1f}s")


def register(subparsers: Subparsers) -> None:
    add_command(
        subparsers,
        "reindex",
        reindex,
        "rebuild the search index from the event log without a moment of empty search (admin)",
        epilog="example: normreg --as admin:root reindex",
    )
