"""What a command is: a handler called with a Context and the parsed arguments, added to the parser
with `add_command`. A command module has one function, `register(subparsers)`, that adds its commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO, TypeAlias
from zoneinfo import ZoneInfo

from google.protobuf import message

from normreg_cli import render
from normreg_cli.argtypes import bearer_token, bounded_number
from normreg_cli.client import SERVICES, Clients

if TYPE_CHECKING:
    from normreg_common.settings import Settings

# What `register(subparsers)` receives: the result of ArgumentParser.add_subparsers().
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """Arguments that parse but do not make sense together; exit code 2, like argparse's own errors."""


@dataclass
class Context:
    out: TextIO
    err: TextIO
    as_json: bool
    clients: Clients
    settings: Settings
    tz: ZoneInfo

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def show(self, msg: message.Message, human: Callable[[], str]) -> None:
        """The message as JSON with --json, else what `human` makes of it."""
        self.print(render.to_json(msg) if self.as_json else human())


# Returns the exit code; None means 0.
Handler = Callable[[Context, argparse.Namespace], Awaitable[int | None]]


def global_options(*, for_subcommand: bool) -> argparse.ArgumentParser:
    """Options every command takes, before or after its name. On subcommands they default to SUPPRESS,
    so that a value given before the command name is not overwritten, and stay out of the help there."""

    def shown(text: str) -> str:
        return argparse.SUPPRESS if for_subcommand else text

    unset = argparse.SUPPRESS if for_subcommand else None
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("connection and identity (also accepted after the command name)")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if for_subcommand else False,
        help=shown("print the API's messages as JSON (for scripts)"),
    )
    group.add_argument(
        "--token", metavar="JWT", type=bearer_token, default=unset, help=shown("bearer token (default: $NORMREG_TOKEN)")
    )
    group.add_argument(
        "--as",
        dest="as_identity",
        metavar="ROLE[,ROLE]:SUBJECT[@ORG]",
        default=unset,
        help=shown(
            "FOR DEVELOPMENT: act as this identity with a token signed by the local dev key, "
            "e.g. drafter:alice@市司法局 or registrar:reg"
        ),
    )
    for service in SERVICES:
        group.add_argument(
            f"--{service}",
            metavar="HOST:PORT",
            default=unset,
            help=shown(f"{service} service address (default $NORMREG_{service.upper()}_ADDR or the built-in one)"),
        )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=bounded_number(86_400, "seconds"),
        default=argparse.SUPPRESS if for_subcommand else 30.0,
        help=shown("deadline of every call (default 30)"),
    )
    return parser


GLOBAL_NOTE = (
    "global options (--json, --token, --as, --registry, --review, --search, --filing, --timeout): see normreg -h"
)


def add_command(
    subparsers: Subparsers, name: str, handler: Handler, help: str, epilog: str = ""
) -> argparse.ArgumentParser:
    """A subcommand that takes the global options too and runs `handler`."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=help,
        epilog="\n".join(x for x in (epilog, GLOBAL_NOTE) if x),
        parents=[global_options(for_subcommand=True)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_group(subparsers: Subparsers, name: str, help: str) -> Subparsers:
    """A command with subcommands of its own, such as `cleanup create`."""
    parser = subparsers.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest=f"{name}_command", metavar="SUBCOMMAND", required=True)
