"""The same scenarios on Apache Kafka and Elasticsearch: real servers, started by `make test`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock
from normreg_common.eventlog.kafka_log import KafkaEventLog

from tests.e2e.flows import SCENARIOS
from tests.harness import System

pytestmark = pytest.mark.asyncio

CONSOLE = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka-console.sh"


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


async def test_kafkas_own_console_consumer_shows_the_events_of_a_promulgated_document(
    system: System, kafka_bootstrap: str
) -> None:
    """The events are plain CloudEvents JSON keyed by document: Kafka's own tools can read them."""
    from tests.e2e.flows import People

    people = People(system)
    doc = await people.to_in_force("赤峰市城市供水管理办法", "第一条 为了加强城市供水管理，制定本办法。")
    prefix = system.settings.kafka_topic_prefix
    process = await asyncio.create_subprocess_exec(
        "bash",
        str(CONSOLE),
        "consumer",
        "--bootstrap-server",
        kafka_bootstrap,
        "--topic",
        f"{prefix}normreg.documents",
        "--from-beginning",
        "--max-messages",
        "6",
        "--timeout-ms",
        "30000",
        "--formatter-property",
        "print.key=true",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    text = out.decode()
    assert process.returncode == 0, err.decode()[-2000:]
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 6
    assert all(line.startswith(doc.name) for line in lines)
    for action in ("created", "review_requested", "review_approved", "adopted", "promulgated", "entered_into_force"):
        assert f'"type":"normreg.registry.v1.{action}"' in text
