"""A service's stop ends whatever it waits on: a call past its grace is cut off with a status its
client retries on (UNAVAILABLE), a loop that ignores the stop is cancelled past its bound and named
in the log, a database held by a statement is interrupted and refuses what was
queued, and a process that still has not exited is ended with every thread's stack.

The bounds given here are small so the tests are quick; the `wait_for`s only end a broken test
(without these bounds each of them waited forever)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg_common import stopping
from normreg_common.auth import TokenCodec
from normreg_common.grpc_server import create_server, mark_serving
from normreg_common.runtime import stop_service
from normreg_common.sqlite import Database

from tests.conftest import TEST_KEY

QUICK = stopping.StopBounds(calls_s=0.2, loops_s=0.2, cancel_s=2.0, close_s=2.0, margin_s=0.1)
FOREVER = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"


def _endless_service(entered: asyncio.Event) -> Callable[[grpc.aio.Server], str]:
    """`test.Endless/Wait`: a call that never ends by itself."""

    async def wait(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        entered.set()
        await asyncio.Event().wait()
        return b""

    def add(server: grpc.aio.Server) -> str:
        handlers = {"Wait": grpc.unary_unary_rpc_method_handler(wait)}
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Endless", handlers)])
        return "test.Endless"

    return add


async def test_a_call_past_its_grace_is_cut_off_retryably_and_a_loop_ignoring_the_stop_is_cancelled_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entered = asyncio.Event()
    server, port = create_server("127.0.0.1:0", TokenCodec(TEST_KEY), "normreg.test", [_endless_service(entered)])
    await server.start()
    await mark_serving(server)
    client = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    # A call under way past the grace: its client must hear a status it can retry on.
    endless = asyncio.ensure_future(client.unary_unary("/test.Endless/Wait")(b"", timeout=60))
    await asyncio.wait_for(entered.wait(), timeout=60)
    db = Database(tmp_path / "service.db", "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    await db.open()
    stop = asyncio.Event()

    async def stubborn_loop() -> None:
        await asyncio.Event().wait()  # never looks at `stop`

    async def polite_loop() -> None:
        await stop.wait()

    stubborn = asyncio.create_task(stubborn_loop(), name="test: stubborn loop")
    polite = asyncio.create_task(polite_loop(), name="test: polite loop")
    with caplog.at_level(logging.INFO, logger="normreg_common"):
        await asyncio.wait_for(
            stop_service(
                "test",
                stop=stop,
                server=server,
                grace=5.0,
                loops=[stubborn, polite],
                closes=[("the database", db.close)],
                bounds=QUICK,
            ),
            timeout=60,
        )
    with pytest.raises(grpc.aio.AioRpcError) as cut_off:
        await asyncio.wait_for(endless, timeout=60)
    await client.close()
    assert cut_off.value.code() in {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE}, cut_off.value
    assert stubborn.cancelled()
    assert polite.done() and not polite.cancelled()
    overran = [r.getMessage() for r in caplog.records if "still running" in r.getMessage()]
    assert len(overran) == 1, overran
    assert "test: stubborn loop" in overran[0] and "stubborn_loop" in overran[0]
    assert any(r.getMessage().startswith("test stopped in") for r in caplog.records)
    with pytest.raises(sqlite3.OperationalError):
        await db.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (1)"))
    # The server is gone too: a new call finds nobody.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_close_held_by_a_running_statement_interrupts_it_and_refuses_what_was_queued(tmp_path: Path) -> None:
    db = Database(tmp_path / "held.db", "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    await db.open()
    running = threading.Event()

    def endless(conn: sqlite3.Connection) -> object:
        running.set()
        return conn.execute(FOREVER).fetchone()

    reading = asyncio.ensure_future(db.read(endless))
    writing = asyncio.ensure_future(db.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (1)")))
    assert await asyncio.to_thread(running.wait, 60)

    closed_by_itself = await asyncio.wait_for(stopping.within(0.2, "closing", db.close(), cancel_s=2.0), timeout=60)

    assert closed_by_itself is False
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        await asyncio.wait_for(reading, timeout=60)
    with pytest.raises(sqlite3.OperationalError, match="closing"):
        await asyncio.wait_for(writing, timeout=60)
    check = sqlite3.connect(tmp_path / "held.db")
    try:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (0,)
    finally:
        check.close()


async def test_a_unit_asked_of_a_closed_database_is_refused_every_time(tmp_path: Path) -> None:
    db = Database(tmp_path / "closed.db", "CREATE TABLE IF NOT EXISTS t (x INTEGER);")
    await db.open()
    await db.close()
    for _ in range(2):  # the second one used to wait forever behind a flush that was never run
        with pytest.raises(sqlite3.OperationalError, match="closed"):
            await asyncio.wait_for(db.transaction(lambda conn: conn.execute("INSERT INTO t VALUES (1)")), 60)
    with pytest.raises(sqlite3.OperationalError, match="closed"):
        await asyncio.wait_for(db.read(lambda conn: conn.execute("SELECT 1").fetchone()), 60)


def test_a_process_still_there_past_the_limit_exits_with_every_threads_stack() -> None:
    script = (
        "import threading, time\n"
        "from normreg_common import stopping\n"
        "stopping.arm(stopping.StopBounds(calls_s=0.1, loops_s=0.1, cancel_s=0.1, close_s=0.1, margin_s=0.1))\n"
        "stopping.arm(stopping.StopBounds(calls_s=3600))  # a second signal does not push the limit back\n"
        "threading.Thread(target=time.sleep, args=(3600,)).start()  # holds the exit\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 1, done.stderr
    assert "Timeout" in done.stderr
    assert "most recent call first" in done.stderr
