"""Kafka stopped during a write load: writes go on being accepted (the outbox keeps them), the outbox
drains when Kafka is back on the same address, and nothing is lost or duplicated in the index."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from tests.faults.checks import converged, everything_acknowledged_is_there_once, verify_reports_no_difference
from tests.faults.cluster import Cluster, Infra, eventually
from tests.faults.conftest import Plan
from tests.faults.load import Load

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch]

RATE = 10.0


def unsent(registry_db: Path) -> int:
    conn = sqlite3.connect(registry_db, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])
    finally:
        conn.close()


async def test_writes_are_accepted_while_kafka_is_down_and_the_outbox_drains_once_it_is_back(
    cluster: Cluster, infra: Infra, faults: Plan
) -> None:
    load = Load(cluster, run=cluster.suffix, rate=RATE)
    registry_db = cluster.root / "registry" / "registry.db"
    stop = asyncio.Event()
    writing = asyncio.create_task(load.run_until(stop, max_writes=3000))
    try:
        await eventually(lambda: _at_least(load, 20), 60, "the load writes")
        await infra.stop("kafka")
        try:
            down_at = time.monotonic()
            await asyncio.sleep(faults.outage_s)
            up_at = time.monotonic()
            during = load.acked_between(down_at, up_at)
            held = unsent(registry_db)
        finally:
            await infra.start("kafka", cluster.kafka)
        back_at = time.monotonic()
        print(f"kafka down {up_at - down_at:.0f}s: {during} writes acknowledged, {held} events held in the outbox")
        # Writes were accepted all along, and their events waited in the outbox.
        assert during >= RATE * faults.outage_s * 0.5
        assert held > 0
        acked = len(load.acked)
        await eventually(lambda: _at_least(load, acked + 20), 60, "the load goes on after Kafka is back")
    finally:
        stop.set()
        await writing

    drained = await eventually(lambda: _true(unsent(registry_db) == 0), 120, "the outbox drains")
    print(f"outbox drained {time.monotonic() - back_at:.1f}s after Kafka was back ({drained:.1f}s after the load)")
    await converged(cluster, load, timeout=120)
    await everything_acknowledged_is_there_once(cluster, load)
    await verify_reports_no_difference(cluster)


async def _at_least(load: Load, n: int) -> bool:
    return len(load.acked) >= n


async def _true(value: bool) -> bool:
    return value
