"""Tamper evidence: whoever edits the registry's database behind its back is caught by `normreg
verify`, because signed checkpoints of every history head were published on the event log and kept
by a witness (the search service) the registry cannot write to.

The three edits of the audit: deleting the newest history entry, changing a document's state or
text without an entry, and rewriting an entry with the rest of the chain recomputed so that the
chain itself verifies."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from normreg.v1 import search_service_pb2 as spb
from normreg_common.clock import FakeClock
from normreg_common.packing import unpack_text
from normreg_registry.domain.history import HistoryEntry, verify_chain

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


@contextmanager
def registry_db(system: System) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(system.settings.data_dir / "registry.db")
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def _history(conn: sqlite3.Connection, document: str) -> list[HistoryEntry]:
    rows = conn.execute(
        "SELECT document, sequence, version, action, actor, time, from_state, to_state, reason, previous_hash, "
        "hash FROM history WHERE document = ? ORDER BY sequence",
        (document,),
    ).fetchall()
    return [HistoryEntry(*row) for row in rows]


async def _in_force(system: System) -> str:
    p = People(system)
    doc = await p.to_in_force("赤峰市共享单车停放管理办法", "第一条 为了规范共享单车停放，制定本办法。")
    await p.to_in_force("赤峰市城市绿化管理办法", "第一条 为了加强城市绿化管理，制定本办法。")
    await p.settle()
    return str(doc.name)


async def _problems(cli: Cli) -> list[str]:
    result = await cli("--as", REGISTRAR, "verify", "--json")
    report = json.loads(result.out)
    return list(report["history"].get("problems", [])) if result.code else []


async def test_an_untouched_registry_agrees_with_its_witness(system: System, cli: Cli) -> None:
    name = await _in_force(system)
    witnessed = await system.stub("search", system.token("reg", "registrar")).ListCheckpoints(
        spb.ListCheckpointsRequest()
    )
    assert name in {c.document for c in witnessed.checkpoints}
    result = await cli.ok("--as", REGISTRAR, "verify")
    assert result.out.startswith("history: intact")


async def test_deleting_the_newest_history_entry_is_detected(system: System, cli: Cli) -> None:
    name = await _in_force(system)
    with registry_db(system) as conn:
        newest = _history(conn, name)[-1]
        conn.execute("DELETE FROM history WHERE document = ? AND sequence = ?", (name, newest.sequence))
        # The rest of the chain is still a valid chain: only the witness and the state can tell.
        assert verify_chain(name, _history(conn, name)) == []
    problems = await _problems(cli)
    assert any(name in p and "deleted" in p for p in problems), problems


async def test_changing_a_text_without_a_history_entry_is_detected(system: System, cli: Cli) -> None:
    name = await _in_force(system)
    doc_id = name.removeprefix("documents/")
    with registry_db(system) as conn:
        (body,) = conn.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        stored = json.loads(unpack_text(body))
        stored["versions"][0]["body"] = "第一条 共享单车可以随意停放。"
        conn.execute("UPDATE documents SET body = ? WHERE id = ?", (json.dumps(stored, ensure_ascii=False), doc_id))
    problems = await _problems(cli)
    assert any(name in p and "without a history entry" in p for p in problems), problems


async def test_changing_a_state_without_a_history_entry_is_detected(system: System, cli: Cli) -> None:
    name = await _in_force(system)
    doc_id = name.removeprefix("documents/")
    with registry_db(system) as conn:
        (body,) = conn.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
        stored = json.loads(unpack_text(body))
        stored["versions"][0]["state"] = "REPEALED"
        conn.execute(
            "UPDATE documents SET body = ?, state = 'REPEALED' WHERE id = ?",
            (json.dumps(stored, ensure_ascii=False), doc_id),
        )
    problems = await _problems(cli)
    assert any(name in p and "REPEALED" in p for p in problems), problems


async def test_rewriting_an_entry_and_recomputing_the_chain_is_detected(system: System, cli: Cli) -> None:
    name = await _in_force(system)
    with registry_db(system) as conn:
        chain = _history(conn, name)
        rewritten: list[HistoryEntry] = []
        previous = chain[0].previous_hash
        for entry in chain:
            changed = dataclasses.replace(entry, previous_hash=previous)
            if entry.sequence == 2:
                changed = dataclasses.replace(changed, actor="someone-else", reason="改写")
            changed = changed.sealed()
            rewritten.append(changed)
            previous = changed.hash
        for entry in rewritten:
            conn.execute(
                "UPDATE history SET actor = ?, reason = ?, previous_hash = ?, hash = ? "
                "WHERE document = ? AND sequence = ?",
                (entry.actor, entry.reason, entry.previous_hash, entry.hash, name, entry.sequence),
            )
        assert verify_chain(name, _history(conn, name)) == []
    problems = await _problems(cli)
    assert any(name in p and "rewritten" in p for p in problems), problems


async def test_a_checkpoint_the_registry_did_not_sign_is_reported(system: System) -> None:
    await _in_force(system)
    from normreg.v1 import registry_service_pb2 as rpb

    registrar = system.stub("registry", system.token("reg", "registrar"))
    forged = "c1.WyJkb2N1bWVudHMveCIsMSwiYSIsImIiXQ.00"
    result = await registrar.VerifyHistory(rpb.VerifyHistoryRequest(checkpoints=[forged]))
    assert not result.intact
    assert any("not signed" in p for p in result.problems)


async def test_the_witness_keeps_what_it_saw(system: System) -> None:
    await _in_force(system)
    conn = sqlite3.connect(system.settings.data_dir / "search.db")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="never"):
            conn.execute("DELETE FROM witnessed_checkpoints")
        with pytest.raises(sqlite3.DatabaseError, match="never"):
            conn.execute("UPDATE witnessed_checkpoints SET token = 'x'")
    finally:
        conn.close()
