"""Elasticsearch stopped while events flow: the indexer retries with backoff, commits no position it
has not indexed, and the index converges once Elasticsearch is back."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tests.faults.checks import converged, everything_acknowledged_is_there_once, verify_reports_no_difference
from tests.faults.cluster import Cluster, Infra, eventually, read_positions
from tests.faults.conftest import Plan
from tests.faults.load import Load

pytestmark = [pytest.mark.kafka, pytest.mark.elasticsearch]

RATE = 10.0


async def test_the_indexer_retries_while_elasticsearch_is_down_and_the_index_converges(
    cluster: Cluster, infra: Infra, faults: Plan
) -> None:
    load = Load(cluster, run=cluster.suffix, rate=RATE)
    stop = asyncio.Event()
    writing = asyncio.create_task(load.run_until(stop, max_writes=3000))
    try:
        await eventually(lambda: _at_least(load, 20), 60, "the load writes")
        await infra.stop("elasticsearch")
        try:
            down_at = time.monotonic()
            # Events of these writes reach the search service and cannot be indexed.
            acked = len(load.acked)
            await eventually(lambda: _at_least(load, acked + 10), 60, "the load writes while Elasticsearch is down")
            before = read_positions(cluster.search_db())
            await asyncio.sleep(max(0.0, down_at + faults.outage_s - time.monotonic()))
            after = read_positions(cluster.search_db())
            during = load.acked_between(down_at, time.monotonic())
        finally:
            await infra.start("elasticsearch", cluster.elasticsearch)
        print(f"elasticsearch down {faults.outage_s:.0f}s: {during} writes acknowledged; positions held at {after}")
        # Nothing could be indexed, so no position moved.
        assert after == before
        acked = len(load.acked)
        await eventually(lambda: _at_least(load, acked + 20), 60, "the load goes on after Elasticsearch is back")
    finally:
        stop.set()
        await writing

    took = await converged(cluster, load, timeout=180)
    print(f"index converged {took:.1f}s after the load ended")
    waits = re.findall(r"search projection: batch failed, retrying in ([0-9.]+)s", cluster.search.log_tail(100_000))
    # It retried, waiting longer each time (up to its cap).
    assert len(set(waits)) >= 2, f"the indexer's retries: {waits}"
    await everything_acknowledged_is_there_once(cluster, load)
    await verify_reports_no_difference(cluster)


async def _at_least(load: Load, n: int) -> bool:
    return len(load.acked) >= n
