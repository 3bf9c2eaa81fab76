"""One write often emits several events of a version (an import and the clock's marks that travel
with it), each carrying the version whole. The live projection reads each one's envelope and
projects only the newest of each version in a batch; what the index holds must be exactly what
projecting every event in order gives, and a bad newest event must not cost the older ones. On
both index backends."""

from __future__ import annotations

import logging

import pytest
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import CloudEvent
from normreg_search.bootstrap import SearchApp
from normreg_search.query import SearchQuery

from tests.search.conftest import AppMaker, publish
from tests.search.helpers import registry_event


async def _titles(app: SearchApp, text: str) -> dict[str, str]:
    page = await app.service.search(SearchQuery(text=text, limit=100))
    return {h.version.name: h.version.title for h in page.hits}


def _version(sequence: int, title: str) -> CloudEvent:
    return registry_event("same", 1, sequence, "IN_FORCE", title=title, promulgation_date="2020-01-01")


async def test_the_index_holds_what_the_newest_event_of_a_version_in_a_batch_says(
    apps: AppMaker, event_log: SqliteEventLog
) -> None:
    app = await apps.start()
    other = registry_event("other", 1, 1, "IN_FORCE", title="另一个测试办法", promulgation_date="2021-01-01")
    events = [_version(1, "第一稿测试办法"), other, _version(2, "第二稿测试办法"), _version(3, "定稿测试办法")]
    await publish(event_log, events)
    assert await app.sync() == 4
    assert await _titles(app, "测试办法") == {
        "documents/same/versions/1": "定稿测试办法",
        "documents/other/versions/1": "另一个测试办法",
    }


async def test_a_newer_sequence_wins_in_a_batch_even_when_it_arrives_first(
    apps: AppMaker, event_log: SqliteEventLog
) -> None:
    app = await apps.start()
    await publish(event_log, [_version(5, "新的测试办法"), _version(4, "旧的测试办法")])
    await app.sync()
    assert await _titles(app, "测试办法") == {"documents/same/versions/1": "新的测试办法"}


async def test_when_the_newest_event_of_a_version_cannot_be_read_the_older_one_applies(
    apps: AppMaker, event_log: SqliteEventLog, caplog: pytest.LogCaptureFixture
) -> None:
    app = await apps.start()
    broken = _version(2, "损坏的测试办法")
    broken.data["version"]["number"] = "not a number"
    await publish(event_log, [_version(1, "可读的测试办法"), broken])
    with caplog.at_level(logging.ERROR):
        await app.sync()
    assert await app.sync() == 0  # the consumer moved past both
    assert await _titles(app, "测试办法") == {"documents/same/versions/1": "可读的测试办法"}
    set_aside = [r.getMessage() for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 1 and "documents/same" in set_aside[0]


async def test_every_checkpoint_in_a_batch_is_witnessed_even_of_an_event_not_projected(
    apps: AppMaker, event_log: SqliteEventLog
) -> None:
    app = await apps.start()
    events = [
        _version(n, title).model_copy(update={"checkpoint": f"checkpoint-{n}"})
        for n, title in ((1, "第一稿测试办法"), (2, "定稿测试办法"))
    ]
    await publish(event_log, events)
    await app.sync()
    witnessed = await app.witnessed(0, 10)
    assert [(w.document, w.sequence, w.token) for w in witnessed] == [
        ("documents/same", 1, "checkpoint-1"),
        ("documents/same", 2, "checkpoint-2"),
    ]
