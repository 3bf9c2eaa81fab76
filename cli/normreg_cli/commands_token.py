"""`normreg token`: a development token signed with the local dev key, to export as NORMREG_TOKEN."""

from __future__ import annotations

import argparse
import datetime as dt
import json

from normreg_cli.argtypes import bounded_number
from normreg_cli.command import Context, Subparsers, UsageError, add_command
from normreg_cli.identity import ROLES, DevIdentity, mint


async def token(ctx: Context, args: argparse.Namespace) -> None:
    roles = tuple(r.strip() for item in args.roles for r in item.split(",") if r.strip())
    if args.ttl_hours <= 0:
        raise UsageError("--ttl-hours must be positive")
    identity = DevIdentity(roles=roles, subject=args.sub, org=args.org)
    jwt = mint(ctx.settings, identity, ttl=dt.timedelta(hours=args.ttl_hours))
    if ctx.as_json:
        ctx.print(
            json.dumps({"token": jwt, "subject": args.sub, "roles": list(roles), "org": args.org}, ensure_ascii=False)
        )
    else:
        ctx.print(jwt)


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "token",
        token,
        "FOR DEVELOPMENT: print a token signed with the local dev key",
        epilog="example: export NORMREG_TOKEN=$(normreg token --sub alice --role drafter --org 市司法局)",
    )
    p.add_argument("--sub", required=True, metavar="SUBJECT", help="who, e.g. alice")
    p.add_argument(
        "--role", dest="roles", action="append", required=True, metavar="ROLE", help=f"repeatable: {', '.join(ROLES)}"
    )
    p.add_argument("--org", default="", help="organisation, e.g. 市司法局")
    p.add_argument(
        "--ttl-hours",
        type=bounded_number(24 * 366, "hours"),
        default=12.0,
        metavar="HOURS",
        help="lifetime (default 12, at most a year)",
    )
