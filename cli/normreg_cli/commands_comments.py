"""Registry: public comment (征求意见) on a draft: the window, the comments, the answers."""

from __future__ import annotations

import argparse

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb

from normreg_cli import dates, views_registry
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.options import add_paging, document_name, iso_date, next_page_hint


async def comment_open(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.OpenPublicComment(
        rpb.OpenPublicCommentRequest(name=args.name, start_date=dates.to_pb(args.start), end_date=dates.to_pb(args.end))
    )
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def comment_close(ctx: Context, args: argparse.Namespace) -> None:
    doc = await ctx.clients.registry.ClosePublicComment(rpb.ClosePublicCommentRequest(name=args.name))
    ctx.show(doc, lambda: views_registry.document(doc, ctx.tz))


async def comment(ctx: Context, args: argparse.Namespace) -> None:
    sent = await ctx.clients.registry.CreateComment(
        rpb.CreateCommentRequest(parent=args.name, comment=pb.Comment(text=args.text))
    )
    ctx.show(sent, lambda: views_registry.comment(sent, ctx.tz))


async def comments(ctx: Context, args: argparse.Namespace) -> None:
    response = await ctx.clients.registry.ListComments(
        rpb.ListCommentsRequest(parent=args.name, page_size=args.page_size, page_token=args.page_token)
    )
    ctx.show(response, lambda: views_registry.comments(response, ctx.tz, next_page_hint(response.next_page_token)))


async def reply(ctx: Context, args: argparse.Namespace) -> None:
    answered = await ctx.clients.registry.ReplyToComment(rpb.ReplyToCommentRequest(name=args.comment, reply=args.text))
    ctx.show(answered, lambda: views_registry.comment(answered, ctx.tz))


def register(subparsers: Subparsers) -> None:
    p = add_command(subparsers, "comment-open", comment_open, "drafter: open the draft for public comment")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    p.add_argument("--start", required=True, type=iso_date, metavar="DATE", help="first day, YYYY-MM-DD")
    p.add_argument("--end", required=True, type=iso_date, metavar="DATE", help="last day, inclusive")

    p = add_command(subparsers, "comment-close", comment_close, "drafter: close public comment")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")

    p = add_command(subparsers, "comment", comment, "anyone: comment on a draft open for comment (anonymous)")
    p.add_argument("name", type=document_name, metavar="DOCUMENT")
    p.add_argument("text", help="the comment")

    p = add_command(subparsers, "comments", comments, "drafter: list the comments on a draft")
    p.add_argument(
        "name", type=document_name, metavar="DOCUMENT", help="every version's comments, or documents/{d}/versions/{v}"
    )
    add_paging(p)

    p = add_command(subparsers, "reply", reply, "drafter: answer a comment")
    p.add_argument("comment", type=document_name, metavar="COMMENT", help="documents/{d}/versions/{v}/comments/{c}")
    p.add_argument("text", help="the answer")
