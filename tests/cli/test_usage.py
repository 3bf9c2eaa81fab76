"""Arguments: usage errors exit 2 before any call, an unreachable server names its address, and the
hook through which `import` and `reindex` will be added."""

from __future__ import annotations

from pathlib import Path

import pytest
from normreg_cli import main

from tests.cli.conftest import Cli


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            ["create", "--kind", "statute", "--title", "t", "--issuing-body", "b"],
            "'statute' is not one of: national_law",
        ),
        (
            ["create", "--kind", "normative_document", "--issuing-body", "b"],
            "the following arguments are required: --title",
        ),
        (["deliberate", "x", "--adopt", "--send-back", "--meeting", "m", "--date", "2026-03-02"], "not allowed with"),
        (["promulgate", "x", "--date", "2026-13-01"], "'2026-13-01' is not a date YYYY-MM-DD"),
        (
            ["file", "x", "--date", "2026-03-02", "--recipient", "r", "--materials", "text,seal"],
            "unknown material seal",
        ),
        (["review-decide", "r1", "--opinion", "ok"], "one of the arguments --approve --return --reject is required"),
        (["reviews", "--state", "lost"], "'lost' is not one of: open, claimed, decided, cancelled"),
        (["search", "x", "--sort", "newest"], "'newest' is not one of: relevance"),
        (["get", "x", "--token", "t", "--as", "drafter:alice"], "give either --token or --as, not both"),
        (["get", "x", "--as", "drafter"], "expected ROLE[,ROLE]:SUBJECT[@ORG]"),
        (["get", "x", "--as", "wizard:merlin"], "unknown role wizard"),
        (["edit", "x", "--as", "drafter:alice@市司法局"], "nothing to change: give --title, --body or --body-file"),
        (["edit", "x", "--body-file", "/nonexistent/draft.txt"], "cannot read --body-file /nonexistent/draft.txt"),
        (["show"], "give a DOCUMENT or --number, one of the two"),
        (["cleanup", "outcome", "c1", "d1", "keep"], "'keep' is not one of: retain, amend, repeal, declare_invalid"),
        (["token", "--sub", "", "--role", "drafter"], "a token needs a subject"),
        # Numbers past what the API's fields hold, or no number at all, are usage errors, not tracebacks.
        (["report", "--year", "99999999999"], "'99999999999' is more than 2147483647"),
        (["promulgate", "x", "--validity-years", "2147483648"], "is more than 2147483647"),
        (["search", "x", "--page-size", "2147483648"], "is more than 2147483647"),
        (["due-filings", "--within", "-1"], "must not be negative"),
        (["token", "--sub", "x", "--role", "drafter", "--ttl-hours", "1e308"], "at most 8784 hours"),
        (["token", "--sub", "x", "--role", "drafter", "--ttl-hours", "nan"], "at most 8784 hours"),
        (["--timeout", "inf", "list"], "at most 86400 seconds"),
        (["--timeout", "0", "list"], "give more than 0"),
        (["import", "--concurrency", "1000000000"], "--concurrency must be between 1 and 64"),
        (["import", "--limit", "-5"], "must not be negative"),
        # A token travels in an HTTP header: visible ASCII only.
        (["--token", "令牌", "list"], "visible ASCII characters only"),
        (["--token", "x\ny", "list"], "visible ASCII characters only"),
    ],
)
async def test_usage_errors_exit_2_with_the_reason_and_call_nothing(
    offline: Cli, argv: list[str], message: str
) -> None:
    result = await offline(*argv)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err and result.out == ""


async def test_help_lists_every_role_and_exits_0(offline: Cli) -> None:
    result = await offline("--help")
    assert result.code == 0
    assert "who does what:" in result.out and "FOR DEVELOPMENT" in result.out
    sub = await offline("review-decide", "-h")
    assert sub.code == 0 and "--problem TEXT" in sub.out


async def test_an_unreachable_server_is_one_line_naming_the_address(offline: Cli) -> None:
    result = await offline("get", "abc")
    assert result.code == 1
    assert result.err == (
        "error: cannot reach the registry service at 127.0.0.1:1: is it running? "
        "Start the system with `make run`, or point --registry / NORMREG_REGISTRY_ADDR at it\n"
    )
    elsewhere = await offline("--search", "127.0.0.1:2", "search", "绿化")
    assert elsewhere.err.startswith("error: cannot reach the search service at 127.0.0.1:2: ")


async def test_global_options_work_before_and_after_the_command(offline: Cli) -> None:
    before = await offline("--review", "127.0.0.1:3", "reviews")
    after = await offline("reviews", "--review", "127.0.0.1:3")
    assert "127.0.0.1:3" in before.err and before.err == after.err


async def test_a_later_command_module_is_picked_up_by_its_register_function(
    offline: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "normreg_cli_test_reindex.py").write_text(
        "from normreg_cli.command import add_command\n"
        "async def reindex(ctx, args):\n"
        "    ctx.print(f'reindexed from {ctx.clients.addresses[\"search\"]}')\n"
        "def register(subparsers):\n"
        "    add_command(subparsers, 'reindex', reindex, 'rebuild the search index')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(main, "LATER_MODULES", ("normreg_cli_test_reindex", "normreg_cli_test_not_written_yet"))
    result = await offline("reindex", "--search", "127.0.0.1:4")
    assert (result.code, result.out) == (0, "reindexed from 127.0.0.1:4\n")
