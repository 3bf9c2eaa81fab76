"""Who may do what: every registry RPC × every role × own/other organisation, through gRPC.

The expected table is written out by hand from domain.md's roles, independently of the code:
OK = allowed, NF = NOT_FOUND (the caller may not even know the document exists),
PD = PERMISSION_DENIED (the caller sees it but may not act).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock

from tests.harness import Stub, System, field_violations
from tests.registry.test_grpc_registry import decide

pytestmark = pytest.mark.asyncio

ORG = "市司法局"
ROLES = ["own_drafter", "other_drafter", "public", "reviewer", "secretary", "registrar", "evaluator", "admin"]
OK, NF, PD = "OK", grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED


def row(*codes: Any) -> dict[str, Any]:
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes, strict=True))


#                   own   other public reviewer secretary registrar evaluator admin
DRAFTING_ONLY = row(OK, NF, NF, NF, NF, PD, NF, OK)
REGISTRAR_ONLY_PUBLIC = row(PD, PD, PD, PD, PD, OK, PD, OK)

MATRIX: dict[str, tuple[str, dict[str, Any]]] = {
    # rpc: (state the document is in, expected outcome per caller)
    "GetDocument": ("draft", row(OK, NF, NF, NF, NF, OK, NF, OK)),
    "UpdateDraft": ("draft", DRAFTING_ONLY),
    "OpenPublicComment": ("draft", DRAFTING_ONLY),
    "SubmitForReview": ("draft", DRAFTING_ONLY),
    "Withdraw": ("draft", DRAFTING_ONLY),
    "RecordProcedure": ("draft", DRAFTING_ONLY),
    "GetDocumentUnderReview": ("review", row(OK, NF, NF, OK, NF, OK, NF, OK)),
    "RecordDeliberation": ("awaiting", row(PD, NF, NF, PD, OK, PD, NF, OK)),
    "Promulgate": ("adopted", row(PD, NF, NF, PD, PD, OK, NF, OK)),
    "Repeal": ("in_force", REGISTRAR_ONLY_PUBLIC),
    "DeclareInvalid": ("in_force", REGISTRAR_ONLY_PUBLIC),
    "RecordFiling": ("promulgated", REGISTRAR_ONLY_PUBLIC),
    "CreateCleanupCampaign": ("in_force", REGISTRAR_ONLY_PUBLIC),
    "StartAmendment": ("in_force", row(OK, PD, PD, PD, PD, PD, PD, OK)),
    "RecordEvaluation": ("in_force", row(PD, PD, PD, PD, PD, PD, OK, OK)),
    "GetHistory": ("in_force", row(OK, PD, PD, OK, OK, OK, OK, OK)),
    "GetHistoryOfDraft": ("draft", row(OK, NF, NF, NF, NF, OK, NF, OK)),
    "SubmitComment": ("comment", row(OK, OK, OK, OK, OK, OK, OK, OK)),
    "CreateComment": ("comment", row(OK, OK, OK, OK, OK, OK, OK, OK)),
    "ListComments": ("comment", row(OK, PD, PD, OK, OK, OK, PD, OK)),
    "ClosePublicComment": ("comment_ended", row(OK, PD, PD, PD, PD, PD, PD, OK)),
    "GetFilingReport": ("none", REGISTRAR_ONLY_PUBLIC),
    "ListDueFilings": ("none", REGISTRAR_ONLY_PUBLIC),
    "VerifyHistory": ("none", REGISTRAR_ONLY_PUBLIC),
    "ImportDocument": ("none", REGISTRAR_ONLY_PUBLIC),
    "ImportDocuments": ("none", REGISTRAR_ONLY_PUBLIC),
    "CreateDocument": ("none", row(OK, OK, PD, PD, PD, PD, PD, OK)),
}


def callers(s: System) -> dict[str, Stub]:
    return {
        "own_drafter": s.stub("registry", s.token("alice", "drafter", org=ORG)),
        "other_drafter": s.stub("registry", s.token("bob", "drafter", org="市教育局")),
        "public": s.stub("registry"),
        "reviewer": s.stub("registry", s.token("rita", "reviewer", org="司法局")),
        "secretary": s.stub("registry", s.token("sam", "secretary", org="政府办")),
        "registrar": s.stub("registry", s.token("reg", "registrar", org="政府办")),
        "evaluator": s.stub("registry", s.token("eve", "evaluator", org="某大学")),
        "admin": s.stub("registry", s.token("root", "admin", org="市政府")),
    }


async def document_in(s: System, state: str, n: int) -> str:
    """A fresh document in the given state; returns its name."""
    c = callers(s)
    admin = c["admin"]
    if state == "none":
        return ""
    doc = await c["own_drafter"].CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title=f"测试文件{n}",
            body="第一条 测试。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    today = s.clock.now().date()
    if state == "draft":
        return doc.name
    if state in ("comment", "comment_ended"):
        await admin.OpenPublicComment(
            rpb.OpenPublicCommentRequest(
                name=doc.name, start_date=day(str(today)), end_date=day(str(today + dt.timedelta(days=14)))
            )
        )
        return doc.name
    doc = await admin.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    if state == "review":
        return doc.name
    await decide(s, doc, "APPROVE")
    if state == "awaiting":
        return doc.name
    await admin.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day(str(today))
        )
    )
    if state == "adopted":
        return doc.name
    early = "today" if state == "in_force" else ""
    await admin.Promulgate(
        rpb.PromulgateRequest(
            name=doc.name,
            number_sequence=n,
            effective_date=day(str(today)) if early else None,
            early_effect_reason="立即施行的理由" if early else "",
        )
    )
    return doc.name


def request_for(rpc: str, name: str, n: int) -> tuple[str, Any]:
    mask = field_mask_pb2.FieldMask(paths=["title"])
    today = "2026-03-02"
    match rpc:
        case "GetDocument" | "GetDocumentUnderReview":
            return "GetDocument", rpb.GetDocumentRequest(name=name)
        case "UpdateDraft":
            return rpc, rpb.UpdateDraftRequest(name=name, update_mask=mask, title="新标题", etag="s1")
        case "OpenPublicComment":
            return rpc, rpb.OpenPublicCommentRequest(name=name, start_date=day(today), end_date=day("2026-03-20"))
        case "SubmitForReview":
            return rpc, rpb.SubmitForReviewRequest(name=name)
        case "Withdraw":
            return rpc, rpb.WithdrawRequest(name=name, reason="撤回")
        case "RecordProcedure":
            return rpc, rpb.RecordProcedureRequest(
                name=name, procedure=pb.PROCEDURE_RISK_ASSESSMENT, summary="风险评估"
            )
        case "RecordDeliberation":
            return rpc, rpb.RecordDeliberationRequest(
                name=name, decision=rpb.DELIBERATION_DECISION_ADOPT, meeting="m", meeting_date=day(today)
            )
        case "Promulgate":
            return rpc, rpb.PromulgateRequest(name=name, number_sequence=100 + n)
        case "Repeal":
            return rpc, rpb.RepealRequest(name=name, reason="废止")
        case "DeclareInvalid":
            return rpc, rpb.DeclareInvalidRequest(name=name, reason="失效")
        case "RecordFiling":
            return rpc, rpb.RecordFilingRequest(name=name, filed_date=day(today), recipient="自治区政府")
        case "CreateCleanupCampaign":
            return rpc, rpb.CreateCleanupCampaignRequest(title="清理", documents=[name])
        case "StartAmendment":
            return rpc, rpb.StartAmendmentRequest(name=name)
        case "RecordEvaluation":
            return rpc, rpb.RecordEvaluationRequest(
                name=name,
                evaluator="某大学",
                method="问卷",
                findings="良好",
                conclusion=pb.EVALUATION_CONCLUSION_CONTINUE,
            )
        case "GetHistory" | "GetHistoryOfDraft":
            return "GetHistory", rpb.GetHistoryRequest(name=name)
        case "SubmitComment":
            return rpc, rpb.SubmitCommentRequest(name=name, text="意见")
        case "CreateComment":
            return rpc, rpb.CreateCommentRequest(parent=f"{name}/versions/1", comment=pb.Comment(text="意见"))
        case "ListComments":
            return rpc, rpb.ListCommentsRequest(name=name)
        case "ClosePublicComment":
            return rpc, rpb.ClosePublicCommentRequest(name=name)
        case "GetFilingReport":
            return rpc, rpb.GetFilingReportRequest()
        case "ListDueFilings":
            return rpc, rpb.ListDueFilingsRequest()
        case "VerifyHistory":
            return rpc, rpb.VerifyHistoryRequest()
        case "ImportDocument":
            return rpc, rpb.ImportDocumentRequest(
                request_id=f"import-{n}",
                kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
                issuing_body="全国人民代表大会常务委员会",
                versions=[
                    rpb.ImportedVersion(
                        title="中华人民共和国测试法",
                        body="第一条 测试。",
                        state=pb.VERSION_STATE_IN_FORCE,
                        promulgation_date=day("2020-01-01"),
                    )
                ],
            )
        case "ImportDocuments":
            _, single = request_for("ImportDocument", name, n)
            return rpc, rpb.ImportDocumentsRequest(documents=[single])
        case "CreateDocument":
            return rpc, rpb.CreateDocumentRequest(
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, title="新文件", body="", issuing_body="赤峰市人民政府"
            )
    raise AssertionError(rpc)


async def outcome(call: Callable[[Any], Awaitable[Any]], request: Any) -> Any:
    try:
        await call(request)
    except grpc.aio.AioRpcError as err:
        return err.code()
    return OK


@pytest.mark.parametrize("rpc", sorted(MATRIX))
async def test_authorization_matrix(system: System, clock: FakeClock, rpc: str) -> None:
    state, expected = MATRIX[rpc]
    actual: dict[str, Any] = {}
    for n, role in enumerate(ROLES, start=1):
        name = await document_in(system, state, n)
        if state == "comment_ended":
            clock.advance(days=15)
        method, request = request_for(rpc, name, n)
        actual[role] = await outcome(getattr(callers(system)[role], method), request)
    assert actual == expected


async def test_list_documents_shows_each_caller_only_what_it_may_see(system: System) -> None:
    draft = await document_in(system, "draft", 1)
    in_force = await document_in(system, "in_force", 2)
    c = callers(system)

    async def names(role: str) -> set[str]:
        return {d.name for d in (await c[role].ListDocuments(rpb.ListDocumentsRequest())).documents}

    assert await names("own_drafter") == {draft, in_force}
    assert await names("other_drafter") == {in_force}
    assert await names("public") == {in_force}
    assert await names("registrar") == {draft, in_force}


@pytest.mark.parametrize("field", ["state", "kind"])
async def test_list_documents_refuses_a_filter_the_api_does_not_define(system: System, field: str) -> None:
    """An unknown state or kind was taken as no filter at all, so a typo listed everything."""
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await callers(system)["registrar"].ListDocuments(rpb.ListDocumentsRequest(**{field: 99}))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(refused.value) == [field]


async def test_a_document_repealed_before_it_was_filed_is_still_listed_due_and_can_be_filed(system: System) -> None:
    """It was refused (FILING_AFTER_REPEAL) and left the list of filings due, while both reports
    counted it required and the recipient listed it as 漏报."""
    name = await document_in(system, "in_force", 1)
    registrar = callers(system)["registrar"]
    await registrar.Repeal(rpb.RepealRequest(name=name, reason="情况变化"))
    due = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
    assert {f.document.rsplit("/versions/", 1)[0] for f in due.filings} == {name}
    today = system.clock.now().date()
    for recipient in {f.recipient for f in due.filings}:
        await registrar.RecordFiling(
            rpb.RecordFilingRequest(
                name=name, recipient=recipient, filed_date=day(str(today)), materials=pb.FilingMaterials(text=True)
            )
        )
    assert list((await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))).filings) == []
