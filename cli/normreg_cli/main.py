"""`normreg`: the command-line client of the registry, review and search services.

`run_async(argv, stdout, stderr)` is the whole program and returns the exit code, so tests run it
in-process; `main()` is the console script.

Commands live in modules that each have `register(subparsers)`. To add one, write the module and
name it in COMMAND_MODULES; the modules in LATER_MODULES (bulk import of a corpus, rebuilding the
search index) are picked up as soon as they exist.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType
from typing import TextIO
from zoneinfo import ZoneInfo

import grpc
import pydantic
from normreg_common.profile import get_profile
from normreg_common.settings import Settings

from normreg_cli.client import SERVICES, Clients, describe_error
from normreg_cli.command import Context, Handler, UsageError, global_options
from normreg_cli.identity import resolve_token

COMMAND_MODULES = (
    "normreg_cli.commands_documents",
    "normreg_cli.commands_comments",
    "normreg_cli.commands_review",
    "normreg_cli.commands_filing",
    "normreg_cli.commands_filing_review",
    "normreg_cli.commands_cleanup",
    "normreg_cli.commands_history",
    "normreg_cli.commands_verify",
    "normreg_cli.commands_search",
    "normreg_cli.commands_token",
    "normreg_cli.commands_deadletters",
)
# Written by others later; each will be a module with `register(subparsers)` adding `import` / `reindex`.
LATER_MODULES = ("normreg_cli.commands_import", "normreg_cli.commands_reindex")

USAGE_ERROR = 2
FAILED = 1

EPILOG = """\
who does what:
  drafter      create, edit, comment-open, comment-close, comments, reply, procedure, submit, amend, withdraw
  reviewer     reviews, review-get, review-claim, review-decide
  secretary    deliberate
  filing reviewer (reviewer at the recipient)
               received-filings, received-filing, register-filing, decide-filing, correction-response,
               review-suggestions, reply-suggestion, subordinate-report, missing-filings
  registrar    promulgate, file, file-review, due-filings, report, repeal, invalidate, cleanup, history, verify
  evaluator    evaluate, evaluations, due-evaluations
  admin        reindex, dead-letters
  anyone       search, show, consultations, comment, get, list, suggest-review

identity: --token JWT, or $NORMREG_TOKEN; without one you are the public.
  FOR DEVELOPMENT, --as ROLE[,ROLE]:SUBJECT[@ORG] signs a token with the local dev key
  (NORMREG_JWT_KEY or <data_dir>/dev-jwt.key), e.g. --as drafter:alice@市司法局, --as registrar:reg.

example:
  normreg --as drafter:alice@市司法局 create --kind normative_document --title 赤峰市城市绿化管理办法 \\
      --issuing-body 赤峰市人民政府 --prefix 赤政规 --body-file draft.txt
"""


def command_modules() -> list[ModuleType]:
    names = [*COMMAND_MODULES, *(n for n in LATER_MODULES if importlib.util.find_spec(n) is not None)]
    return [importlib.import_module(name) for name in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="normreg",
        description="Client of normreg: regulations and normative documents from draft to repeal.",
        epilog=EPILOG,
        parents=[global_options(for_subcommand=False)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        module.register(subparsers)
    return parser


def parse(
    parser: argparse.ArgumentParser, argv: Sequence[str], stdout: TextIO, stderr: TextIO
) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code when argparse printed help or a usage error."""
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            return parser.parse_args(list(argv))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else USAGE_ERROR


async def run_async(
    argv: Sequence[str],
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    *,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Runs one command; returns 0, 1 when the server refused (or history is not intact), 2 on usage errors."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = parse(build_parser(), argv, out, err)
    if isinstance(args, int):
        return args
    prog = f"normreg {args.command}"
    try:
        settings = settings or Settings()
    except pydantic.ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        err.write(f"{prog}: error: settings: {problems}\n")
        return USAGE_ERROR
    try:
        token = resolve_token(args.token, args.as_identity, os.environ if env is None else env, settings)
    except UsageError as exc:
        err.write(f"{prog}: error: {exc}\n")
        return USAGE_ERROR
    # --registry / --review / --search / --filing, else NORMREG_*_ADDR, else the defaults in Settings.
    addresses = {service: getattr(args, service) or getattr(settings, f"{service}_addr") for service in SERVICES}
    clients = Clients(addresses, token, args.timeout, tls=settings.client_tls())
    ctx = Context(
        out=out,
        err=err,
        as_json=args.json,
        clients=clients,
        settings=settings,
        tz=ZoneInfo(get_profile(settings.profile).timezone),
    )
    handler: Handler = args.handler
    try:
        code = await handler(ctx, args)
    except UsageError as exc:
        err.write(f"{prog}: error: {exc}\n")
        return USAGE_ERROR
    except grpc.aio.AioRpcError as exc:
        line = describe_error(exc, clients)
        if exc.code() == grpc.StatusCode.UNAUTHENTICATED and args.as_identity:
            line += (
                f" (--as signs with NORMREG_JWT_KEY or {settings.data_dir / 'dev-jwt.key'}: "
                "run normreg with the same settings as the servers)"
            )
        err.write(line + "\n")
        return FAILED
    finally:
        await clients.close()
    return code or 0


def main() -> None:
    try:
        code = asyncio.run(run_async(sys.argv[1:]))
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # `normreg list | head`: the reader left, nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    main()
