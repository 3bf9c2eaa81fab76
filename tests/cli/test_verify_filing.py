"""`normreg verify --received-filings`: what the filing review service told its senders agrees with what it holds."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock
from normreg_filing.domain.lifecycle import Outcome

from tests.cli.conftest import Cli, cli_for
from tests.filing.test_filing_outbox import ALL, sent
from tests.filing.test_filing_review_domain import REVIEWER
from tests.harness import System

VERIFIER = "registrar,reviewer:wu@内蒙古自治区司法厅"


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "search", "filing"))
    await s.start()
    yield s
    await s.stop()


async def test_verify_with_filing_agrees_once_the_outbox_is_sent_and_reports_a_lost_event(
    system: System, tmp_path: Path
) -> None:
    cli: Cli = cli_for(system, tmp_path / "cli")
    service = system.apps["filing"].service
    await service.apply("chifeng", [sent({**ALL, "legal_basis": False}, 1)])
    [filing] = await service.list_received(REVIEWER)
    await service.register(REVIEWER, filing.id, [], "")
    await service.apply("chifeng", [sent(ALL, 2, filed=12, refiling=True)])
    await service.decide(REVIEWER, filing.id, Outcome.ACCEPTED, "", [], "")
    # Not yet relayed: the event log has not acknowledged what the sender is to be told.
    waiting = await cli("--as", VERIFIER, "verify", "--received-filings")
    assert waiting.code == 1 and "3 events not yet acknowledged" in waiting.out
    await system.pump()
    done = await cli.ok("--as", VERIFIER, "verify", "--received-filings")
    assert "filings: 1 received filings, 3 events told to senders: agrees" in done.out
    as_json = (await cli.ok("--as", VERIFIER, "--json", "verify", "--received-filings")).json()
    assert as_json["agrees"] and as_json["filings"]["events_checked"] == 3
    # Where no search service runs (a province's filing office): the registry's own checks and these.
    alone = await cli.ok("--as", VERIFIER, "verify", "--history-only", "--received-filings")
    assert "agrees" in alone.out and "index" not in alone.out
    # An event lost from what was told: the numbering has a gap.
    with sqlite3.connect(tmp_path / "filing.db") as conn:
        conn.execute("DELETE FROM outbox WHERE id = (SELECT MIN(id) + 1 FROM outbox)")
    lost = await cli("--as", VERIFIER, "verify", "--received-filings")
    assert lost.code == 1
    assert f"receivedFilings/{filing.id}" in lost.out and "expected 1..3" in lost.out
    assert (await cli("--as", VERIFIER, "verify", "--history-only", "--received-filings")).code == 1
    # Without --filing the registry's checks alone, which agree.
    assert (await cli("--as", VERIFIER, "verify")).code == 0
