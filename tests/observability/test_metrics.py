"""The metrics follow what really happens: RPC codes and latencies, the outbox while the log is
down, consumer lag, the scheduler and filing obligations, and the HTTP endpoint that serves them."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common import outbox
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Consumer, EventLog, PositionLoader, Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.metrics import MetricsEndpoint, Sampler
from normreg_common.outbox import OutboxRelay
from normreg_common.sqlite import Database

from tests.e2e.flows import People
from tests.harness import System
from tests.observability.conftest import sample, settled

pytestmark = pytest.mark.asyncio

REGISTRY_SERVICE = "normreg.v1.RegistryService"


def handled(method: str, code: str) -> float:
    return sample("grpc_server_handled_total", grpc_service=REGISTRY_SERVICE, grpc_method=method, grpc_code=code)


async def handled_settled(method: str, code: str, expected: float) -> float:
    return await settled(
        "grpc_server_handled_total", expected, grpc_service=REGISTRY_SERVICE, grpc_method=method, grpc_code=code
    )


async def test_a_refused_rpc_is_counted_with_its_code_and_timed(system: System) -> None:
    p = People(system)
    before_ok = handled("CreateDocument", "OK")
    before_refused = handled("RecordDeliberation", "FAILED_PRECONDITION")
    # The counters are process-wide: other tests in this process may have adopted documents.
    before_adopted = handled("RecordDeliberation", "OK")
    before_timed = sample(
        "grpc_server_handling_seconds_count", grpc_service=REGISTRY_SERVICE, grpc_method="RecordDeliberation"
    )
    doc = await p.create("赤峰市城市供水管理办法", "第一条 为了加强供水管理，制定本办法。")
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    admin = system.stub("registry", system.token("root", "admin", org="市政府"))
    # Legality review has not decided yet: deliberation is refused.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await admin.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day("2026-03-02")
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await handled_settled("CreateDocument", "OK", before_ok + 1) == before_ok + 1
    assert await handled_settled("RecordDeliberation", "FAILED_PRECONDITION", before_refused + 1) == before_refused + 1
    assert handled("RecordDeliberation", "OK") == before_adopted
    timed = await settled(
        "grpc_server_handling_seconds_count",
        before_timed + 1,
        grpc_service=REGISTRY_SERVICE,
        grpc_method="RecordDeliberation",
    )
    assert timed == before_timed + 1


async def test_a_caller_without_a_valid_token_is_counted_unauthenticated(system: System) -> None:
    before = handled("GetDocument", "UNAUTHENTICATED")
    forged = system.stub("registry", "not-a-token")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await forged.GetDocument(rpb.GetDocumentRequest(name="documents/x"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await handled_settled("GetDocument", "UNAUTHENTICATED", before + 1) == before + 1


class SwitchableLog(EventLog):
    """The embedded log behind a switch: while down, every publish fails as an unreachable broker's would."""

    def __init__(self, inner: SqliteEventLog) -> None:
        self.inner = inner
        self.down = False
        self.refused = asyncio.Event()

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        await self.inner.ensure_topics(topics)

    async def publish(self, records: Sequence[Record]) -> None:
        if self.down:
            self.refused.set()
            raise ConnectionError("broker unreachable")
        await self.inner.publish(records)

    def consumer(self, topics: Sequence[str], group: str, positions: PositionLoader) -> Consumer:
        return self.inner.consumer(topics, group, positions)


async def test_outbox_backlog_grows_while_the_log_is_unreachable_and_drains_when_it_returns(
    tmp_path: Path, clock: FakeClock
) -> None:
    log = SwitchableLog(SqliteEventLog(tmp_path / "eventlog.db"))
    s = System(tmp_path, clock, services=("registry",), event_log=log)
    await s.start()
    try:
        drafter = s.stub("registry", s.token("zhang", "drafter", org="市城管局"))
        registry = s.apps["registry"]
        runtime = registry._runtime
        await s.pump()
        await runtime.sampler.sample()
        assert sample("normreg_outbox_backlog", service="registry") == 0
        assert sample("normreg_outbox_oldest_age_seconds", service="registry") == 0
        log.down = True
        failures = sample("normreg_outbox_publish_failures_total", service="registry")
        for i in range(3):
            await drafter.CreateDocument(
                rpb.CreateDocumentRequest(
                    kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                    title=f"赤峰市第{i}号测试办法",
                    body="第一条 测试。",
                    issuing_body="赤峰市人民政府",
                    number_prefix="赤政规",
                )
            )
            await runtime.sampler.sample()
            assert sample("normreg_outbox_backlog", service="registry") == i + 1
        # The relay's loop meets the unreachable log and says so.
        stop = asyncio.Event()
        relaying = asyncio.create_task(registry.relay.run(stop))
        await log.refused.wait()
        stop.set()
        await relaying
        assert sample("normreg_outbox_publish_failures_total", service="registry") >= failures + 1
        await runtime.sampler.sample()
        assert sample("normreg_outbox_backlog", service="registry") == 3
        assert sample("normreg_outbox_oldest_age_seconds", service="registry") > 0
        published = sample("normreg_outbox_published_total", service="registry")
        log.down = False
        assert await registry.relay.drain() == 3
        await runtime.sampler.sample()
        assert sample("normreg_outbox_backlog", service="registry") == 0
        assert sample("normreg_outbox_oldest_age_seconds", service="registry") == 0
        assert sample("normreg_outbox_published_total", service="registry") == published + 3
    finally:
        await s.stop()


async def test_consumer_lag_counts_what_the_search_index_has_not_applied(system: System) -> None:
    p = People(system)
    search = system.apps["search"]
    await system.pump()
    await search.sampler.sample()
    assert (
        sample("normreg_consumer_lag_records", consumer="search:documents", topic="normreg.documents", partition="0")
        == 0
    )
    await p.create("赤峰市城市照明管理办法", "第一条 为了加强城市照明管理，制定本办法。")
    await system.apps["registry"].sync()
    await search.sampler.sample()
    assert (
        sample("normreg_consumer_lag_records", consumer="search:documents", topic="normreg.documents", partition="0")
        == 1
    )
    applied_before = sample("normreg_consumer_records_total", consumer="search:documents", topic="normreg.documents")
    await search.sync()
    await search.sampler.sample()
    assert (
        sample("normreg_consumer_lag_records", consumer="search:documents", topic="normreg.documents", partition="0")
        == 0
    )
    assert (
        sample("normreg_consumer_records_total", consumer="search:documents", topic="normreg.documents")
        == applied_before + 1
    )
    assert (
        sample(
            "normreg_consumer_last_applied_timestamp_seconds", consumer="search:documents", topic="normreg.documents"
        )
        > 0
    )


async def test_scheduler_runs_and_filing_obligations_due_then_overdue(system: System) -> None:
    p = People(system)
    registry = system.apps["registry"]
    runs = sample("normreg_scheduler_runs_total", outcome="ok")
    await p.to_in_force("赤峰市户外广告设置管理办法", "第一条 为了规范户外广告设置，制定本办法。")

    async def listed() -> tuple[int, int]:
        """What ListDueFilings shows: one entry per recipient still to be filed with."""
        reply = await p.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=366))
        return sum(not f.overdue for f in reply.filings), sum(f.overdue for f in reply.filings)

    # Promulgated 30 days ago (to_in_force moved the clock), not filed: the 30-day deadline is today.
    await registry.run_scheduler_once()
    assert sample("normreg_scheduler_runs_total", outcome="ok") == runs + 1
    due, overdue = await listed()
    assert due >= 1 and overdue == 0
    assert sample("normreg_filing_obligations", state="due") == due
    assert sample("normreg_filing_obligations", state="overdue") == 0
    p.clock.advance(days=1)
    await registry.run_scheduler_once()
    assert await listed() == (0, due)
    assert sample("normreg_filing_obligations", state="due") == 0
    assert sample("normreg_filing_obligations", state="overdue") == due


async def test_a_failing_scheduler_run_is_counted(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = system.apps["registry"]
    failed = sample("normreg_scheduler_runs_total", outcome="failed")

    async def broken() -> int:
        raise RuntimeError("database gone")

    monkeypatch.setattr(registry.service, "run_scheduler", broken)
    await registry.run_scheduler_once()
    assert sample("normreg_scheduler_runs_total", outcome="failed") == failed + 1


async def test_the_endpoint_serves_the_metrics_over_http(system: System) -> None:
    p = People(system)
    await p.create("赤峰市城市排水管理办法", "第一条 为了加强排水管理，制定本办法。")
    endpoint = MetricsEndpoint("127.0.0.1:0")
    try:
        with await asyncio.to_thread(urllib.request.urlopen, endpoint.url, timeout=10) as reply:
            body = reply.read().decode()
    finally:
        endpoint.close()
    assert (
        'grpc_server_handled_total{grpc_code="OK",grpc_method="CreateDocument",'
        f'grpc_service="{REGISTRY_SERVICE}"}}' in body
    )
    assert "normreg_outbox_backlog" in body


async def test_an_outbox_made_before_it_recorded_write_times_is_migrated(tmp_path: Path) -> None:
    old_schema = (
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT NOT NULL, "
        "value BLOB NOT NULL, sent_at REAL);"
    )
    db = Database(tmp_path / "old.db", old_schema)
    await db.open()
    await db.transaction(lambda conn: conn.execute("INSERT INTO outbox (topic, key, value) VALUES ('t', 'k', x'00')"))
    await db.transaction(outbox.migrate)
    await db.transaction(outbox.migrate)  # idempotent: runs at every start
    relay = OutboxRelay(db, SqliteEventLog(tmp_path / "log.db"), service="old")
    # The row written before the migration has no time: counted, its age unknown.
    assert await relay.backlog() == (1, None)
    await db.transaction(lambda conn: outbox.enqueue(conn, [Record("t", "k", b"1")]))
    count, oldest = await relay.backlog()
    assert count == 2 and oldest is None
    await db.transaction(lambda conn: conn.execute("UPDATE outbox SET sent_at = 1 WHERE id = 1"))
    count, oldest = await relay.backlog()
    assert count == 1 and oldest is not None and oldest > 0
    await db.close()


async def test_a_record_no_consumer_can_read_is_counted_as_a_dead_letter(system: System) -> None:
    search_before = sample("normreg_dead_letters_total", consumer="search:documents", topic="normreg.documents")
    review_before = sample("normreg_dead_letters_total", consumer="review:documents", topic="normreg.documents")
    await system.event_log.publish([Record("normreg.documents", "documents/x", b"not a cloudevent")])
    await system.pump()
    assert (
        sample("normreg_dead_letters_total", consumer="search:documents", topic="normreg.documents")
        == search_before + 1
    )
    assert (
        sample("normreg_dead_letters_total", consumer="review:documents", topic="normreg.documents")
        == review_before + 1
    )
    # Set aside, not in the way: the consumers moved past it.
    await system.apps["search"].sampler.sample()
    lag = sample("normreg_consumer_lag_records", consumer="search:documents", topic="normreg.documents", partition="0")
    assert lag == 0


async def test_a_probe_that_answers_late_is_reported_in_one_line_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []

    async def slow() -> None:
        await asyncio.Event().wait()

    async def failing() -> None:
        raise ConnectionError("the broker is down")

    async def fine() -> None:
        ran.append("fine")

    with caplog.at_level("WARNING", logger="normreg_common.metrics"):
        await Sampler([slow, failing, fine], interval_s=0.01).sample()
    late = [r for r in caplog.records if "took over" in r.getMessage()]
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    # Late is load, not a fault: no traceback. A probe that raises keeps its traceback.
    assert len(late) == 1 and late[0].exc_info is None and "slow" in late[0].getMessage()
    assert len(failed) == 1 and failed[0].exc_info is not None and "failing" in failed[0].getMessage()
    assert ran == ["fine"]
