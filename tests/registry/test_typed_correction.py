"""A correction required by a recipient that does not run normreg (国务院, say), typed in by the
registrar: the issuing body owes it by the recipient's deadline, and it stays on the list of filings
due until the version is filed again."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock

from tests.e2e.flows import People
from tests.harness import System, field_violations
from tests.registry.test_filing_outcomes_by_event import GOV, promulgated

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ALL = {"text": True, "drafting_explanation": True, "legal_basis": True, "legality_review_opinion": True}


@pytest.fixture
async def people(tmp_path: Path) -> AsyncIterator[People]:
    s = System(tmp_path, FakeClock(T0))
    await s.start()
    yield People(s)
    await s.stop()


async def _filed(people: People, title: str) -> pb.Document:
    doc = await promulgated(people, title)
    await people.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=doc.name, filed_date=day(iso(T0.date())), recipient=GOV, materials=pb.FilingMaterials(**ALL)
        )
    )
    return doc


async def _due(people: People) -> list[tuple[str, str, str]]:
    listed = await people.registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=366))
    return [(f.document, f.step, iso(f.due_date)) for f in listed.filings if f.recipient == GOV]


async def test_a_typed_correction_is_due_by_the_profiles_period_and_listed_until_filed_again(people: People) -> None:
    doc = await _filed(people, "赤峰市城市供水管理办法")
    version = f"{doc.name}/versions/1"
    assert await _due(people) == []
    filing = await people.registrar.RecordFilingReview(
        rpb.RecordFilingReviewRequest(
            name=doc.name, outcome=pb.FILING_OUTCOME_CORRECTION_REQUIRED, recipient=GOV, note="罚款超过上位法"
        )
    )
    due = (T0.date() + dt.timedelta(days=30)).isoformat()
    assert iso(filing.correction_due) == due
    assert await _due(people) == [(version, "CORRECT", due)]
    # Filed again, corrected: nothing is owed any more.
    await people.registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=doc.name, filed_date=day(iso(T0.date())), recipient=GOV, materials=pb.FilingMaterials(**ALL)
        )
    )
    assert await _due(people) == []


async def test_a_typed_correction_takes_the_recipients_own_deadline(people: People) -> None:
    doc = await _filed(people, "赤峰市养犬管理办法")
    await people.registrar.RecordFilingReview(
        rpb.RecordFilingReviewRequest(
            name=doc.name,
            outcome=pb.FILING_OUTCOME_CORRECTION_REQUIRED,
            recipient=GOV,
            correction_due_date=day("2026-03-20"),
        )
    )
    assert await _due(people) == [(f"{doc.name}/versions/1", "CORRECT", "2026-03-20")]


@pytest.mark.parametrize(
    ("outcome", "due"),
    [(pb.FILING_OUTCOME_ACCEPTED, "2026-04-01"), (pb.FILING_OUTCOME_CORRECTION_REQUIRED, "2026-03-01")],
)
async def test_a_deadline_for_another_outcome_or_before_today_is_refused_and_changes_nothing(
    people: People, outcome: pb.FilingOutcome.ValueType, due: str
) -> None:
    doc = await _filed(people, "赤峰市户外广告设置管理办法")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await people.registrar.RecordFilingReview(
            rpb.RecordFilingReviewRequest(name=doc.name, outcome=outcome, recipient=GOV, correction_due_date=day(due))
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(caught.value) == ["correction_due_date"]
    got = await people.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    [obligation] = [o for o in got.versions[-1].filing_obligations if o.recipient == GOV]
    assert obligation.filing.outcome == pb.FILING_OUTCOME_UNSPECIFIED
