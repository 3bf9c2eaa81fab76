"""A document from draft to a verified history, driven through the CLI against the real registry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from google.protobuf import json_format
from normreg.v1 import document_pb2 as pb
from normreg_common.clock import FakeClock
from normreg_common.principal import Role

from tests.cli.conftest import DRAFTER, REGISTRAR, SECRETARY, Cli
from tests.harness import System
from tests.registry.test_grpc_registry import decide

BODY = "第一条 为了加强城市绿化管理，制定本办法。\n第二条 本办法适用于本市城市规划区。"


async def create(cli: Cli, *extra: str) -> str:
    created = await cli.ok(
        "--as",
        DRAFTER,
        "create",
        "--kind",
        "normative_document",
        "--title",
        "赤峰市城市绿化管理办法",
        "--body",
        BODY,
        "--issuing-body",
        "赤峰市人民政府",
        "--prefix",
        "赤政规",
        "--json",
        *extra,
    )
    name: str = created.json()["name"]
    return name


def document(json_text: str) -> pb.Document:
    return json_format.Parse(json_text, pb.Document())


async def to_adopted(cli: Cli, system: System) -> str:
    name = await create(cli)
    submitted = await cli.ok("submit", name, "--as", DRAFTER, "--json")
    await decide(system, document(submitted.out), "APPROVE")
    await cli.ok(
        "deliberate", name, "--adopt", "--meeting", "市政府第5次常务会议", "--date", "2026-03-02", "--as", SECRETARY
    )
    return name


async def test_a_document_goes_from_draft_to_a_verified_history(cli: Cli, registry: System) -> None:
    drafter_token = registry.token("alice", "drafter", org="市司法局")
    created = await cli.ok(
        "--token",
        drafter_token,
        "create",
        "--kind",
        "normative_document",
        "--title",
        "赤峰市城市绿化管理办法",
        "--body",
        BODY,
        "--issuing-body",
        "赤峰市人民政府",
        "--prefix",
        "赤政规",
    )
    assert "state          drafting（起草中）" in created.out
    assert "kind           normative_document（行政规范性文件）" in created.out
    listed = await cli.ok("list", "--token", drafter_token, "--json")
    [doc] = listed.json()["documents"]
    name = doc["name"]
    assert doc["state"] == "VERSION_STATE_DRAFTING" and doc["issuing_body"] == "赤峰市人民政府"

    submitted = await cli.ok("--token", drafter_token, "submit", name.removeprefix("documents/"), "--json")
    assert document(submitted.out).state == pb.VERSION_STATE_LEGALITY_REVIEW
    await decide(registry, document(submitted.out), "APPROVE")

    adopted = await cli.ok(
        "--as", SECRETARY, "deliberate", name, "--adopt", "--meeting", "市政府第5次常务会议", "--date", "2026-03-02"
    )
    assert "adopted（已审议通过）" in adopted.out

    promulgated = await cli.ok("--as", REGISTRAR, "promulgate", name)
    assert "number         赤政规〔2026〕1号" in promulgated.out
    version_rows = [line.split() for line in promulgated.out.splitlines() if line.startswith("1  ")]
    assert version_rows == [
        ["1", "promulgated", "1", "1", "赤政规〔2026〕1号", "2026-03-02", "2026-04-01", "2031-03-31"]
    ]

    history = await cli.ok("--as", REGISTRAR, "history", name)
    lines = history.out.splitlines()
    assert lines[0].split() == ["seq", "v", "time", "action", "actor", "from", "to", "reason", "hash"]
    actions = [line.split()[4] for line in lines[2:]]
    assert actions == ["created", "review_requested", "review_approved", "adopted", "promulgated"]
    assert lines[-1].split()[5:8] == ["reg", "adopted", "promulgated"]

    history_json = (await cli.ok("--as", REGISTRAR, "history", name, "--json")).json()
    entries = history_json["entries"]
    assert [e["to_state"] for e in entries][-1] == "VERSION_STATE_PROMULGATED"
    assert entries[1]["previous_hash"] == entries[0]["hash"]

    verified = await cli.ok("--as", REGISTRAR, "verify", "--history-only", name)
    assert verified.out == "intact: 1 documents, 5 history entries checked\n"
    assert (await cli.ok("verify", "--history-only", "--as", REGISTRAR, "--json")).json()["intact"] is True


async def test_verify_prints_the_problems_and_exits_1_when_the_past_was_changed(
    cli: Cli, registry: System, tmp_path: Path
) -> None:
    name = await to_adopted(cli, registry)
    with sqlite3.connect(tmp_path / "registry.db") as conn:
        conn.execute("UPDATE history SET actor = 'mallory' WHERE sequence = 2")
    result = await cli("verify", "--history-only", name, "--as", REGISTRAR)
    assert result.code == 1
    assert result.out.splitlines() == [
        "NOT INTACT: 1 documents, 4 history entries checked",
        f"  {name}: entry 2 was altered (hash mismatch)",
    ]


async def test_the_readme_example_refusal_is_what_the_government_office_gets(cli: Cli) -> None:
    name = await create(cli)
    await cli.ok("submit", name, "--as", DRAFTER)
    result = await cli("--as", SECRETARY, "deliberate", name, "--adopt", "--meeting", "m", "--date", "2026-03-02")
    assert result.code == 1 and result.out == ""
    # README: error: FAILED_PRECONDITION (LEGALITY_REVIEW_NOT_APPROVED): documents/… revision 1 has no
    # approved legality review: it is in legality review since 2026-03-02; …
    assert result.err.startswith(
        f"error: FAILED_PRECONDITION (LEGALITY_REVIEW_NOT_APPROVED): {name}/versions/1 revision 1 has no approved "
        "legality review: it is in legality review since 2026-03-02; "
    )
    assert result.err.count("\n") == 1


async def test_a_forbidden_step_prints_code_reason_and_message_on_one_line(cli: Cli) -> None:
    name = await create(cli)
    result = await cli("--as", "admin:root", "promulgate", name)
    assert result.code == 1 and result.out == ""
    assert result.err.startswith("error: FAILED_PRECONDITION (INVALID_STATE_TRANSITION): promulgating is not possible")
    assert f"{name}: it is DRAFTING" in result.err
    assert result.err.count("\n") == 1

    result = await cli("--as", DRAFTER, "promulgate", name)
    assert result.code == 1
    assert result.err.startswith("error: PERMISSION_DENIED (ROLE_NOT_ALLOWED): ")
    assert result.err.endswith("needs the role registrar\n")


async def test_the_legality_gate_reason_reaches_the_terminal_for_a_major_decision(cli: Cli, registry: System) -> None:
    created = await cli.ok(
        "--as",
        DRAFTER,
        "create",
        "--kind",
        "major_decision",
        "--title",
        "重大决策",
        "--body",
        BODY,
        "--issuing-body",
        "赤峰市人民政府",
        "--json",
    )
    name = created.json()["name"]
    await cli.ok("--as", DRAFTER, "procedure", name, "public_participation", "--summary", "召开听证会")
    submitted = await cli.ok("--as", DRAFTER, "submit", name, "--json")
    await decide(registry, document(submitted.out), "APPROVE")
    result = await cli("--as", SECRETARY, "deliberate", name, "--adopt", "--meeting", "m", "--date", "2026-03-02")
    assert result.code == 1
    assert result.err.startswith("error: FAILED_PRECONDITION (MAJOR_DECISION_PROCEDURES_MISSING): ")
    assert "missing: expert argumentation (专家论证), risk assessment (风险评估)" in result.err.lower()


async def test_bad_input_names_the_field(cli: Cli) -> None:
    result = await cli("--as", DRAFTER, "create", "--kind", "normative_document", "--title", "", "--issuing-body", "x")
    assert result.code == 1
    assert result.err.startswith("error: INVALID_ARGUMENT (field title): title: ")


async def test_the_public_sees_no_unpublished_draft(cli: Cli) -> None:
    name = await create(cli)
    result = await cli("get", name)
    assert (result.code, result.err) == (1, f"error: NOT_FOUND: {name} not found\n")


async def test_edit_reads_the_etag_first_and_a_stale_one_is_refused(cli: Cli) -> None:
    name = await create(cli)
    before = (await cli.ok("--as", DRAFTER, "get", name, "--json")).json()
    edited = await cli.ok("--as", DRAFTER, "edit", name, "--title", "赤峰市城市绿化条例", "--json")
    assert edited.json()["title"] == "赤峰市城市绿化条例"
    stale = await cli("--as", DRAFTER, "edit", name, "--body", "第一条 新文本。", "--etag", before["etag"])
    assert stale.code == 1
    assert stale.err.startswith("error: ABORTED (ETAG_MISMATCH): ")
    shown = await cli.ok("--as", DRAFTER, "get", name, "--text")
    assert shown.out.rstrip().endswith("第二条 本办法适用于本市城市规划区。")


async def test_public_comment_from_anyone_answered_by_the_drafter(cli: Cli, clock: FakeClock) -> None:
    name = await create(cli)
    opened = await cli.ok("--as", DRAFTER, "comment-open", name, "--start", "2026-03-02", "--end", "2026-03-13")
    assert "2026-03-02 – 2026-03-13" in opened.out
    sent = await cli.ok("comment", name, "建议增加公园绿地")
    assert "text      建议增加公园绿地" in sent.out
    listed = await cli.ok("--as", DRAFTER, "comments", name, "--json")
    [comment] = listed.json()["comments"]
    answered = await cli.ok("--as", DRAFTER, "reply", comment["name"], "已采纳")
    assert "reply     已采纳" in answered.out
    table = (await cli.ok("--as", DRAFTER, "comments", name)).out.splitlines()
    assert table[0].split() == ["comment", "received", "text", "reply"]
    assert table[2].split()[-2:] == ["建议增加公园绿地", "已采纳"]
    clock.advance(days=12)
    closed = await cli.ok("--as", DRAFTER, "comment-close", name, "--json")
    assert closed.json()["state"] == "VERSION_STATE_DRAFTING"


async def test_filing_due_list_and_report_with_rates_as_percentages(
    cli: Cli, registry: System, clock: FakeClock
) -> None:
    name = await to_adopted(cli, registry)
    await cli.ok("--as", REGISTRAR, "promulgate", name)
    due = await cli.ok("--as", REGISTRAR, "due-filings", "--within", "30")
    assert sorted(line.split()[-3:] for line in due.out.splitlines()[2:]) == [
        ["内蒙古自治区人民政府", "2026-04-01", "due"],
        ["赤峰市人大常委会", "2026-04-01", "due"],
    ]
    # Asked a filing at a time, the command follows the pages to the same list.
    one_by_one = await cli.ok("--as", REGISTRAR, "due-filings", "--within", "30", "--page-size", "1")
    assert one_by_one.out == due.out
    clock.advance(days=8)
    filed = await cli.ok(
        "--as",
        REGISTRAR,
        "file",
        name,
        "--date",
        "2026-03-10",
        "--recipient",
        "内蒙古自治区人民政府",
        "--materials",
        "text,drafting_explanation,legal_basis",
    )
    assert "materials  text, drafting_explanation, legal_basis" in filed.out
    assert "complete   no" in filed.out and "on time    yes" in filed.out
    reviewed = await cli.ok("--as", REGISTRAR, "file-review", name, "--correction", "--note", "缺合法性审查意见")
    assert "correction_required（责令纠正）" in reviewed.out
    # One row per recipient of the routing table: the province's government and the city's
    # standing committee, which has not received it yet.
    report = await cli.ok("--as", REGISTRAR, "report", "--year", "2026")
    header, _, *rows = report.out.splitlines()
    assert header.split()[-6:] == ["报备率", "filing", "及时率", "timely", "规范率", "conformity"]
    assert sorted(row.split() for row in rows) == [
        ["2026", "赤峰市人民政府", "内蒙古自治区人民政府", "1", "1", "1", "0", "100.0%", "100.0%", "0.0%"],
        ["2026", "赤峰市人民政府", "赤峰市人大常委会", "1", "0", "0", "0", "0.0%", "0.0%", "0.0%"],
    ]
    as_json = (await cli.ok("--as", REGISTRAR, "report", "--recipient", "内蒙古自治区人民政府", "--json")).json()
    assert [r["filing_rate"] for r in as_json["rows"]] == [1.0]


async def test_evaluation_and_a_cleanup_campaign_that_repeals(cli: Cli, registry: System, clock: FakeClock) -> None:
    name = await to_adopted(cli, registry)
    await cli.ok("--as", REGISTRAR, "promulgate", name)
    clock.advance(days=30)
    await registry.apps["registry"].service.run_scheduler()
    evaluation = await cli.ok(
        "--as",
        "evaluator:eve@某大学",
        "evaluate",
        name,
        "--evaluator",
        "某大学法学院",
        "--method",
        "问卷调查",
        "--findings",
        "部分条款已不适应",
        "--conclusion",
        "repeal",
    )
    assert "conclusion  repeal（废止）" in evaluation.out
    campaign = (await cli.ok("--as", REGISTRAR, "cleanup", "create", "--title", "2026年清理", name, "--json")).json()
    recorded = await cli.ok(
        "--as", REGISTRAR, "cleanup", "outcome", campaign["name"], name, "repeal", "--reason", "不再适用"
    )
    assert f"{name}  repeal（废止）  不再适用" in recorded.out
    applied = await cli.ok("cleanup", "apply", campaign["name"].removeprefix("cleanupCampaigns/"), "--as", REGISTRAR)
    assert "applied   yes" in applied.out
    shown = (await cli.ok("get", name, "--json")).json()
    assert shown["state"] == "VERSION_STATE_REPEALED"


async def test_a_token_minted_by_the_cli_is_accepted_and_carries_the_identity(cli: Cli, registry: System) -> None:
    minted = await cli.ok("token", "--sub", "alice", "--role", "drafter,evaluator", "--org", "市司法局")
    principal = registry.codec.verify(minted.out.strip())
    assert principal.subject == "alice" and principal.org == "市司法局"
    assert principal.roles == {Role.DRAFTER, Role.EVALUATOR}
    listed = await cli.ok("list", "--token", minted.out.strip())
    assert listed.out == "no documents\n"


async def test_a_token_signed_with_another_key_is_refused_with_a_hint_for_dev_identities(
    cli: Cli, tmp_path: Path
) -> None:
    stranger = Cli(tmp_path / "elsewhere", {"registry": cli.settings.registry_addr})
    stranger.settings.jwt_key = "another-signing-key-that-is-long-enough-9876543210"
    result = await stranger("--as", DRAFTER, "list")
    assert result.code == 1
    assert result.err.startswith("error: UNAUTHENTICATED (INVALID_TOKEN): invalid bearer token: ")
    assert result.err.rstrip().endswith("run normreg with the same settings as the servers)")
    assert result.err.count("\n") == 1


async def test_due_evaluations_and_a_documents_evaluations_are_listed(
    cli: Cli, registry: System, clock: FakeClock
) -> None:
    name = await to_adopted(cli, registry)
    await cli.ok("--as", REGISTRAR, "promulgate", name)
    assert "no evaluations due" in (await cli.ok("--as", REGISTRAR, "due-evaluations")).out
    # Five years of validity from 2026-04-01: the evaluation is due from six months before the end.
    clock.advance(days=5 * 365 - 150)
    await registry.pump()
    await registry.apps["registry"].run_scheduler_once()
    due = await cli.ok("--as", REGISTRAR, "due-evaluations")
    row = due.out.splitlines()[2].split()
    assert row[0] == f"{name}/versions/1" and row[-2:] == ["2031-03-31", "2030-09-30"]
    assert "no evaluations" in (await cli.ok("--as", REGISTRAR, "evaluations", name)).out


async def test_names_under_a_document_may_leave_out_the_collection_as_the_document_may(
    cli: Cli, registry: System, clock: FakeClock
) -> None:
    name = await create(cli)
    doc_id = name.removeprefix("documents/")
    await cli.ok("--as", DRAFTER, "comment-open", doc_id, "--start", "2026-03-02", "--end", "2026-03-13")
    await cli.ok("comment", doc_id, "建议增加公园绿地")
    answered = await cli.ok("--as", DRAFTER, "reply", f"{doc_id}/versions/1/comments/1", "已采纳")
    assert "reply     已采纳" in answered.out
    listed = await cli.ok("--as", DRAFTER, "comments", f"{doc_id}/versions/1", "--json")
    assert [c["reply"] for c in listed.json()["comments"]] == ["已采纳"]

    enacted = await to_adopted(cli, registry)
    await cli.ok("--as", REGISTRAR, "promulgate", enacted)
    clock.advance(days=30)
    await registry.apps["registry"].service.run_scheduler()
    enacted_id = enacted.removeprefix("documents/")
    await cli.ok(
        "--as", "evaluator:eve@某大学", "evaluate", enacted_id, "--evaluator", "某大学法学院", "--method", "问卷调查",
        "--findings", "部分条款已不适应", "--conclusion", "amend",
    )  # fmt: skip
    amended = await cli.ok(
        "--as", DRAFTER, "amend", enacted_id, "--evaluation", f"{enacted_id}/evaluations/1", "--json"
    )
    assert len(amended.json()["versions"]) == 2
