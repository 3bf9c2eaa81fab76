"""The three services together, driven through the CLI: legality review by the review service, then
the public finds the promulgated rule through search."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock

from tests.cli.conftest import DRAFTER, REGISTRAR, REVIEWER, SECRETARY, Cli, cli_for
from tests.cli.test_lifecycle import create
from tests.harness import System


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "review", "search"))
    await s.start()
    yield s
    await s.stop()


async def test_review_decided_through_the_cli_then_the_public_finds_the_rule(
    system: System, tmp_path: Path, clock: FakeClock
) -> None:
    cli: Cli = cli_for(system, tmp_path / "cli")
    name = await create(cli)
    await cli.ok("--as", DRAFTER, "submit", name)
    await system.pump()

    listed = await cli.ok("--as", REVIEWER, "reviews", "--state", "open")
    header, _, row = listed.out.splitlines()
    assert header.split() == ["review", "document", "v", "title", "state", "assignee", "due"]
    assert row.split()[1:5] == [name, "1", "赤峰市城市绿化管理办法", "open"]
    review = (await cli.ok("--as", REVIEWER, "reviews", "--json")).json()["reviews"][0]["name"]

    read = await cli.ok("--as", REVIEWER, "review-get", review, "--text")
    assert "第二条 本办法适用于本市城市规划区。" in read.out
    refused = await cli("--as", DRAFTER, "review-claim", review)
    assert refused.code == 1 and refused.err.startswith("error: PERMISSION_DENIED (ROLE_NOT_ALLOWED): ")

    claimed = await cli.ok("--as", REVIEWER, "review-claim", review.removeprefix("reviews/"))
    assert "state             claimed" in claimed.out and "assignee          rita" in claimed.out
    decided = await cli.ok(
        "--as",
        REVIEWER,
        "review-decide",
        review,
        "--approve",
        "--opinion",
        "符合上位法",
        "--problem",
        "第二条表述可更明确",
    )
    assert "decision          approve（合法）" in decided.out
    assert "problems          - 第二条表述可更明确" in decided.out
    await system.pump()

    await cli.ok(
        "--as", SECRETARY, "deliberate", name, "--adopt", "--meeting", "市政府第5次常务会议", "--date", "2026-03-02"
    )
    await cli.ok("--as", REGISTRAR, "promulgate", name)
    clock.advance(days=30)
    await system.apps["registry"].service.run_scheduler()
    await system.pump()

    found = await cli.ok("search", "绿化")
    lines = found.out.splitlines()
    assert lines[0].split() == ["title", "number", "state", "promulgated", "effective", "document"]
    assert lines[2].split()[:5] == [
        "赤峰市城市绿化管理办法",
        "赤政规〔2026〕1号",
        "in_force",
        "2026-03-02",
        "2026-04-01",
    ]
    assert any("[绿化]" in line for line in lines[3:])
    hits = (await cli.ok("search", "绿化", "--kind", "normative_document", "--json")).json()["hits"]
    assert [h["document"] for h in hits] == [name]

    shown = await cli.ok("show", "--number", "赤政规〔2026〕1号")
    assert "state         in_force（现行有效）" in shown.out
    assert "timeline:" in shown.out and "第一条 为了加强城市绿化管理，制定本办法。" in shown.out
