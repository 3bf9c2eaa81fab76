"""In the search process that writes the index, searches and the other reads run on a connection of
their own: none waits behind the consumer's writes. And the process says how long opening the index
took, so a slow start is told apart from what follows it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import grpc
import pytest
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_search.bootstrap import SearchApp, create_app
from normreg_search.query import SearchQuery

from tests.search.conftest import publish, search_settings
from tests.search.helpers import lifecycle, registry_event

# A guard against a hang, not a measure: a read queued behind the held write would never return.
GUARD_S = 60.0


async def test_a_search_answers_while_a_write_holds_the_writers_connection(
    app: SearchApp, event_log: SqliteEventLog
) -> None:
    await publish(event_log, lifecycle("rule1")[:5])
    await app.sync()
    holding, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        holding.set()
        release.wait()

    write = asyncio.create_task(app.db.transaction(hold))
    try:
        await asyncio.to_thread(holding.wait)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = sgrpc.SearchServiceStub(channel)
            found = await stub.SearchDocuments(spb.SearchDocumentsRequest(query="法治政府"), timeout=GUARD_S)
            document = await stub.GetPublicDocument(
                spb.GetPublicDocumentRequest(name="documents/rule1"), timeout=GUARD_S
            )
            consultations = await stub.ListOpenConsultations(spb.ListOpenConsultationsRequest(), timeout=GUARD_S)
        assert [h.name for h in found.hits] == ["documents/rule1/versions/1"]
        assert document.name == "documents/rule1/versions/1"
        assert list(consultations.consultations) == []
        assert await asyncio.wait_for(app.witnessed(0, 10), GUARD_S) == []
        assert not write.done()
    finally:
        release.set()
    await write


async def test_what_the_consumer_applied_is_searchable_as_soon_as_sync_returns(
    app: SearchApp, event_log: SqliteEventLog
) -> None:
    for i in range(3):
        await publish(
            event_log,
            [
                registry_event(
                    f"law{i}", 1, 1, "IN_FORCE", title=f"第{i}号停车场管理办法", promulgation_date="2024-01-01"
                )
            ],
        )
        await app.sync()
        page = await app.service.search(SearchQuery(text="停车场", limit=10))
        assert page.total == i + 1


async def test_the_service_logs_how_long_opening_the_index_took(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="normreg_search.bootstrap")
    app = await create_app(
        search_settings(tmp_path / "search"), clock=clock, event_log=event_log, background=False, codec=codec
    )
    await app.start()
    await app.stop()
    opened = [r for r in caplog.records if r.getMessage().startswith("search index opened in ")]
    assert len(opened) == 1 and opened[0].levelno == logging.INFO
    assert "SqliteFtsIndex" in opened[0].getMessage() and "search.db" in opened[0].getMessage()
