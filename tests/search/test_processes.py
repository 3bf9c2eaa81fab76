"""The search service as several real processes on one port (NORMREG_SEARCH_PROCESSES=2): both
answer, one writes, they agree on what the index holds, through new events and a rebuild; writes
that reach a reader are handed to the writer; SIGTERM stops them all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status
from normreg.v1 import dead_letter_service_pb2 as dpb
from normreg.v1 import dead_letter_service_pb2_grpc as dgrpc
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.auth import TokenCodec
from normreg_common.eventlog.sqlite_log import SqliteEventLog

from tests.conftest import TEST_KEY
from tests.search.conftest import publish
from tests.search.helpers import registry_event

TIMEOUT = 20.0
# Each its own connection (no subchannel shared between channels of this process), so the kernel
# spreads them over the processes; with 24 the chance that one process gets none is 2 in 2^24.
CONNECTIONS = 24


def law(i: int, state: str = "IN_FORCE", sequence: int = 1) -> object:
    return registry_event(
        f"law{i}",
        1,
        sequence,
        state,
        title=f"赤峰市第{i}号停车场管理办法",
        body=f"第一条 为了规范第{i}号停车场管理，制定本办法。\n第二条 本办法由城市管理局负责实施。",
        uniform_number=f"赤政规〔2023〕{i + 1}号",
        promulgation_date="2023-03-15",
    )


def _two_free_ports() -> int:
    """A port p with p + 1 also free: the reader's /metrics is the writer's port plus one."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free ports")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until(condition: Callable[[], bool]) -> None:
    """Waits for `condition`, bounded by the test's timeout (pytest-timeout) only."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.1)


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(x) for x in text.split()]


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "normreg_search"], env=env, stdout=out, stderr=subprocess.STDOUT)


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


@dataclass
class Cluster:
    proc: subprocess.Popen[bytes]
    address: str
    metrics_port: int
    log: SqliteEventLog
    admin: str
    output: Path

    def serving(self) -> bool:
        """Whether the supervisor has said that every process serves; fails if it exited."""
        text = self.output.read_text(errors="replace")
        if self.proc.poll() is not None:
            raise AssertionError(f"the supervisor exited with {self.proc.returncode}:\n{text[-2000:]}")
        return "processes serving" in text

    def channels(self) -> list[grpc.aio.Channel]:
        return [
            grpc.aio.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(CONNECTIONS)
        ]

    def searches_answered(self, port: int) -> float:
        """SearchDocuments calls the process with /metrics on `port` answered (0 while it starts)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                text = reply.read().decode()
        except urllib.error.URLError:
            return 0.0
        pattern = r'grpc_server_handled_total\{[^}]*grpc_method="SearchDocuments"[^}]*\} ([0-9.e+]+)'
        return sum(float(x) for x in re.findall(pattern, text))


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    log = SqliteEventLog(tmp_path / "eventlog.db")
    await log.start()
    await publish(log, [law(i) for i in range(6)])  # type: ignore[list-item]
    port, metrics = _free_port(), _two_free_ports()
    env = {
        **os.environ,
        "NORMREG_DATA_DIR": str(tmp_path),
        "NORMREG_SEARCH_PROCESSES": "2",
        "NORMREG_SEARCH_ADDR": f"127.0.0.1:{port}",
        "NORMREG_SEARCH_METRICS_ADDR": f"127.0.0.1:{metrics}",
        "NORMREG_JWT_KEY": TEST_KEY,
        "NORMREG_KAFKA_BOOTSTRAP": "",
        "NORMREG_ELASTICSEARCH_URL": "",
    }
    proc = _start(env, tmp_path / "search.log")
    admin = TokenCodec(TEST_KEY).issue("root", ["admin"])
    try:
        yield Cluster(proc, f"127.0.0.1:{port}", metrics, log, admin, tmp_path / "search.log")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        await log.close()


async def _answers(channels: list[grpc.aio.Channel], query: str) -> list[tuple[int, tuple[str, ...]]]:
    async def one(channel: grpc.aio.Channel) -> tuple[int, tuple[str, ...]]:
        reply = await sgrpc.SearchServiceStub(channel).SearchDocuments(
            spb.SearchDocumentsRequest(query=query, page_size=50), timeout=TIMEOUT
        )
        return reply.total, tuple(sorted(h.name for h in reply.hits))

    return list(await asyncio.gather(*(one(c) for c in channels)))


async def _until_all_see(channels: list[grpc.aio.Channel], query: str, expected: int) -> None:
    """Waits (without a time limit of its own: the test's timeout bounds it) for every connection to
    see `expected` hits. Connections are refused while the processes start."""
    while True:
        try:
            answers = await _answers(channels, query)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        else:
            if all(total == expected for total, _ in answers):
                return
        await asyncio.sleep(0.1)


@pytest.fixture
async def channels(cluster: Cluster) -> AsyncIterator[list[grpc.aio.Channel]]:
    made = cluster.channels()
    yield made
    for channel in made:
        await channel.close()


async def test_two_processes_both_answer_and_agree_through_new_events_and_a_rebuild(
    cluster: Cluster, channels: list[grpc.aio.Channel]
) -> None:
    await _until_all_see(channels, "停车场", 6)
    # Connections made before the reader listened all went to the writer: new ones until both
    # processes have answered (each has its own /metrics, the reader's on the next port). Waits
    # until the test's timeout if the reader never answers.
    while not (cluster.searches_answered(cluster.metrics_port) and cluster.searches_answered(cluster.metrics_port + 1)):
        for channel in channels:
            await channel.close()
        channels[:] = cluster.channels()
        await _answers(channels, "停车场")
    first = await _answers(channels, "停车场")
    assert len(set(first)) == 1, first
    assert first[0] == (6, tuple(f"documents/law{i}/versions/1" for i in range(6)))

    # The writer applies new events; the reader sees them in the same file.
    await publish(cluster.log, [law(i) for i in range(6, 9)])  # type: ignore[list-item]
    await publish(cluster.log, [law(0, state="REPEALED", sequence=2)])  # type: ignore[list-item]
    await _until_all_see(channels, "停车场", 8)
    after = await _answers(channels, "停车场")
    assert len(set(after)) == 1, after
    assert "documents/law0/versions/1" not in after[0][1]
    assert "documents/law8/versions/1" in after[0][1]

    # Rebuilds asked of any process (a reader hands it to the writer) switch the index under the
    # reader too: it follows the new generation instead of reading a dropped one.
    metadata = (("authorization", f"Bearer {cluster.admin}"),)
    for channel in channels[:4]:
        reply = await sgrpc.SearchServiceStub(channel).RebuildIndex(
            spb.RebuildIndexRequest(), metadata=metadata, timeout=120
        )
        assert reply.seconds >= 0
    rebuilt = await _answers(channels, "停车场")
    assert set(rebuilt) == set(after)

    # A write refused by the writer reaches the caller as the writer's answer, whichever process
    # took the call (never INTERNAL from a reader that may not write).
    for channel in channels[:8]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await dgrpc.DeadLetterServiceStub(channel).RetryDeadLetter(
                dpb.RetryDeadLetterRequest(name="deadLetters/normreg.documents:0:99999"),
                metadata=metadata,
                timeout=TIMEOUT,
            )
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        assert rpc_status.from_call(refused.value) is not None


async def test_a_process_that_dies_is_started_again_and_sigterm_stops_them_all(
    cluster: Cluster, channels: list[grpc.aio.Channel]
) -> None:
    await _until_all_see(channels, "停车场", 6)
    # The reader starts once the writer serves: kill it only once the supervisor says both serve.
    await _until(lambda: cluster.serving())
    workers = _children(cluster.proc.pid)
    assert len(workers) == 2
    os.kill(workers[1], signal.SIGKILL)  # the reader, started second
    while True:
        now = _children(cluster.proc.pid)
        if len(now) == 2 and workers[1] not in now:
            break
        await asyncio.sleep(0.1)
    for channel in channels:
        await channel.close()
    channels[:] = cluster.channels()
    await _until_all_see(channels, "停车场", 6)

    survivors = _children(cluster.proc.pid)
    cluster.proc.send_signal(signal.SIGTERM)
    assert cluster.proc.wait(60) == 0
    for pid in survivors:
        assert _gone(pid)


async def test_a_process_that_stops_answering_is_replaced(cluster: Cluster, channels: list[grpc.aio.Channel]) -> None:
    await _until_all_see(channels, "停车场", 6)
    # Stopped only once the supervisor says both serve: a reader stopped while it starts is never
    # seen serving, and the supervisor gives up its start after WRITER_START_S.
    await _until(lambda: cluster.serving())
    workers = _children(cluster.proc.pid)
    assert len(workers) == 2
    # Stopped, not dead: it holds its connections and answers nothing. Only the health checks on
    # its own port can tell; the supervisor kills it and starts another.
    os.kill(workers[1], signal.SIGSTOP)
    await _until(lambda: workers[1] not in (now := _children(cluster.proc.pid)) and len(now) == 2)
    for channel in channels:
        await channel.close()
    channels[:] = cluster.channels()
    await _until_all_see(channels, "停车场", 6)
