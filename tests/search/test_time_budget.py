"""A search runs within a time budget (NORMREG_SEARCH_TIME_BUDGET_S, or the call's own deadline if
sooner): past it SQLite stops it and the caller is told to narrow it; the process answers the next."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.settings import Settings
from normreg_search import budget
from normreg_search.bootstrap import SearchApp, create_app
from normreg_search.index import sqlite_fts
from normreg_search.query import SearchQuery, SearchResult
from pydantic import ValidationError

from tests.search.conftest import publish, search_settings
from tests.search.helpers import lifecycle
from tests.search.test_grpc import rich

# Long enough that the real search of a few documents never meets it, short enough not to add to
# the suite's time: the slow searches below end at it.
BUDGET_S = 1.0
# A guard against a hang, not a measure.
GUARD_S = 60.0
ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
REQUEST = spb.SearchDocumentsRequest(query="法治政府")


@pytest.fixture
async def budgeted(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec
) -> AsyncIterator[SearchApp]:
    app = await create_app(
        search_settings(tmp_path / "search", search_time_budget_s=BUDGET_S),
        clock=clock,
        event_log=event_log,
        background=False,
        codec=codec,
    )
    await app.start()
    await publish(event_log, lifecycle("rule1")[:5])
    await app.sync()
    yield app
    await app.stop()


@pytest.fixture
def endless_search(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every search first runs a statement that only SQLite's interruption ends."""
    search = sqlite_fts._search

    def slow(conn: sqlite3.Connection, generation: int, query: object) -> SearchResult:
        conn.execute(ENDLESS).fetchone()
        return search(conn, generation, query)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite_fts, "_search", slow)
    return monkeypatch


async def test_a_search_past_the_budget_is_stopped_and_refused_and_the_next_one_answers(
    budgeted: SearchApp, endless_search: pytest.MonkeyPatch
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{budgeted.port}") as channel:
        stub = sgrpc.SearchServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.SearchDocuments(REQUEST, timeout=GUARD_S)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert rich(refused.value)[0] == "SEARCH_TOO_LONG"
        assert "add words or filters" in (refused.value.details() or "")
        endless_search.undo()
        found = await stub.SearchDocuments(REQUEST, timeout=GUARD_S)
    assert [h.name for h in found.hits] == ["documents/rule1/versions/1"]


async def test_a_query_that_finds_nothing_stays_answered_nothing_when_its_relaxed_search_runs_out_of_time(
    budgeted: SearchApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    search = sqlite_fts._search
    relaxed: list[str] = []

    def slow_when_relaxed(conn: sqlite3.Connection, generation: int, query: SearchQuery) -> SearchResult:
        if query.relaxed:
            relaxed.append(query.text)
            conn.execute(ENDLESS).fetchone()
        return search(conn, generation, query)

    monkeypatch.setattr(sqlite_fts, "_search", slow_when_relaxed)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{budgeted.port}") as channel:
        stub = sgrpc.SearchServiceStub(channel)
        # Two words no version holds together: the query as read finds nothing, and the service
        # tries again with any of them, which here never ends.
        found = await stub.SearchDocuments(spb.SearchDocumentsRequest(query="法治政府 爆竹燃放"), timeout=GUARD_S)
    assert relaxed == ["法治政府 爆竹燃放"]
    assert found.total == 0 and list(found.hits) == []


async def test_a_query_waiting_for_its_turn_longer_than_the_budget_still_gets_its_relaxed_answer(
    budgeted: SearchApp,
) -> None:
    # The budget counts the searches' running: on a busy service, a query must get the answer an idle
    # one gives, not "nothing" because its wait for the index ate the time of its second search.
    holding, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        holding.set()
        release.wait(GUARD_S)

    held = asyncio.create_task(budgeted.db.read(hold))
    try:
        await asyncio.to_thread(holding.wait, GUARD_S)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{budgeted.port}") as channel:
            stub = sgrpc.SearchServiceStub(channel)
            # Two words no version holds together: found by the second search, with either of them.
            asked = asyncio.ensure_future(
                stub.SearchDocuments(spb.SearchDocumentsRequest(query="法治政府 爆竹燃放"), timeout=GUARD_S)
            )
            await asyncio.sleep(1.5 * BUDGET_S)  # queued behind the read that holds the index
            release.set()
            found = await asked
    finally:
        release.set()
        await held
    assert [h.name for h in found.hits] == ["documents/rule1/versions/1"]


async def test_a_caller_that_gives_up_first_leaves_no_search_holding_the_index(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec, endless_search: pytest.MonkeyPatch
) -> None:
    # A budget the test would never wait out: only the caller's own deadline can stop the search.
    app = await create_app(
        search_settings(tmp_path / "search", search_time_budget_s=600),
        clock=clock,
        event_log=event_log,
        background=False,
        codec=codec,
    )
    await app.start()
    try:
        await publish(event_log, lifecycle("rule1")[:5])
        await app.sync()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = sgrpc.SearchServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as gave_up:
                await stub.SearchDocuments(REQUEST, timeout=0.5)
            # The service stops the search at the call's deadline: its refusal or the caller's own
            # expiry arrives first, whichever; what matters is that the next search is answered.
            assert gave_up.value.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED)
            endless_search.undo()
            found = await stub.SearchDocuments(REQUEST, timeout=GUARD_S)
        assert [h.name for h in found.hits] == ["documents/rule1/versions/1"]
    finally:
        await app.stop()


@pytest.mark.parametrize("bad", ["0", "-1", "soon", "601"])
def test_a_budget_that_is_not_a_positive_number_of_seconds_stops_the_start(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NORMREG_SEARCH_TIME_BUDGET_S", bad)
    with pytest.raises(ValidationError, match="search_time_budget_s"):
        Settings()


def test_the_budget_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().search_time_budget_s == 5.0
    monkeypatch.setenv("NORMREG_SEARCH_TIME_BUDGET_S", "2.5")
    assert Settings().search_time_budget_s == 2.5


def test_a_search_ends_just_before_its_callers_own_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget.time, "monotonic", lambda: 100.0)
    # No deadline of the caller's: only the budget bounds the search.
    assert budget.deadline(None) is None
    # The refusal leaves in time to arrive before the caller's expiry.
    assert budget.deadline(3.0) == 100.0 + 3.0 - budget.ANSWER_MARGIN_S
    assert budget.deadline(0.5) == pytest.approx(100.45)
    assert budget.deadline(0.0) == 100.0
