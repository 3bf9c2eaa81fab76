"""Several search processes behind one address.

One Python process answers searches on one core. With NORMREG_SEARCH_PROCESSES=N (0 = one per
core), `python -m normreg_search` starts N processes that all listen on NORMREG_SEARCH_ADDR with
SO_REUSEPORT, the kernel spreading connections among them:

- exactly one writer consumes the events and writes the index (the embedded SQLite FTS5 file or
  Elasticsearch) and also listens on a private loopback port;
- the others are readers: they open search.db read-only (SQLite's WAL lets them read while the
  writer writes), consume nothing, and hand the calls that write to the writer's private port.

The writer starts first, so the readers find its schema; the supervisor says "serving" once every
process answers its health check on its own loopback port, and keeps asking every few seconds: a
process that stops answering (hung) is killed. A process that dies is started again;
one that keeps dying within seconds of its start stops them all (the supervisor exits non-zero, so
`make run` or the orchestrator notices). SIGTERM or SIGINT stops every process gracefully: each
says NOT_SERVING, finishes the calls under way within its grace, and exits.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg_common.settings import Settings
from normreg_common.stopping import STOP
from normreg_common.tls import grpc_channel_credentials

# A process that exits sooner than this after its start has not come up; this many such exits in
# a row and the supervisor gives up instead of restarting it forever.
EARLY_EXIT_S = 10.0
EARLY_EXITS_ALLOWED = 3
# Readers need the writer's schema: how long the writer may take to answer its health check.
WRITER_START_S = 120.0
# Past a process's own limit (it then writes its threads' stacks and exits), so that stack is not lost
# to a SIGKILL.
STOP_GRACE_S = STOP.limit_s + 1.0
# Every process's health is asked on its own port this often; one that has not answered SERVING
# this many times in a row (hung, not dead) is killed, and so started again.
HEALTH_EVERY_S = 5.0
HEALTH_FAILURES_ALLOWED = 3


def process_count(settings: Settings) -> int:
    """NORMREG_SEARCH_PROCESSES, with 0 meaning one per core this process may run on."""
    if settings.search_processes:
        return settings.search_processes
    return max(1, len(os.sched_getaffinity(0)))


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def shared_address(address: str) -> tuple[str, socket.socket | None]:
    """The address every process binds. Port 0 becomes one free port, held (bound, not listening,
    SO_REUSEPORT) until the supervisor exits so no other program takes it meanwhile."""
    host, port = _split(address)
    if port != 0:
        return address, None
    bare = host.strip("[]") or "0.0.0.0"  # noqa: S104 - ":0" means every interface, as for gRPC
    holder = socket.socket(socket.AF_INET6 if ":" in bare else socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((bare, 0))
    return f"{host}:{holder.getsockname()[1]}", holder


def private_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def metrics_address(address: str, index: int) -> str:
    """Each process has its own /metrics (their counters are their own): the configured port plus
    the process's index; port 0 stays 0 (any free port)."""
    if not address or index == 0:
        return address
    host, port = _split(address)
    return f"{host}:{port + index if port else 0}"


@dataclass
class _Worker:
    index: int
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    early_exits: int = field(default=0)
    health_failures: int = field(default=0)

    @property
    def private(self) -> str:
        return self.env["NORMREG_SEARCH_PRIVATE_ADDR"]

    @property
    def role(self) -> str:
        return self.env["NORMREG_SEARCH_ROLE"]

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "normreg_search"], env=self.env)
        self.started = time.monotonic()
        self.health_failures = 0

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def _health_channel(address: str, settings: Settings) -> grpc.Channel:
    tls = settings.client_tls() if settings.server_tls() is not None else None
    if tls is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, grpc_channel_credentials(tls))


def _serving(channel: grpc.Channel) -> bool:
    try:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
    except grpc.RpcError:
        return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _wait_serving(worker: _Worker, settings: Settings, timeout: float) -> None:
    """Waits for `worker` to answer SERVING. One that exits while starting (killed, or a port
    taken a moment ago) is started again like one that dies later; only EARLY_EXITS_ALLOWED exits
    in a row stop the start."""
    deadline = time.monotonic() + timeout
    with _health_channel(worker.private, settings) as channel:
        while not _serving(channel):
            if not worker.running():
                worker.early_exits += 1
                if worker.early_exits >= EARLY_EXITS_ALLOWED:
                    raise RuntimeError(f"the search {worker.role} keeps exiting while starting")
                print(f"search: the {worker.role} exited while starting; starting it again", file=sys.stderr)
                worker.start()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the search {worker.role} did not serve within {timeout:.0f}s")
            time.sleep(0.1)
    worker.early_exits = 0


def _check_health(workers: list[_Worker], settings: Settings) -> None:
    for worker in workers:
        if not worker.running() or time.monotonic() - worker.started < EARLY_EXIT_S:
            continue
        with _health_channel(worker.private, settings) as channel:
            worker.health_failures = 0 if _serving(channel) else worker.health_failures + 1
        if worker.health_failures >= HEALTH_FAILURES_ALLOWED and worker.proc is not None:
            print(f"search: the {worker.role} does not answer its health checks; restarting it", file=sys.stderr)
            worker.proc.kill()


def supervise(settings: Settings, count: int, environ: Mapping[str, str] | None = None) -> int:
    base = dict(os.environ if environ is None else environ)
    address, holder = shared_address(settings.search_addr)
    writer_addr = private_address()
    metrics = settings.search_metrics_addr
    workers = []
    for index in range(count):
        env = {
            **base,
            "NORMREG_SEARCH_ADDR": address,
            "NORMREG_SEARCH_ROLE": "writer" if index == 0 else "reader",
            "NORMREG_SEARCH_WRITER_ADDR": writer_addr,
            "NORMREG_SEARCH_PRIVATE_ADDR": writer_addr if index == 0 else private_address(),
            "NORMREG_SEARCH_PROCESSES": "1",
            "NORMREG_SEARCH_METRICS_ADDR": metrics_address(metrics, index),
        }
        workers.append(_Worker(index, env))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        workers[0].start()
        _wait_serving(workers[0], settings, WRITER_START_S)
        for worker in workers[1:]:
            worker.start()
        for worker in workers[1:]:
            _wait_serving(worker, settings, WRITER_START_S)
        print(f"search: {count} processes serving {address} (1 writer, {count - 1} readers)", file=sys.stderr)
        sys.stderr.flush()
        checked = time.monotonic()
        while not stopping:
            if time.monotonic() - checked > HEALTH_EVERY_S:
                _check_health(workers, settings)
                checked = time.monotonic()
            for worker in workers:
                if worker.running():
                    if time.monotonic() - worker.started > EARLY_EXIT_S:
                        worker.early_exits = 0
                    continue
                returncode = worker.proc.returncode if worker.proc is not None else None
                early = time.monotonic() - worker.started < EARLY_EXIT_S
                worker.early_exits = worker.early_exits + 1 if early else 0
                if worker.early_exits >= EARLY_EXITS_ALLOWED:
                    print(f"search: the {worker.role} keeps exiting ({returncode}); stopping", file=sys.stderr)
                    code = returncode or 1
                    stopping = True
                    break
                print(f"search: the {worker.role} exited with {returncode}; starting it again", file=sys.stderr)
                worker.start()
            time.sleep(0.2)
    except Exception as exc:  # a writer that never came up: stop whatever started
        print(f"search: {exc}", file=sys.stderr)
        code = 1
    finally:
        # Readers first: they answer searches while the writer finishes what it applies.
        for worker in reversed(workers):
            if worker.proc is not None and worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in workers:
            if worker.proc is None:
                continue
            try:
                worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()
        if holder is not None:
            holder.close()
    return code
