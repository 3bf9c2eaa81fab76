"""Fixtures of the search tests: a search app on an embedded event log (or on Elasticsearch), and
the real corpus, fetched once per session with scripts/fetch-corpus.sh."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.settings import Settings
from normreg_common.sqlite import Database
from normreg_search.bootstrap import SearchApp, create_app
from normreg_search.index.elasticsearch import ElasticsearchIndex
from normreg_search.index.port import SearchIndex

from tests.conftest import TEST_KEY

REPO = Path(__file__).resolve().parents[2]


def search_settings(data_dir: Path, **overrides: object) -> Settings:
    # Explicit empty backends: the environment of `make test` must not switch these tests to ES.
    values: dict[str, object] = {
        "data_dir": data_dir,
        "search_addr": "127.0.0.1:0",
        "jwt_key": TEST_KEY,
        "kafka_bootstrap": "",
        "elasticsearch_url": "",
        # A loaded machine must not turn a slow answer into a refusal; test_time_budget sets its own.
        "search_time_budget_s": 120.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def publish(log: SqliteEventLog, events: Sequence[CloudEvent]) -> None:
    await log.publish([Record(DOCUMENTS_TOPIC, e.subject, e.to_bytes()) for e in events])


@pytest.fixture
async def event_log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    yield log
    await log.close()


class AppMaker:
    """Starts search apps on one event log; stops (and for ES drops) them at the end."""

    def __init__(self, base: Path, log: SqliteEventLog, clock: FakeClock, codec: TokenCodec, es_url: str) -> None:
        self._base = base
        self._log = log
        self._clock = clock
        self._codec = codec
        self._es_url = es_url
        self._run = uuid.uuid4().hex[:10]
        self._apps: list[SearchApp] = []
        self._stopped: set[int] = set()

    async def start(self, name: str = "search") -> SearchApp:
        factory = None
        if self._es_url:
            url = self._es_url
            alias = f"normreg-test-{self._run}-{name}"

            def factory(db: Database) -> SearchIndex:
                return ElasticsearchIndex(url, db, alias=alias, refresh="wait_for", refresh_interval="100ms")

        app = SearchApp(
            search_settings(self._base / name),
            self._clock,
            self._log,
            owns_log=False,
            background=False,
            codec=self._codec,
            index_factory=factory,
        )
        await app.start()
        self._apps.append(app)
        return app

    async def stop(self, app: SearchApp) -> None:
        """Stop one app; its data (search.db, ES indices) stays for a restart under the same name."""
        self._stopped.add(id(app))
        await app.stop()

    async def close(self) -> None:
        for app in self._apps:
            if id(app) not in self._stopped:
                if isinstance(app.index, ElasticsearchIndex):
                    await app.index.drop_everything()
                await app.stop()


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
async def apps(
    request: pytest.FixtureRequest, tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec
) -> AsyncIterator[AppMaker]:
    es_url = request.getfixturevalue("elasticsearch_url") if request.param == "elasticsearch" else ""
    maker = AppMaker(tmp_path, event_log, clock, codec, es_url)
    yield maker
    await maker.close()


@pytest.fixture
async def app(
    tmp_path: Path, event_log: SqliteEventLog, clock: FakeClock, codec: TokenCodec
) -> AsyncIterator[SearchApp]:
    """The embedded app, through create_app as the other services and the CLI build it."""
    started = await create_app(
        search_settings(tmp_path / "search"), clock=clock, event_log=event_log, background=False, codec=codec
    )
    await started.start()
    yield started
    await started.stop()
