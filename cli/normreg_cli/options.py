"""Argument types shared by the commands: resource names, dates, text from a file, enum words."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TypeVar

from normreg_cli.command import UsageError
from normreg_cli.enums import Words

V = TypeVar("V", bound=int)


def document_name(text: str) -> str:
    """`abc`, `documents/abc`, `abc/versions/2` or anything under a document (`abc/evaluations/1`,
    `abc/versions/1/comments/3`): a name without the collection gets its prefix."""
    return _prefixed(text, "documents")


def review_name(text: str) -> str:
    return _prefixed(text, "reviews")


def received_filing_name(text: str) -> str:
    return _prefixed(text, "receivedFilings")


def suggestion_name(text: str) -> str:
    return _prefixed(text, "reviewSuggestions")


def campaign_name(text: str) -> str:
    return _prefixed(text, "cleanupCampaigns")


def _prefixed(text: str, collection: str) -> str:
    text = text.strip()
    if not text:  # an optional argument's default
        return ""
    return text if text.startswith(f"{collection}/") else f"{collection}/{text}"


def iso_date(text: str) -> str:
    """A calendar date YYYY-MM-DD, checked here so a typo is a usage error, not a server round trip."""
    if not text.strip():  # an optional argument's default
        return ""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


# Every whole number the CLI sends is a 32-bit field of the API.
INT_MAX = 2**31 - 1


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    if value > INT_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is more than {INT_MAX}")
    return value


def add_enum(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    flag: str,
    words: Words[V],
    help: str,
    *,
    repeat: bool = False,
    required: bool = False,
) -> None:
    """`--kind normative_document`: a readable word, listed in the help."""
    parser.add_argument(
        flag,
        type=words.parse,
        action="append" if repeat else "store",
        required=required,
        metavar=flag.lstrip("-").upper(),
        help=f"{help}{' (repeatable)' if repeat else ''}: {words.help()}",
    )


def add_body(parser: argparse.ArgumentParser, help: str = "text of the draft") -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--body", help=help)
    group.add_argument("--body-file", metavar="FILE", help=f"{help}, read from FILE (UTF-8; - for stdin)")


def read_body(args: argparse.Namespace) -> str | None:
    """The --body or --body-file text, None when neither was given."""
    if args.body is not None:
        return str(args.body)
    if args.body_file is None:
        return None
    if args.body_file == "-":
        return sys.stdin.read()
    try:
        return Path(args.body_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --body-file {args.body_file}: {exc}") from None


def add_paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--page-size", type=positive_int, default=0, metavar="N", help="results per page")
    parser.add_argument("--page-token", default="", metavar="TOKEN", help="the page after the one that gave this token")


def next_page_hint(token: str) -> str:
    return f"more: --page-token {token}" if token else ""
