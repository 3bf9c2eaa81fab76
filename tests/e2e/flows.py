"""Whole-system scenarios, written once and run on every backend combination.

Each scenario drives the public gRPC APIs of the three services as the people of domain.md would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock

from tests.harness import Stub, System, error_reason

ORG = "市城市管理综合执法局"


class People:
    def __init__(self, s: System) -> None:
        self.s = s
        self.drafter = s.stub("registry", s.token("zhang", "drafter", org=ORG))
        self.drafter_reviews = s.stub("review", s.token("zhang", "drafter", org=ORG))
        self.reviewer = s.stub("review", s.token("li", "reviewer", org="市司法局"))
        self.reviewer_as_drafter = s.stub("review", s.token("zhang", "reviewer", org="市司法局"))
        self.secretary = s.stub("registry", s.token("wang", "secretary", org="市政府办"))
        self.registrar = s.stub("registry", s.token("zhao", "registrar", org="市政府办"))
        self.public_registry = s.stub("registry")
        self.search: Stub = s.stub("search")

    @property
    def clock(self) -> FakeClock:
        clock = self.s.clock
        assert isinstance(clock, FakeClock)
        return clock

    async def settle(self) -> None:
        await self.s.pump()

    async def create(self, title: str, body: str, kind: Any = pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT) -> pb.Document:
        return await self.drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=kind, title=title, body=body, issuing_body="赤峰市人民政府", number_prefix="赤政规"
            )
        )

    async def review(self, doc: pb.Document, decision: Any, opinion: str = "") -> vpb.Review:
        await self.settle()
        reviews = await self.reviewer.ListReviews(vpb.ListReviewsRequest(state=vpb.REVIEW_STATE_OPEN))
        [task] = [r for r in reviews.reviews if r.document == doc.name]
        await self.reviewer.ClaimReview(vpb.ClaimReviewRequest(name=task.name))
        decided = await self.reviewer.DecideReview(
            vpb.DecideReviewRequest(name=task.name, decision=decision, opinion=opinion or "符合上位法规定")
        )
        await self.settle()
        return decided

    async def to_in_force(self, title: str, body: str) -> pb.Document:
        doc = await self.create(title, body)
        doc = await self.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
        await self.review(doc, vpb.REVIEW_DECISION_APPROVE)
        await self.secretary.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name,
                decision=rpb.DELIBERATION_DECISION_ADOPT,
                meeting="市政府第8次常务会议",
                meeting_date=day(str(self.clock.now().date())),
            )
        )
        doc = await self.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
        self.clock.advance(days=30)
        await self.s.apps["registry"].service.run_scheduler()
        await self.settle()
        return await self.public_registry.GetDocument(rpb.GetDocumentRequest(name=doc.name))

    async def search_names(self, query: str, **filters: Any) -> list[str]:
        reply = await self.search.SearchDocuments(spb.SearchDocumentsRequest(query=query, **filters))
        return [h.document for h in reply.hits]


async def full_lifecycle_reaches_public_search(s: System) -> None:
    p = People(s)
    body = "第一条 为了规范共享单车停放秩序，制定本办法。\n第二条 共享单车应当在划定的停放区域内停放。"
    doc = await p.create("赤峰市共享单车停放管理办法", body)
    today = p.clock.now().date()
    await p.drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14)))
    )
    await p.settle()
    open_now = await p.search.ListOpenConsultations(spb.ListOpenConsultationsRequest())
    assert [c.document for c in open_now.consultations] == [doc.name]
    await p.public_registry.CreateComment(
        rpb.CreateCommentRequest(parent=f"{doc.name}/versions/1", comment=pb.Comment(text="建议增加停放点"))
    )
    # A draft open for comment is not a rule: it is not in the search of valid rules.
    assert await p.search_names("共享单车") == []
    p.clock.advance(days=15)
    await s.apps["registry"].service.run_scheduler()
    await p.settle()
    assert (await p.search.ListOpenConsultations(spb.ListOpenConsultationsRequest())).consultations == []

    doc = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    doc = await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name, etag=doc.etag))
    await p.settle()
    # The person who drafted the version cannot decide its review, even holding the reviewer role.
    [task] = (await p.reviewer.ListReviews(vpb.ListReviewsRequest())).reviews
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await p.reviewer_as_drafter.ClaimReview(vpb.ClaimReviewRequest(name=task.name))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(err.value) == "REVIEWER_IS_DRAFTER"
    # Before the review decides, deliberation is refused with the reason.
    admin = s.stub("registry", s.token("root", "admin", org="市政府"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await admin.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day(str(today))
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    await p.review(doc, vpb.REVIEW_DECISION_APPROVE, opinion="内部审查意见：第二条表述可再斟酌")
    doc = await p.secretary.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_AWAITING_DELIBERATION
    await p.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第9次常务会议",
            meeting_date=day(str(p.clock.now().date())),
        )
    )
    promulgated = await p.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
    number = promulgated.versions[-1].promulgation.uniform_number
    await p.settle()
    # Promulgated but not yet in force: findable with its status, not in the default search.
    assert await p.search_names("共享单车") == []
    assert await p.search_names("共享单车", states=[pb.VERSION_STATE_PROMULGATED]) == [doc.name]
    p.clock.advance(days=30)
    await s.apps["registry"].service.run_scheduler()
    await p.settle()
    assert await p.search_names("共享单车") == [doc.name]
    assert await p.search_names("停放") == [doc.name]
    public = await p.search.GetPublicDocument(spb.GetPublicDocumentRequest(uniform_number=number))
    assert public.state == pb.VERSION_STATE_IN_FORCE
    assert [e.event for e in public.timeline][:2] == ["comment_opened", "comment_closed"]
    assert "promulgated" in [e.event for e in public.timeline] and "in_force" in [e.event for e in public.timeline]
    # Internal opinions never reach the public index.
    assert await p.search_names("内部审查意见") == []
    assert await p.search_names("斟酌", states=list(pb.VersionState.values())[1:]) == []


async def repeal_removes_from_default_search(s: System) -> None:
    p = People(s)
    doc = await p.to_in_force("赤峰市烟花爆竹燃放管理规定", "第一条 为了加强烟花爆竹燃放管理，制定本规定。")
    assert await p.search_names("烟花爆竹") == [doc.name]
    await p.registrar.Repeal(rpb.RepealRequest(name=doc.name, reason="上位法已修改"))
    await p.settle()
    assert await p.search_names("烟花爆竹") == []
    assert await p.search_names("烟花爆竹", states=[pb.VERSION_STATE_REPEALED]) == [doc.name]
    public = await p.search.GetPublicDocument(spb.GetPublicDocumentRequest(name=doc.name))
    assert public.state == pb.VERSION_STATE_REPEALED
    assert public.timeline[-1].event == "repealed"


async def amendment_keeps_the_old_text_findable_by_date(s: System) -> None:
    p = People(s)
    doc = await p.to_in_force("赤峰市养犬管理办法", "第一条 携犬出户应当束犬链，链长不得超过一点五米。")
    old_valid_day = str(p.clock.now().date())
    await p.drafter.StartAmendment(rpb.StartAmendmentRequest(name=doc.name))
    current = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    await p.drafter.UpdateDraft(
        rpb.UpdateDraftRequest(
            name=doc.name,
            update_mask=field_mask_pb2.FieldMask(paths=["body"]),
            body="第一条 携犬出户应当束犬链，链长不得超过二米。",
            etag=current.etag,
        )
    )
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(current, vpb.REVIEW_DECISION_APPROVE)
    await p.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第10次常务会议",
            meeting_date=day(str(p.clock.now().date())),
        )
    )
    await p.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
    p.clock.advance(days=31)
    await s.apps["registry"].service.run_scheduler()
    await p.settle()
    hits = await p.search.SearchDocuments(spb.SearchDocumentsRequest(query="束犬链"))
    assert [h.name for h in hits.hits] == [f"{doc.name}/versions/2"]
    assert await p.search_names("二米") == [doc.name]
    assert await p.search_names("一点五米") == []
    old = await p.search.SearchDocuments(spb.SearchDocumentsRequest(query="一点五米", valid_on=day(old_valid_day)))
    assert [h.name for h in old.hits] == [f"{doc.name}/versions/1"]
    assert old.hits[0].state == pb.VERSION_STATE_AMENDED


async def returned_and_rejected_reviews_flow_back(s: System) -> None:
    p = People(s)
    doc = await p.create("赤峰市户外广告设置管理办法", "第一条 为了规范户外广告设置，制定本办法。")
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(doc, vpb.REVIEW_DECISION_RETURN_FOR_REVISION, opinion="缺少法律依据")
    doc = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_DRAFTING
    # The drafting office reads the opinion on its own draft's review.
    mine = await p.drafter_reviews.ListReviews(vpb.ListReviewsRequest())
    assert [r.opinion for r in mine.reviews] == ["缺少法律依据"]
    await p.drafter.UpdateDraft(
        rpb.UpdateDraftRequest(
            name=doc.name,
            update_mask=field_mask_pb2.FieldMask(paths=["body"]),
            body="第一条 根据《中华人民共和国广告法》，制定本办法。",
            etag=doc.etag,
        )
    )
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(doc, vpb.REVIEW_DECISION_REJECT, opinion="与上位法抵触")
    doc = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_REJECTED


async def withdrawing_a_draft_cancels_its_review(s: System) -> None:
    p = People(s)
    doc = await p.create("赤峰市临时管理措施", "第一条 临时措施。")
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.settle()
    await p.drafter.Withdraw(rpb.WithdrawRequest(name=doc.name, reason="情况变化"))
    await p.settle()
    [task] = (await p.reviewer.ListReviews(vpb.ListReviewsRequest())).reviews
    assert task.state == vpb.REVIEW_STATE_CANCELLED
    doc = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert doc.state == pb.VERSION_STATE_WITHDRAWN


async def sent_back_then_in_force_until_it_expires_or_is_declared_invalid(s: System) -> None:
    p = People(s)
    doc = await p.create("赤峰市城市道路占用挖掘管理暂行办法", "第一条 为了加强城市道路占用挖掘管理，制定本办法。")
    doc = await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(doc, vpb.REVIEW_DECISION_APPROVE)
    today = str(p.clock.now().date())
    sent_back = await p.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_SEND_BACK,
            meeting="市政府第11次常务会议",
            meeting_date=day(today),
            reason="征求部门意见后再议",
        )
    )
    # Sent back for redrafting: the earlier approval no longer stands.
    mine = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert mine.state == pb.VERSION_STATE_DRAFTING and mine.versions[-1].approved_revision == 0
    assert sent_back.state == pb.VERSION_STATE_DRAFTING
    await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await p.review(doc, vpb.REVIEW_DECISION_APPROVE)
    await p.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第12次常务会议",
            meeting_date=day(today),
        )
    )
    promulgated = await p.registrar.Promulgate(
        rpb.PromulgateRequest(
            name=doc.name, effective_date=day(today), early_effect_reason="汛期施工安全急需", validity_years=2
        )
    )
    assert promulgated.state == pb.VERSION_STATE_IN_FORCE
    end = promulgated.versions[-1].promulgation.validity_end_date
    await p.settle()
    assert await p.search_names("道路占用挖掘") == [doc.name]
    # Two years later the validity period has run out: the rule expires by itself.
    p.clock.advance(days=2 * 366)
    await s.apps["registry"].service.run_scheduler()
    await p.settle()
    assert await p.search_names("道路占用挖掘") == []
    expired = await p.search.GetPublicDocument(spb.GetPublicDocumentRequest(name=doc.name))
    assert expired.state == pb.VERSION_STATE_EXPIRED and iso(expired.validity_end_date) == iso(end)

    other = await p.to_in_force("赤峰市户外电子显示屏管理规定", "第一条 为了规范户外电子显示屏管理，制定本规定。")
    await p.registrar.DeclareInvalid(rpb.DeclareInvalidRequest(name=other.name, reason="上位法废止"))
    await p.settle()
    assert await p.search_names("电子显示屏") == []
    assert await p.search_names("电子显示屏", states=[pb.VERSION_STATE_DECLARED_INVALID]) == [other.name]


SCENARIOS = [
    full_lifecycle_reaches_public_search,
    repeal_removes_from_default_search,
    amendment_keeps_the_old_text_findable_by_date,
    returned_and_rejected_reviews_flow_back,
    withdrawing_a_draft_cancels_its_review,
    sent_back_then_in_force_until_it_expires_or_is_declared_invalid,
]
