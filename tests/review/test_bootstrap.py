"""Wiring: the app as the whole-system runner uses it, and the process as `python -m normreg_review`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg_common.settings import Settings
from normreg_review.bootstrap import create_app

from tests.conftest import TEST_KEY


async def test_the_app_serves_with_its_own_event_log_and_background_tasks_and_stops(settings: Settings) -> None:
    app = await create_app(settings)
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            response = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await app.stop(grace=0)
    assert (settings.data_dir / "review.db").exists()
    assert (settings.data_dir / "eventlog.db").exists()


async def test_the_process_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NORMREG_DATA_DIR": str(tmp_path),
        "NORMREG_REVIEW_ADDR": "127.0.0.1:0",
        "NORMREG_JWT_KEY": TEST_KEY,
        "NORMREG_KAFKA_BOOTSTRAP": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "normreg_review", env=env, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        line = await asyncio.wait_for(process.stderr.readline(), timeout=30)
        assert b"review service listening on port" in line
        process.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(process.stderr.read(), timeout=30)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        assert b"review service stopping" in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
