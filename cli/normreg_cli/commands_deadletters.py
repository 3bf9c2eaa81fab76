"""`normreg dead-letters list|retry`: the records an event consumer set aside (administrators).

Each of the registry, review, search and filing services keeps the records its consumers could not
decode or apply; `list` shows them (every service unless --service names one), `retry` applies one
again. The filing service reads one stream per peer jurisdiction: its column "consumer" names the
peer that sent each record (filing:{peer}).
"""

from __future__ import annotations

import argparse
from typing import cast

from normreg.v1 import dead_letter_service_pb2 as pb
from normreg.v1 import dead_letter_service_pb2_grpc as pb_grpc

from normreg_cli.client import DEAD_LETTER_SERVICES as SERVICES
from normreg_cli.command import Context, Subparsers, add_command, add_group
from normreg_cli.render import table

ERROR_WIDTH = 80


def _stub(ctx: Context, service: str) -> pb_grpc.DeadLetterServiceAsyncStub:
    return cast("pb_grpc.DeadLetterServiceAsyncStub", pb_grpc.DeadLetterServiceStub(ctx.clients.channel(service)))


async def list_letters(ctx: Context, args: argparse.Namespace) -> None:
    every = pb.ListDeadLettersResponse()
    rows: list[list[str]] = []
    for service in [args.service] if args.service else SERVICES:
        token = ""
        while True:
            page = await _stub(ctx, service).ListDeadLetters(pb.ListDeadLettersRequest(page_token=token))
            every.dead_letters.extend(page.dead_letters)
            rows.extend(
                [service, d.consumer, d.name, d.stage, str(d.attempts), d.key, d.error[:ERROR_WIDTH]]
                for d in page.dead_letters
            )
            token = page.next_page_token
            if not token:
                break
    ctx.show(
        every,
        lambda: table(
            ["service", "consumer", "dead letter", "stage", "attempts", "key", "error"], rows, empty="no dead letters"
        ),
    )


async def retry(ctx: Context, args: argparse.Namespace) -> int | None:
    reply = await _stub(ctx, args.service).RetryDeadLetter(pb.RetryDeadLetterRequest(name=args.name))
    if reply.applied:
        ctx.show(reply, lambda: f"{args.name}: applied, no longer a dead letter")
        return None
    ctx.show(reply, lambda: f"{args.name}: failed again: {reply.dead_letter.error}")
    return 1


def _name(text: str) -> str:
    return text if text.startswith("deadLetters/") else f"deadLetters/{text}"


def register(subparsers: Subparsers) -> None:
    group = add_group(subparsers, "dead-letters", "records an event consumer could not decode or apply (admin)")
    p = add_command(
        group,
        "list",
        list_letters,
        "list the records set aside by the registry's, review's, search's and filing's consumers",
        epilog="example: normreg --as admin:root dead-letters list --service registry",
    )
    p.add_argument("--service", choices=SERVICES, help="only this service's consumer")
    p = add_command(
        group,
        "retry",
        retry,
        "decode and apply a dead letter again; exit 1 if it fails again",
        epilog="example: normreg --as admin:root dead-letters retry --service registry normreg.reviews:0:42",
    )
    p.add_argument("--service", choices=SERVICES, required=True, help="the service whose consumer set it aside")
    p.add_argument("name", type=_name, metavar="NAME", help="deadLetters/{topic}:{partition}:{offset}")
