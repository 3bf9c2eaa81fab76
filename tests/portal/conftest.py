"""One running system and portal for the whole portal suite (seeding it takes a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal.site import Site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    running = Site(Path(tmp_path_factory.mktemp("portal")))
    running.start()
    yield running
    running.stop()
