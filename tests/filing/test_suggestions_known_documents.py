"""A review suggestion (审查建议) asks for the review of a filed text: it is taken only for a document the
recipient reviews, promulgated and not yet out of force. For this deployment's own documents the
filing service learns their versions' states from the registry's stream; for a subordinate's, from
the promulgations and filings it has received. Anything else is refused and nothing is kept, so the
yearly counts of suggestions received count real ones only."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock
from normreg_common.deadletters import DeadLetters
from normreg_common.eventlog.port import Record
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.principal import SCHEDULER
from normreg_filing.entrypoints.own_events import GROUP, translate

from tests.e2e.flows import People
from tests.filing.support import deliver, filed, province, reviewer
from tests.harness import Stub, System, error_reason, one_version
from tests.registry.test_domain_lifecycle import PROFILE, REGISTRAR, at

__all__ = ["province"]

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[System]:
    system = System(tmp_path, FakeClock(T0), services=("registry", "review", "search", "filing"))
    await system.start()
    yield system
    await system.stop()


def suggestion(document: str, sender: str = "") -> fpb.SubmitReviewSuggestionRequest:
    return fpb.SubmitReviewSuggestionRequest(
        review_suggestion=fpb.ReviewSuggestion(
            document=document, sender=sender, reasons="与上位法抵触", contact="13800000000", provisions=["第一条"]
        )
    )


async def refused(stub: Stub, request: fpb.SubmitReviewSuggestionRequest) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitReviewSuggestion(request)
    return caught.value


async def kept(system: System) -> list[str]:
    listed = await reviewer(system).ListReviewSuggestions(fpb.ListReviewSuggestionsRequest(page_size=100))
    return [s.document for s in listed.review_suggestions]


async def test_a_suggestion_on_a_draft_is_not_found_and_nothing_is_kept(city: System) -> None:
    p = People(city)
    draft = await p.create("赤峰市养犬管理办法（草案）", "第一条 为了规范养犬行为，制定本办法。")
    await p.settle()
    error = await refused(city.stub("filing"), suggestion(draft.name))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "draft" in (error.details() or "")
    error = await refused(city.stub("filing"), suggestion(f"{draft.name}/versions/1"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert await kept(city) == []


async def test_a_suggestion_on_a_text_in_force_is_taken_and_on_a_repealed_one_refused_by_rule(city: System) -> None:
    p = People(city)
    doc = await p.to_in_force("赤峰市烟花爆竹燃放管理规定", "第一条 为了加强烟花爆竹燃放管理，制定本规定。")
    await p.settle()
    public = city.stub("filing")
    await public.SubmitReviewSuggestion(suggestion(doc.name))
    await public.SubmitReviewSuggestion(suggestion(f"{doc.name}/versions/1"))
    # A version the document does not have.
    error = await refused(public, suggestion(f"{doc.name}/versions/2"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no version 2 of it" in (error.details() or "")

    await p.registrar.Repeal(rpb.RepealRequest(name=doc.name, reason="上位法已修改"))
    await p.settle()
    error = await refused(public, suggestion(doc.name))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(error) == "SUGGESTION_ON_TEXT_NOT_IN_FORCE"
    assert "no longer in force" in (error.details() or "")
    assert await kept(city) == [doc.name, f"{doc.name}/versions/1"]


async def test_an_imported_text_is_judged_by_the_state_it_was_imported_in(city: System) -> None:
    p = People(city)
    in_force = await p.registrar.ImportDocument(
        one_version(
            "i1",
            pb.DOCUMENT_KIND_GOVERNMENT_RULE,
            "赤峰市人民政府",
            "赤峰市城市绿化管理办法",
            pb.VERSION_STATE_IN_FORCE,
            "2020-01-01",
        )
    )
    repealed = await p.registrar.ImportDocument(
        one_version(
            "i2",
            pb.DOCUMENT_KIND_GOVERNMENT_RULE,
            "赤峰市人民政府",
            "赤峰市集贸市场管理办法",
            pb.VERSION_STATE_REPEALED,
            "2010-01-01",
        )
    )
    await p.settle()
    public = city.stub("filing")
    await public.SubmitReviewSuggestion(suggestion(in_force.name))
    error = await refused(public, suggestion(repealed.name))
    assert error_reason(error) == "SUGGESTION_ON_TEXT_NOT_IN_FORCE"
    assert await kept(city) == [in_force.name]


@pytest.mark.parametrize("kind", [pb.DOCUMENT_KIND_NATIONAL_LAW, pb.DOCUMENT_KIND_ADMINISTRATIVE_REGULATION])
async def test_a_national_law_or_administrative_regulation_is_not_reviewed_here(
    city: System, kind: pb.DocumentKind.ValueType
) -> None:
    p = People(city)
    law = await p.registrar.ImportDocument(
        one_version(
            "law", kind, "全国人民代表大会常务委员会", "中华人民共和国测试法", pb.VERSION_STATE_IN_FORCE, "2020-01-01"
        )
    )
    await p.settle()
    error = await refused(city.stub("filing"), suggestion(law.name))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(error) == "SUGGESTION_NOT_REVIEWED_HERE"
    assert "NPC Standing Committee" in (error.details() or "")
    assert await kept(city) == []


async def test_an_unreadable_state_event_is_set_aside_and_the_stream_goes_on(city: System) -> None:
    p = People(city)
    forged = CloudEvent(
        source="normreg.registry",
        type="normreg.registry.v1.promulgated",
        subject="documents/forged",
        time=T0,
        sequence=1,
        dataschema="type.googleapis.com/normreg.events.v1.DocumentPromulgated",
        data={"change": {"version_number": 0, "to_state": "PROMULGATED"}},
    )
    with pytest.raises(ValueError):
        translate(forged.to_bytes())
    await city.event_log.publish([Record(DOCUMENTS_TOPIC, "documents/forged", forged.to_bytes())])
    doc = await p.to_in_force("赤峰市户外广告设置管理办法", "第一条 为了规范户外广告设置，制定本办法。")
    await p.settle()
    letters = await DeadLetters(city.apps["filing"].db, GROUP).list(10)
    assert [letter.key for letter in letters] == ["documents/forged"]
    await city.stub("filing").SubmitReviewSuggestion(suggestion(doc.name))
    error = await refused(city.stub("filing"), suggestion("documents/forged"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_a_subordinates_document_is_taken_only_when_filed_or_owed_here(province: System) -> None:
    await deliver(province, filed("rule1"))
    public = province.stub("filing")
    await public.SubmitReviewSuggestion(suggestion("documents/rule1", sender="chifeng"))
    for name in ("documents/invented", "documents/rule1/versions/9", "documents/rule"):
        error = await refused(public, suggestion(name, sender="chifeng"))
        assert error.code() == grpc.StatusCode.NOT_FOUND, name
        assert "chifeng has filed no such document" in (error.details() or "")
    report = await reviewer(province).GetSubordinateFilingReport(
        fpb.GetSubordinateFilingReportRequest(sender="chifeng", year=T0.year)
    )
    assert [r.suggestions_received_count for r in report.reports] == [1]
    assert await kept(province) == ["documents/rule1"]


async def test_a_subordinates_text_repealed_since_it_was_filed_is_refused_by_rule(province: System) -> None:
    """The subordinate's stream says when a version enters force and leaves it (signed, as its
    promulgations and filings are): a repealed text is not reviewed any more."""
    doc = filed("rule2")
    await deliver(province, doc)
    public = province.stub("filing")
    await public.SubmitReviewSuggestion(suggestion("documents/rule2", sender="chifeng"))
    doc.run_clock(SCHEDULER, at(40), PROFILE)
    doc.repeal(REGISTRAR, at(41), "上位法已废止", today=at(41).date())
    await deliver(province, doc)
    for name in ("documents/rule2", "documents/rule2/versions/1"):
        error = await refused(public, suggestion(name, sender="chifeng"))
        assert error_reason(error) == "SUGGESTION_ON_TEXT_NOT_IN_FORCE", name
    assert await kept(province) == ["documents/rule2"]
