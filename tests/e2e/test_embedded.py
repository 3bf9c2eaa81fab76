"""The whole system on the embedded backends: SQLite event log and the embedded index."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock

from tests.e2e.flows import SCENARIOS
from tests.harness import System

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock)
    await s.start()
    yield s
    await s.stop()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
async def test_scenario_on_embedded_backends(system: System, scenario: Callable[[System], Awaitable[None]]) -> None:
    await scenario(system)
