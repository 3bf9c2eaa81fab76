"""The recipient's filing review from the command line: every FilingReviewService RPC has a command
that prints a table, or the API's message with --json; a citizen's contact never prints for others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_registry.domain.lifecycle import Kind

from tests.cli.conftest import Cli, cli_for
from tests.filing.support import SOME_MATERIALS, deliver, filed, start_province
from tests.filing.test_filing_review_service import city_document
from tests.harness import System

REVIEWER = "reviewer:wu@内蒙古自治区司法厅"
CITY_REGISTRAR = "registrar:zhao@赤峰市人民政府"


@pytest.fixture
async def province(tmp_path: Path) -> AsyncIterator[System]:
    system = await start_province(tmp_path)
    await deliver(system, filed("rule1", materials=SOME_MATERIALS), city_document("nd1", Kind.NORMATIVE_DOCUMENT))
    yield system
    await system.stop()


@pytest.fixture
def cli(province: System, tmp_path: Path) -> Cli:
    return cli_for(province, tmp_path / "cli")


async def test_a_reviewer_takes_a_filing_from_arrival_to_acceptance(cli: Cli) -> None:
    listed = await cli.ok("--as", REVIEWER, "received-filings", "--sender", "chifeng")
    assert "赤峰市测试办法rule1" in listed.out and "received" in listed.out
    [filing] = (await cli.ok("--as", REVIEWER, "--json", "received-filings")).json()["received_filings"]
    name = filing["name"]
    short = name.removeprefix("receivedFilings/")
    asked = await cli.ok("--as", REVIEWER, "register-filing", short, "--note", "起草说明未附")
    assert "materials_requested（补充报送）" in asked.out and "drafting_explanation" in asked.out
    refused = await cli("--as", REVIEWER, "decide-filing", short, "--accept")
    assert refused.code == 1 and "FILING_MATERIALS_MISSING" in refused.err


async def test_a_correction_is_required_answered_and_the_filing_accepted(tmp_path: Path) -> None:
    system = await start_province(tmp_path)
    try:
        await deliver(system, filed("rule2"))
        cli = cli_for(system, tmp_path / "cli")
        [filing] = (await cli.ok("--as", REVIEWER, "--json", "received-filings")).json()["received_filings"]
        name = filing["name"]
        await cli.ok("--as", REVIEWER, "register-filing", name)
        corrected = await cli.ok(
            "--as",
            REVIEWER,
            "decide-filing",
            name,
            "--correct",
            "--reasons",
            "罚款超出上位法幅度",
            "--provision",
            "第五条",
        )
        assert "correction_required（要求纠正）" in corrected.out and "第五条" in corrected.out
        answered = await cli.ok("--as", REVIEWER, "correction-response", name, "--response", "已修改第五条")
        assert "已修改第五条" in answered.out
        accepted = await cli.ok("--as", REVIEWER, "--json", "decide-filing", name, "--accept", "--note", "复核无问题")
        assert accepted.json()["state"] == "RECEIVED_FILING_STATE_ACCEPTED"
        seen = await cli.ok("--as", CITY_REGISTRAR, "received-filing", name)
        assert "accepted" in seen.out and "复核无问题" not in seen.out
        mine = await cli.ok("--as", REVIEWER, "received-filing", name)
        assert "复核无问题" in mine.out
    finally:
        await system.stop()


async def test_a_citizen_asks_for_a_review_and_only_the_reviewers_see_the_contact(cli: Cli) -> None:
    submitted = await cli.ok(
        "--json",
        "suggest-review",
        "rule1",
        "--sender",
        "chifeng",
        "--provision",
        "第五条",
        "--reasons",
        "罚款幅度超过行政处罚法规定",
        "--contact",
        "13800000000",
    )
    suggestion = submitted.json()
    assert suggestion["contact"] == "" and "13800000000" not in submitted.out
    listed = await cli.ok("--as", REVIEWER, "review-suggestions", "--unanswered")
    assert "13800000000" in listed.out and "第五条" in listed.out
    denied = await cli("--as", CITY_REGISTRAR, "review-suggestions")
    assert denied.code == 1 and "PERMISSION_DENIED" in denied.err and "13800000000" not in denied.err
    replied = await cli.ok("--as", REVIEWER, "reply-suggestion", suggestion["name"], "--reply", "已研究，已要求纠正")
    assert "已研究，已要求纠正" in replied.out
    report = await cli.ok("--as", REVIEWER, "subordinate-report", "--year", "2026", "--sender", "chifeng")
    assert "chifeng" in report.out and "33.3%" in report.out
    as_json = (await cli.ok("--as", REVIEWER, "--json", "subordinate-report", "--year", "2026")).json()
    [chifeng] = [r for r in as_json["reports"] if r["sender"] == "chifeng"]
    assert (chifeng["required_count"], chifeng["filed_count"], chifeng["suggestions_received_count"]) == (3, 1, 1)


async def test_missing_filings_print_before_the_deadline(cli: Cli) -> None:
    before = await cli.ok("--as", REVIEWER, "missing-filings", "--status", "before")
    assert "赤峰市测试办法nd1" in before.out and "未到期" in before.out
    after = await cli.ok("--as", REVIEWER, "--json", "missing-filings", "--status", "after")
    assert after.json() == {"missing_filings": [], "next_page_token": ""}
    bad = await cli("--as", REVIEWER, "missing-filings", "--status", "someday")
    assert bad.code == 2
