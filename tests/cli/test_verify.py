"""`normreg verify`: the hash chains of the history, and the registry compared with the public index.

The three services run in-process on the embedded backends; `pump()` moves the events. Divergence is
made the way it happens: an index that has not seen the last events, or an index written behind the
projection's back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli import commands_verify
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_search.model import VersionChange

from tests.cli.conftest import REGISTRAR, Cli, cli_for
from tests.e2e.flows import People
from tests.harness import System


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "review", "search"))
    await s.start()
    yield s
    await s.stop()


@pytest.fixture
def cli(system: System, tmp_path: Path) -> Cli:
    return cli_for(system, tmp_path / "cli")


async def imported(p: People, title: str, request_id: str) -> pb.Document:
    doc: pb.Document = await p.registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id=request_id,
            kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
            issuing_body="全国人民代表大会常务委员会",
            versions=[
                rpb.ImportedVersion(
                    title=title,
                    body="第一条 旧文。",
                    articles=[pb.Article(label="第一条", text="旧文。")],
                    state=pb.VERSION_STATE_AMENDED,
                    promulgation_date=day("2001-01-01"),
                ),
                rpb.ImportedVersion(
                    title=title,
                    body="第一条 新文。",
                    articles=[pb.Article(label="第一条", text="新文。")],
                    state=pb.VERSION_STATE_IN_FORCE,
                    promulgation_date=day("2011-01-01"),
                    effective_date=day("2011-03-01"),
                ),
            ],
        )
    )
    return doc


async def a_little_of_everything(system: System) -> dict[str, str]:
    """A rule in force, a repealed one, an imported law with two versions, a draft open for comment
    and a draft nobody outside its office sees."""
    p = People(system)
    in_force = await p.to_in_force("赤峰市共享单车停放管理办法", "第一条 为了规范共享单车停放，制定本办法。")
    repealed = await p.to_in_force("赤峰市烟花爆竹燃放管理规定", "第一条 为了加强烟花爆竹燃放管理，制定本规定。")
    await p.registrar.Repeal(rpb.RepealRequest(name=repealed.name, reason="上位法已修改"))
    law = await imported(p, "中华人民共和国测试法", "verify-test-1")
    consultation = await p.create("赤峰市养犬管理办法（征求意见稿）", "第一条 携犬出户应当束犬链。")
    today = p.clock.now().date()
    await p.drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(
            name=consultation.name, start_date=day(str(today)), end_date=day(str(today + dt.timedelta(days=14)))
        )
    )
    draft = await p.create("赤峰市内部草案", "第一条 尚未公开。")
    await p.settle()
    return {
        "in_force": in_force.name,
        "repealed": repealed.name,
        "law": law.name,
        "consultation": consultation.name,
        "draft": draft.name,
    }


async def test_verify_agrees_after_a_normal_flow(system: System, cli: Cli) -> None:
    await a_little_of_everything(system)
    result = await cli.ok("--as", REGISTRAR, "verify")
    assert result.out.splitlines() == [
        "history: intact: 5 documents, 19 history entries checked",
        "index: 4 public versions and 1 consultations compared, 4 versions in the index: agrees",
    ]
    report = (await cli.ok("--as", REGISTRAR, "verify", "--json")).json()
    assert report["agrees"] is True
    assert report["history"]["intact"] is True
    assert report["index"]["differences"] == []
    assert report["index"]["versions_compared"] == 4


async def test_verify_of_one_document_compares_only_that_document(system: System, cli: Cli) -> None:
    names = await a_little_of_everything(system)
    for name in names.values():
        result = await cli.ok("--as", REGISTRAR, "verify", name)
        assert result.out.splitlines()[1].endswith(": agrees"), result.out


async def test_verify_reports_a_tampered_history_and_exits_1(system: System, cli: Cli, tmp_path: Path) -> None:
    names = await a_little_of_everything(system)
    with sqlite3.connect(tmp_path / "registry.db") as conn:
        conn.execute("UPDATE history SET reason = '无' WHERE document = ? AND sequence = 2", (names["in_force"],))
    result = await cli("--as", REGISTRAR, "verify")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "history: NOT INTACT: 5 documents, 19 history entries checked"
    assert lines[1] == f"  {names['in_force']}: entry 2 was altered (hash mismatch)"
    assert lines[2].endswith(": agrees")


async def test_verify_reports_the_events_the_index_has_not_seen(system: System, cli: Cli) -> None:
    names = await a_little_of_everything(system)
    p = People(system)
    await p.registrar.Repeal(rpb.RepealRequest(name=names["in_force"], reason="不再适用"))
    late = await imported(p, "中华人民共和国迟到法", "verify-test-2")
    await p.drafter.Withdraw(rpb.WithdrawRequest(name=names["consultation"], reason="情况变化"))
    # The registry published its events; the search service has not consumed them.
    await system.apps["registry"].sync()

    result = await cli("--as", REGISTRAR, "verify", "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["agrees"] is False and report["history"]["intact"] is True
    found = {(d["what"], d["name"], d["registry"], d["index"]) for d in report["index"]["differences"]}
    assert found == {
        ("state", f"{names['in_force']}/versions/1", "repealed", "in_force"),
        ("missing", f"{late.name}/versions/1", "amended", "(absent)"),
        ("missing", f"{late.name}/versions/2", "in_force", "(absent)"),
        ("consultation_unexpected", f"{names['consultation']}/versions/1", "withdrawn", "open for comment"),
    }

    table = await cli("--as", REGISTRAR, "verify")
    assert table.code == 1
    assert "index: 6 public versions and 1 consultations compared, 4 versions in the index: 4 differences" in table.out
    assert table.out.splitlines()[2].split() == ["difference", "version", "registry", "index"]

    await system.pump()
    assert (await cli("--as", REGISTRAR, "verify")).code == 0


async def test_verify_reports_text_changed_in_the_index_and_versions_that_should_not_be_there(
    system: System, cli: Cli
) -> None:
    names = await a_little_of_everything(system)
    index = system.apps["search"].index
    name = f"{names['law']}/versions/2"
    current = await index.get(name)
    assert current is not None
    sequence, _ = (await index.entries())[name]
    forged = dataclasses.replace(current, body=current.body + "（篡改）", title="中华人民共和国篡改法")
    hidden_draft = dataclasses.replace(current, name=f"{names['draft']}/versions/1", document=names["draft"])
    stranger = dataclasses.replace(current, name="documents/0000000000000000/versions/1", document="documents/0")
    await index.apply(
        [
            VersionChange(name, names["law"], sequence + 10, forged),
            VersionChange(hidden_draft.name, names["draft"], 99, hidden_draft),
            VersionChange(stranger.name, stranger.document, 1, stranger),
        ]
    )

    result = await cli("--as", REGISTRAR, "verify")
    assert result.code == 1
    rows = [line.split() for line in result.out.splitlines()[4:]]
    assert rows == [
        ["title", name, "中华人民共和国测试法", "中华人民共和国篡改法"],
        ["body", name, "7", "chars", "11", "chars,", "differs", "from", "character", "8"],
        ["unexpected", "documents/0000000000000000/versions/1", "(absent)", "in_force"],
        ["unexpected", f"{names['draft']}/versions/1", "drafting", "in_force"],
    ]
    one = await cli("--as", REGISTRAR, "verify", names["draft"])
    assert one.code == 1
    assert one.out.splitlines()[-1].split() == ["unexpected", f"{names['draft']}/versions/1", "drafting", "in_force"]


async def test_verify_history_only_does_not_need_the_search_service(system: System, tmp_path: Path) -> None:
    await a_little_of_everything(system)
    cli = Cli(tmp_path / "cli", {"registry": f"127.0.0.1:{system.apps['registry'].port}"})
    assert (await cli("--as", REGISTRAR, "verify")).code == 1  # the index cannot be asked: not "agrees"
    result = await cli.ok("--as", REGISTRAR, "verify", "--history-only")
    assert result.out == "intact: 5 documents, 19 history entries checked\n"


async def test_verify_walks_an_index_larger_than_the_search_window_by_date(
    system: System, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    await a_little_of_everything(system)
    # The public versions were promulgated on three days: windows of two split the walk by date.
    monkeypatch.setattr(commands_verify, "SEARCH_WINDOW", 2)
    result = await cli.ok("--as", REGISTRAR, "verify")
    assert result.out.splitlines()[1].endswith("4 versions in the index: agrees")
