"""The filing service through gRPC at the province, fed with what a city's registry really publishes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from normreg_common.clock import FakeClock
from normreg_registry.domain.lifecycle import Kind
from normreg_registry.domain.model import Document

from tests.filing.test_filing_review_service import city_document, stream
from tests.harness import Stub, System
from tests.registry.test_domain_lifecycle import PROFILE, REGISTRAR, at

ALL_MATERIALS = {"text": True, "drafting_explanation": True, "legal_basis": True, "legality_review_opinion": True}
SOME_MATERIALS = {"text": True, "drafting_explanation": False, "legal_basis": True, "legality_review_opinion": True}
PROVINCE_GOVERNMENT = "内蒙古自治区人民政府"
CITY_GOVERNMENT = "赤峰市人民政府"


async def start_province(tmp_path: Path, **settings: Any) -> System:
    system = System(tmp_path, FakeClock(at(12)), services=("filing",), settings={"profile": "neimenggu", **settings})
    await system.start()
    return system


@pytest.fixture
async def province(tmp_path: Path) -> AsyncIterator[System]:
    system = await start_province(tmp_path)
    yield system
    await system.stop()


def filed(id: str, kind: Kind = Kind.GOVERNMENT_RULE, materials: dict[str, bool] | None = None) -> Document:
    """A document of the city promulgated on day 4 and filed with the province's government on day 10."""
    doc = city_document(id, kind)
    doc.record_filing(
        REGISTRAR,
        at(10),
        PROFILE,
        version=None,
        filed_date=at(10).date(),
        recipient=PROVINCE_GOVERNMENT,
        materials=materials or ALL_MATERIALS,
    )
    return doc


async def deliver(system: System, *docs: Document) -> None:
    service = system.apps["filing"].service
    for doc in docs:
        await service.apply("chifeng", stream(doc, service))


def reviewer(system: System) -> Stub:
    return system.stub("filing", system.token("wu", "reviewer", org="内蒙古自治区司法厅"))


def city_registrar(system: System, org: str = CITY_GOVERNMENT) -> Stub:
    return system.stub("filing", system.token("zhao", "registrar", org=org))
