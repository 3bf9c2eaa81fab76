"""Two review service replicas over one PostgreSQL schema: one event applied once even when both
consume it (a rebalance hands a partition over mid-batch), one claim of a review wins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import review_service_pb2 as pb
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.settings import Settings
from normreg_review.bootstrap import ReviewApp, create_app

from tests.conftest import TEST_KEY
from tests.review.grpc_client import Caller, status_details
from tests.review.support import Registry, review_events


@pytest.fixture
async def apps(
    tmp_path: Path, clock: FakeClock, codec: TokenCodec, postgres_url: str, postgres_schema_prefix: str
) -> AsyncIterator[list[ReviewApp]]:
    started: list[ReviewApp] = []
    logs: list[SqliteEventLog] = []
    for name in ("a", "b"):
        log = SqliteEventLog(tmp_path / "eventlog.db")  # one file, opened by each replica
        await log.start()
        logs.append(log)
        settings = Settings(
            data_dir=tmp_path / name,
            review_addr="127.0.0.1:0",
            jwt_key=TEST_KEY,
            postgres_url=postgres_url,
            postgres_schema_prefix=postgres_schema_prefix,
            postgres_pool_size=4,
        )
        app = await create_app(settings, clock=clock, event_log=log, background=False, codec=codec)
        await app.start()
        started.append(app)
    yield started
    for app in started:
        await app.stop(grace=0)
    for log in logs:
        await log.close()


async def test_both_replicas_consuming_one_submission_open_one_review(
    apps: list[ReviewApp], clock: FakeClock, tmp_path: Path, codec: TokenCodec
) -> None:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    try:
        registry = Registry(log, clock)
        for i in range(5):
            await registry.submit(f"doc{i}")
        # Both replicas hold the partition at once and apply the same batch concurrently.
        await asyncio.gather(*(app.sync() for app in apps))
        await asyncio.gather(*(app.sync() for app in apps))
        opened = [e for e in await review_events(log) if e.type == "normreg.review.v1.created"]
    finally:
        await log.close()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{apps[1].port}") as channel:
        listed = await Caller(channel, codec.issue("rita", ["reviewer"], "司法局")).list(page_size=50)
    assert sorted(r.document for r in listed.reviews) == [f"documents/doc{i}" for i in range(5)]
    assert len(opened) == 5, [e.subject for e in opened]


async def test_two_reviewers_claiming_one_review_on_two_replicas_one_wins(
    apps: list[ReviewApp], clock: FakeClock, tmp_path: Path, codec: TokenCodec
) -> None:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    try:
        await Registry(log, clock).submit("doc1")
    finally:
        await log.close()
    await apps[0].sync()
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{apps[0].port}") as a,
        grpc.aio.insecure_channel(f"127.0.0.1:{apps[1].port}") as b,
    ):
        rita = Caller(a, codec.issue("rita", ["reviewer"], "司法局"))
        ray = Caller(b, codec.issue("ray", ["reviewer"], "司法局"))
        name = (await rita.list(page_size=1)).reviews[0].name
        outcomes = await asyncio.gather(rita.claim(name), ray.claim(name), return_exceptions=True)
        won = [o for o in outcomes if isinstance(o, pb.Review)]
        lost = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
        assert len(won) == 1 and len(lost) == 1, outcomes
        assert lost[0].code() == grpc.StatusCode.FAILED_PRECONDITION
        assert status_details(lost[0])[0] == "REVIEW_CLAIMED_BY_OTHER"
        assert (await ray.get(name)).assignee == won[0].assignee
