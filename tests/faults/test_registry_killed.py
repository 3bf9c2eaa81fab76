"""kill -9 of the registry at random moments of a write load: every acknowledged write is there after
the restart, reaches the index, and nothing appears twice."""

from __future__ import annotations

import asyncio
import random

import pytest

from tests.faults.checks import converged, everything_acknowledged_is_there_once, verify_reports_no_difference
from tests.faults.cluster import Cluster, eventually
from tests.faults.conftest import Plan
from tests.faults.load import Load

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch]


async def test_acknowledged_writes_survive_kill_9_of_the_registry_and_reach_the_index_once(
    cluster: Cluster, faults: Plan
) -> None:
    load = Load(cluster, run=cluster.suffix, rate=15)
    await _kill_under(cluster, load, faults.kills, random.Random(faults.seed), more=20)


async def test_acknowledged_batches_survive_kill_9_of_the_registry_and_reach_the_index_once(
    cluster: Cluster, faults: Plan
) -> None:
    """The same with ImportDocuments: ten laws a call, one transaction, killed at random moments."""
    load = Load(cluster, run=f"{cluster.suffix}b", rate=2, batch=10)
    await _kill_under(cluster, load, min(faults.kills, 2), random.Random(faults.seed + 1), more=40)


async def _kill_under(cluster: Cluster, load: Load, kills: int, rng: random.Random, *, more: int) -> None:
    stop = asyncio.Event()
    writing = asyncio.create_task(load.run_until(stop, max_writes=3000))
    try:
        for _ in range(kills):
            acked = len(load.acked)
            await eventually(lambda n=acked: _at_least(load, n + 10), 60, "the load writes")
            # A random moment, with writes in flight: in the servicer, in a group commit, on their way
            # back; the outbox relay may be publishing too.
            await asyncio.sleep(rng.uniform(0.0, 3.0))
            await eventually(lambda: _true(load.in_flight > 0), 10, "a write in flight", interval=0.0005)
            cluster.registry.kill()
            await cluster.registry.start()
        acked = len(load.acked)
        await eventually(lambda: _at_least(load, acked + more), 60, "the load goes on after the last restart")
    finally:
        stop.set()
        await writing
    # The kills were felt: some RPCs failed and were retried with their request id.
    assert sum(load.retries.values()) > 0
    print(f"{len(load.acked)} laws, {len(load.repealed)} repealed, {kills} kills, retries {dict(load.retries)}")

    await converged(cluster, load, timeout=120)
    await everything_acknowledged_is_there_once(cluster, load)
    await verify_reports_no_difference(cluster)


async def _at_least(load: Load, n: int) -> bool:
    return len(load.acked) >= n


async def _true(value: bool) -> bool:
    return value
