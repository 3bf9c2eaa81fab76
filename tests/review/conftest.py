"""Fixtures for the review service: its app on a temporary data dir with the embedded event log, and a
stand-in registry that makes real documents and publishes their real events into that log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.settings import Settings
from normreg_review.bootstrap import ReviewApp, create_app

from tests.conftest import TEST_KEY
from tests.review.support import Registry


@pytest.fixture
async def event_log(tmp_path: Path) -> AsyncIterator[SqliteEventLog]:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    yield log
    await log.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "review", review_addr="127.0.0.1:0", jwt_key=TEST_KEY)


@pytest.fixture
async def app(
    settings: Settings, clock: FakeClock, event_log: SqliteEventLog, codec: TokenCodec
) -> AsyncIterator[ReviewApp]:
    review_app = await create_app(settings, clock=clock, event_log=event_log, background=False, codec=codec)
    await review_app.start()
    yield review_app
    await review_app.stop(grace=0)


@pytest.fixture
def registry(event_log: SqliteEventLog, clock: FakeClock) -> Registry:
    return Registry(event_log, clock)
