"""The search app over an event log: consuming, replaying, rebuilding. Runs on the embedded index and,
with a real node, on Elasticsearch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC
from normreg_common.sqlite import Database
from normreg_search import bootstrap
from normreg_search.bootstrap import SearchApp, create_app, index_from_settings
from normreg_search.entrypoints.consumer import GROUP
from normreg_search.index.elasticsearch import ElasticsearchIndex
from normreg_search.index.port import encode_version
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import PublicVersion
from normreg_search.query import SearchQuery

from tests.search.conftest import AppMaker, publish, search_settings
from tests.search.helpers import lifecycle, registry_event

EVENTS = (
    lifecycle("rule1")
    + lifecycle("rule2")[:5]
    + [
        registry_event(
            f"law{i}",
            1,
            1,
            "IN_FORCE",
            title=f"赤峰市第{i}号管理办法",
            body=f"第一条 为了规范第{i}号事项的备案管理，制定本办法。",
            promulgation_date="2022-01-01",
        )
        for i in range(30)
    ]
)


async def search_names(app: SearchApp, text: str) -> list[str]:
    page = await app.service.search(SearchQuery(text=text, limit=100))
    return [h.version.name for h in page.hits]


async def test_sync_applies_every_event_in_the_log(apps: AppMaker, event_log: SqliteEventLog) -> None:
    app = await apps.start()
    await publish(event_log, EVENTS)
    assert await app.sync() == len(EVENTS)
    assert await app.sync() == 0
    assert len(await search_names(app, "备案")) == 30
    assert await search_names(app, "法治政府") == ["documents/rule2/versions/1"]


async def test_consuming_the_log_again_gives_the_same_index(apps: AppMaker, event_log: SqliteEventLog) -> None:
    await publish(event_log, EVENTS)
    first = await apps.start("first")
    await first.sync()
    before = await first.index.entries()
    # Forget the positions and restart: the whole log is applied a second time.
    await first.db.transaction(lambda conn: conn.execute("DELETE FROM consumer_positions"))
    await apps.stop(first)
    again = await apps.start("first")
    assert await again.sync() == len(EVENTS)
    assert await again.index.entries() == before
    # Another instance reading the same log from the start builds the same index.
    second = await apps.start("second")
    await second.sync()
    assert await second.index.entries() == before


async def test_positions_are_kept_per_consumer_group(app: SearchApp, event_log: SqliteEventLog) -> None:
    await publish(event_log, EVENTS[:3])
    await app.sync()
    row = await app.db.read(
        lambda conn: conn.execute("SELECT offset FROM consumer_positions WHERE grp = ?", (GROUP,)).fetchone()
    )
    assert row[0] == 2


async def test_a_record_that_is_not_an_event_is_skipped(app: SearchApp, event_log: SqliteEventLog) -> None:
    await event_log.publish([Record(DOCUMENTS_TOPIC, "documents/x", b"not json")])
    await publish(event_log, EVENTS[:5])
    assert await app.sync() == 6
    assert await search_names(app, "法治政府") == ["documents/rule1/versions/1"]


async def test_reindex_gives_the_same_index_and_results(apps: AppMaker, event_log: SqliteEventLog) -> None:
    app = await apps.start()
    await publish(event_log, EVENTS)
    await app.sync()
    before = await app.index.entries()
    results = await search_names(app, "备案")
    await app.reindex()
    assert await app.index.entries() == before
    assert await search_names(app, "备案") == results
    # The live consumer goes on from its own positions into the new index.
    await publish(
        event_log, [registry_event("late", 1, 1, "IN_FORCE", title="迟到的备案办法", promulgation_date="2026-01-01")]
    )
    assert await app.sync() == 1
    assert "documents/late/versions/1" in await search_names(app, "备案")


async def test_searches_during_a_reindex_never_see_an_empty_index(apps: AppMaker, event_log: SqliteEventLog) -> None:
    app = await apps.start()
    await publish(event_log, EVENTS)
    await app.sync()
    expected = await search_names(app, "备案")
    reindex = asyncio.create_task(app.reindex())
    seen = 0
    while not reindex.done():
        assert await search_names(app, "备案") == expected
        seen += 1
    await reindex
    assert seen > 0
    assert await search_names(app, "备案") == expected


async def test_reindex_includes_events_that_arrive_meanwhile(apps: AppMaker, event_log: SqliteEventLog) -> None:
    app = await apps.start()
    await publish(event_log, EVENTS)
    await app.sync()
    reindex = asyncio.create_task(app.reindex())
    await publish(
        event_log, [registry_event("new", 1, 1, "IN_FORCE", title="新来的备案办法", promulgation_date="2026-01-01")]
    )
    await reindex
    await app.sync()
    assert "documents/new/versions/1" in await search_names(app, "备案")


async def test_the_background_consumer_follows_the_log(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec
) -> None:
    app = await create_app(search_settings(tmp_path / "bg"), clock=clock, event_log=event_log, codec=codec)
    await app.start()
    try:
        await publish(event_log, EVENTS[:5])
        await asyncio.wait_for(app.caught_up(), timeout=30)
        assert await search_names(app, "法治政府") == ["documents/rule1/versions/1"]
        await publish(event_log, EVENTS[5:])
        await asyncio.wait_for(app.caught_up(), timeout=30)
        assert len(await search_names(app, "备案")) == 30
    finally:
        await app.stop(grace=0.1)


async def test_sync_and_reindex_beside_the_background_consumer_do_not_wait_out_its_poll(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The idle loop holds the consumer lock while it waits for records, as long as this.
    monkeypatch.setattr(bootstrap, "IDLE_POLL_S", 3600.0)
    app = await create_app(search_settings(tmp_path / "bg"), clock=clock, event_log=event_log, codec=codec)
    await app.start()
    try:
        await publish(event_log, EVENTS[:5])
        await asyncio.wait_for(app.caught_up(), timeout=30)
        # Now the loop waits in a poll; the bounds below only end a broken test.
        await asyncio.wait_for(app.sync(), timeout=30)
        await asyncio.wait_for(app.reindex(), timeout=30)
        await publish(event_log, EVENTS[5:])
        await asyncio.wait_for(app.caught_up(), timeout=30)
        assert len(await search_names(app, "备案")) == 30
    finally:
        await asyncio.wait_for(app.stop(grace=0.1), timeout=30)


async def test_the_backend_and_the_index_name_come_from_settings(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    assert isinstance(index_from_settings(search_settings(tmp_path), db), SqliteFtsIndex)
    named = index_from_settings(
        search_settings(tmp_path, elasticsearch_url="http://127.0.0.1:9", elasticsearch_index_prefix="run-1"), db
    )
    assert isinstance(named, ElasticsearchIndex) and named.alias == "run-1"
    default = index_from_settings(search_settings(tmp_path, elasticsearch_url="http://127.0.0.1:9"), db)
    assert isinstance(default, ElasticsearchIndex) and default.alias == "normreg-documents"
    await named.close()
    await default.close()


async def test_a_log_written_before_the_messages_were_published_builds_the_same_index(
    apps: AppMaker, event_log: SqliteEventLog
) -> None:
    """An event log (or topic) that holds the snapshots the registry wrote before its events were
    published messages: consumed and rebuilt, it gives the index the messages give."""
    await publish(event_log, lifecycle("old", legacy=True) + lifecycle("new"))
    app = await apps.start()
    assert await app.sync() == 2 * len(lifecycle())

    def views(entries: dict[str, tuple[int, PublicVersion | None]], doc: str) -> dict[str, str]:
        return {
            name.replace(doc, "x"): json.dumps([seq, encode_version(v) if v else None], ensure_ascii=False).replace(
                doc, "x"
            )
            for name, (seq, v) in entries.items()
            if name.startswith(f"documents/{doc}/")
        }

    entries = await app.index.entries()
    assert views(entries, "old") == views(entries, "new")
    assert [name for name in views(entries, "old") if name.startswith("documents/x/versions/")] == [
        "documents/x/versions/1",
        "documents/x/versions/2",
    ]
    await app.reindex()
    assert await app.index.entries() == entries
