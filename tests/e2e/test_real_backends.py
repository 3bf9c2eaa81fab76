"""The same scenarios on Apache Kafka and Elasticsearch: real servers, started by `make test`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock
from normreg_common.eventlog.kafka_log import KafkaEventLog

from tests.e2e.flows import SCENARIOS
from tests.harness import System

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(
    tmp_path: Path, clock: FakeClock, kafka_bootstrap: str, elasticsearch_url: str
) -> AsyncIterator[System]:
    # Each test gets fresh topics and a fresh index, so runs never see each other's documents.
    suffix = uuid.uuid4().hex[:8]
    log = KafkaEventLog(kafka_bootstrap, client_id=f"e2e-{suffix}", partitions=3, topic_prefix=f"t{suffix}.")
    s = System(
        tmp_path,
        clock,
        event_log=log,
        settings={
            "kafka_bootstrap": kafka_bootstrap,
            "elasticsearch_url": elasticsearch_url,
            "kafka_topic_prefix": f"t{suffix}.",
            "elasticsearch_index_prefix": f"normreg-test-{suffix}",
        },
    )
    s.quiet_rounds = 4
    s.pause_s = 0.25
    await s.start()
    yield s
    await s.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_scenario_on_kafka_and_elasticsearch(
    system: System, scenario: Callable[[System], Awaitable[None]]
) -> None:
    await scenario(system)
