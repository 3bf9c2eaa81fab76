"""One bad document never stops the projection: it is set aside, visibly, and every document behind
it becomes searchable, live and through a rebuild. On both index backends."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_search.bootstrap import SearchApp
from normreg_search.index.elasticsearch import IndexWriteError
from normreg_search.index.port import IndexBuild, SearchIndex
from normreg_search.model import VersionChange
from normreg_search.query import SearchQuery

from tests.search.conftest import AppMaker, publish
from tests.search.helpers import registry_event


async def _names(app: SearchApp, text: str) -> list[str]:
    page = await app.service.search(SearchQuery(text=text, limit=100))
    return sorted(h.version.name for h in page.hits)


def _events() -> list[object]:
    endless = registry_event(
        "endless",
        1,
        1,
        "IN_FORCE",
        kind="NATIONAL_LAW",
        title="中华人民共和国永久测试法",
        promulgation_date="2000-01-01",
        validity_end="9999-12-31",
    )
    broken = registry_event("broken", 1, 1, "IN_FORCE", title="损坏的测试办法", promulgation_date="2020-01-01")
    broken.data["version"]["number"] = "not a number"
    later = registry_event("later", 1, 1, "IN_FORCE", title="后来的测试办法", promulgation_date="2026-01-01")
    return [endless, broken, later]


async def test_a_document_the_projection_cannot_read_is_set_aside_and_the_rest_applied(
    apps: AppMaker, event_log: SqliteEventLog, caplog: pytest.LogCaptureFixture
) -> None:
    app = await apps.start()
    await publish(event_log, _events())  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR):
        assert await app.sync() == 3
    assert await app.sync() == 0  # nothing left to retry: the consumer moved past the bad record
    assert await _names(app, "测试") == ["documents/endless/versions/1", "documents/later/versions/1"]
    set_aside = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 1 and "documents/broken" in set_aside[0]


async def test_a_validity_that_ends_on_the_last_day_of_the_calendar_is_no_end(
    apps: AppMaker, event_log: SqliteEventLog
) -> None:
    app = await apps.start()
    await publish(event_log, _events()[:1])  # type: ignore[arg-type]
    await app.sync()
    page = await app.service.search(SearchQuery(text="永久", limit=10))
    assert [h.version.name for h in page.hits] == ["documents/endless/versions/1"]
    assert page.hits[0].version.valid_to is None


async def test_a_rebuild_passes_over_a_bad_document(apps: AppMaker, event_log: SqliteEventLog) -> None:
    app = await apps.start()
    await publish(event_log, _events())  # type: ignore[arg-type]
    await app.sync()
    await app.reindex()
    assert await _names(app, "测试") == ["documents/endless/versions/1", "documents/later/versions/1"]


async def test_a_rebuild_passes_over_a_version_the_index_refuses(
    apps: AppMaker, event_log: SqliteEventLog, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The index refusing one version for what it holds (Elasticsearch refused a 60 KB keyword) set the
    version aside in the live consumer but ended the whole rebuild with INTERNAL, so the index could
    not be rebuilt at all. The rebuild now sets it aside too and switches to everything else."""
    app = await apps.start()
    await publish(event_log, [e for e in _events() if "broken" not in e.subject])  # type: ignore[attr-defined]
    await app.sync()
    begin = type(app.index).begin_rebuild

    async def refusing_begin(index: SearchIndex) -> IndexBuild:
        build = await begin(index)
        apply = build.apply

        async def refusing(changes: Sequence[VersionChange]) -> int:
            if any(c.name == "documents/later/versions/1" for c in changes):
                raise IndexWriteError("indexing documents/later/versions/1 failed (400): document_parsing_exception")
            return await apply(changes)

        monkeypatch.setattr(build, "apply", refusing)
        return build

    monkeypatch.setattr(type(app.index), "begin_rebuild", refusing_begin)
    with caplog.at_level(logging.ERROR):
        await app.reindex()
    assert await _names(app, "测试") == ["documents/endless/versions/1"]
    set_aside = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 1 and "documents/later/versions/1" in set_aside[0]
