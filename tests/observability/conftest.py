"""Shared pieces of the observability tests: a system of services in one process, and a way to
read prometheus-client's registry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from normreg_common import tracing
from normreg_common.clock import FakeClock
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from tests.harness import System


async def settled(name: str, expected: float, **labels: str) -> float:
    """The sample once it reaches `expected` (or what it is after a few seconds).

    The server counts an RPC when its handler has unwound, which can be just after the client
    has its answer: an aborted call's status leaves before the handler's `finally` runs.
    """
    for _ in range(500):
        if sample(name, **labels) == expected:
            break
        await asyncio.sleep(0.01)
    return sample(name, **labels)


def sample(name: str, **labels: str) -> float:
    """The current value of one metric sample; 0 when it has not been created yet."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure([SimpleSpanProcessor(exporter)], service="normreg-test")
    yield exporter
    tracing.shutdown()


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock)
    await s.start()
    yield s
    await s.stop()
