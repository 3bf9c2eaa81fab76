"""No reply outgrows what gRPC may send: writes answer with the BASIC view, a FULL document leaves
out (and marks) what does not fit, and list pages end early by bytes as well as by count."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.paging import PAGE_BYTES
from normreg_common.text import BODY_MAX

from tests.harness import System

ORG = "市城管局"


def long_body(seed: int) -> str:
    """A body at the size limit, in articles (the articles repeat the text in a FULL view)."""
    article = f"第{seed}条 " + "为了规范共享单车停放秩序，维护市容环境，制定本办法。" * 40 + "\n"
    return (article * (BODY_MAX // len(article)))[:BODY_MAX]


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock)
    await s.start()
    yield s
    await s.stop()


async def test_a_document_with_several_long_versions_is_read_and_changed_without_oversized_replies(
    system: System,
) -> None:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    versions = [
        rpb.ImportedVersion(
            title="中华人民共和国测试法",
            body=long_body(i),
            state=pb.VERSION_STATE_AMENDED if i < 4 else pb.VERSION_STATE_IN_FORCE,
            promulgation_date=day(f"{2000 + i}-01-01"),
        )
        for i in range(5)
    ]
    imported = await registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id="long-law",
            kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
            issuing_body="全国人民代表大会",
            versions=versions,
        )
    )
    # The write answers BASIC: no bodies.
    assert len(imported.versions) == 5 and all(v.body == "" for v in imported.versions)
    assert imported.ByteSize() < 64 * 1024

    full = await registrar.GetDocument(rpb.GetDocumentRequest(name=imported.name, view=rpb.DOCUMENT_VIEW_FULL))
    assert full.ByteSize() <= PAGE_BYTES
    assert full.versions[-1].body == versions[-1].body and not full.versions[-1].body_omitted
    omitted = [v for v in full.versions if v.body_omitted]
    assert omitted and all(v.body == "" for v in omitted)
    # An omitted body is one call away: GetDocument by the version's name.
    oldest = await registrar.GetDocument(rpb.GetDocumentRequest(name=omitted[0].name, view=rpb.DOCUMENT_VIEW_FULL))
    wanted = next(v for v in oldest.versions if v.name == omitted[0].name)
    assert wanted.body == versions[omitted[0].version_number - 1].body and not wanted.body_omitted

    listed = await registrar.ListDocuments(rpb.ListDocumentsRequest(view=rpb.DOCUMENT_VIEW_FULL))
    assert [d.name for d in listed.documents] == [imported.name]
    assert listed.ByteSize() <= PAGE_BYTES + 64 * 1024

    repealed = await registrar.Repeal(rpb.RepealRequest(name=imported.name, reason="测试废止"))
    assert repealed.ByteSize() < 64 * 1024


async def _long_drafts(system: System, count: int) -> list[str]:
    drafter = system.stub("registry", system.token("alice", "drafter", org=ORG))
    today = system.clock.now().date()
    names = []
    for i in range(count):
        doc = await drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                title=f"赤峰市共享单车停放管理办法{i}",
                body=long_body(i),
                issuing_body="赤峰市人民政府",
                number_prefix="赤政规",
            )
        )
        assert doc.ByteSize() < 64 * 1024
        names.append(doc.name)
        if i % 2 == 0:
            await drafter.OpenPublicComment(
                rpb.OpenPublicCommentRequest(
                    name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14))
                )
            )
        else:
            submitted = await drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
            assert submitted.ByteSize() < 64 * 1024
    await system.pump()
    return names


async def _pages(call: object, make: object) -> list[object]:
    assert callable(call) and callable(make)
    pages = []
    token = ""
    while True:
        page = await call(make(token))
        pages.append(page)
        token = page.next_page_token
        if not token:
            return pages


async def test_lists_of_long_drafts_are_paged_by_bytes_and_lose_nothing(system: System) -> None:
    names = await _long_drafts(system, 10)
    consultations = await _pages(
        system.stub("search").ListOpenConsultations,
        lambda t: spb.ListOpenConsultationsRequest(page_token=t),
    )
    assert len(consultations) > 1
    assert all(p.ByteSize() <= PAGE_BYTES + 64 * 1024 for p in consultations)  # type: ignore[attr-defined]
    seen = [c.document for p in consultations for c in p.consultations]  # type: ignore[attr-defined]
    assert sorted(seen) == sorted(names[0::2])

    reviewer = system.stub("review", system.token("rita", "reviewer", org="司法局"))
    reviews = await _pages(reviewer.ListReviews, lambda t: vpb.ListReviewsRequest(page_token=t, page_size=500))
    assert len(reviews) > 1
    assert all(p.ByteSize() <= PAGE_BYTES + 64 * 1024 for p in reviews)  # type: ignore[attr-defined]
    assert len([r for p in reviews for r in p.reviews]) == 5  # type: ignore[attr-defined]

    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    documents = await _pages(
        registrar.ListDocuments,
        lambda t: rpb.ListDocumentsRequest(page_token=t, view=rpb.DOCUMENT_VIEW_FULL, page_size=10),
    )
    assert len(documents) > 1
    assert sorted(d.name for p in documents for d in p.documents) == sorted(names)  # type: ignore[attr-defined]


async def test_a_page_of_long_comments_ends_by_bytes_and_loses_none(system: System) -> None:
    from normreg_common.text import COMMENT_MAX

    drafter = system.stub("registry", system.token("alice", "drafter", org=ORG))
    doc = await drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市养犬管理办法",
            body="第一条 为了规范养犬行为，制定本办法。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    today = system.clock.now().date()
    await drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14)))
    )
    public = system.stub("registry")
    # 280 comments and replies at their size limit: 8.4 MB, more than a reply may carry.
    long_text = "建议增加停放点" * COMMENT_MAX
    for i in range(280):
        request = rpb.CreateCommentRequest(parent=doc.name, comment=pb.Comment(text=f"{i}{long_text}"[:COMMENT_MAX]))
        comment = await public.CreateComment(request)
        reply = rpb.ReplyToCommentRequest(name=comment.name, reply=f"答复{i}{long_text}"[:COMMENT_MAX])
        await drafter.ReplyToComment(reply)
    pages = await _pages(
        drafter.ListComments, lambda t: rpb.ListCommentsRequest(name=doc.name, page_size=500, page_token=t)
    )
    assert len(pages) > 1
    assert all(p.ByteSize() <= PAGE_BYTES + 64 * 1024 for p in pages)  # type: ignore[attr-defined]
    seen = [c.name for p in pages for c in p.comments]  # type: ignore[attr-defined]
    assert len(seen) == len(set(seen)) == 280
