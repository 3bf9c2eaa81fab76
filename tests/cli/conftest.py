"""The CLI in-process against services on loopback: `cli("get", name, "--as", "registrar:reg")`."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from normreg_cli.main import run_async
from normreg_common.clock import FakeClock
from normreg_common.settings import Settings

from tests.conftest import TEST_KEY
from tests.harness import System

# Nothing listens on port 1: a service the test did not start is unreachable, never someone else's.
NOWHERE = "127.0.0.1:1"

DRAFTER = "drafter:alice@市司法局"
SECRETARY = "secretary:sam@政府办"
REGISTRAR = "registrar:reg@政府办"
REVIEWER = "reviewer:rita@司法局"
EVALUATOR = "evaluator:eve@某大学"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


class Cli:
    """Runs `normreg` in-process with the test signing key and the started services' ports."""

    def __init__(self, data_dir: Path, addresses: dict[str, str]) -> None:
        self.settings = Settings(
            data_dir=data_dir,
            jwt_key=TEST_KEY,
            registry_addr=addresses.get("registry", NOWHERE),
            review_addr=addresses.get("review", NOWHERE),
            search_addr=addresses.get("search", NOWHERE),
            filing_addr=addresses.get("filing", NOWHERE),
        )

    async def __call__(self, *argv: str, env: dict[str, str] | None = None) -> Result:
        out, err = io.StringIO(), io.StringIO()
        # The developer's own NORMREG_TOKEN must not leak into the tests.
        code = await run_async(list(argv), out, err, settings=self.settings, env=env or {})
        return Result(code, out.getvalue(), err.getvalue())

    async def ok(self, *argv: str, env: dict[str, str] | None = None) -> Result:
        result = await self(*argv, env=env)
        assert result.code == 0, f"normreg {' '.join(argv)} failed: {result.err}"
        assert result.err == ""
        return result


def cli_for(system: System, data_dir: Path) -> Cli:
    return Cli(data_dir, {name: f"127.0.0.1:{app.port}" for name, app in system.apps.items()})


@pytest.fixture
async def registry(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    system = System(tmp_path, clock, services=("registry",))
    await system.start()
    yield system
    await system.stop()


@pytest.fixture
def cli(registry: System, tmp_path: Path) -> Cli:
    return cli_for(registry, tmp_path / "cli")


@pytest.fixture
def offline(tmp_path: Path) -> Cli:
    """The CLI with no service running: for parsing, usage errors and unreachable servers."""
    return Cli(tmp_path / "cli", {})
