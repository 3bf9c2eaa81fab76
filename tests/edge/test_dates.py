"""Dates are bounded (1949-10-01..2200-12-31) wherever they enter: a date outside is INVALID_ARGUMENT
naming the field, so no date arithmetic downstream can overflow and no window can be endless."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common.dates import DATE_MAX, DATE_MIN

from tests.harness import System, field_violations

OUTSIDE = ["9999-12-31", "9999-12-30", "2201-01-01", "1949-09-30", "0001-01-01"]


async def _draft(s: System) -> str:
    drafter = s.stub("registry", s.token("alice", "drafter", org="市城管局"))
    doc = await drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市共享单车停放管理办法",
            body="第一条 为了规范管理，制定本办法。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    return str(doc.name)


async def _refused(call: object, field: str) -> None:
    assert callable(call)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value
    assert field_violations(caught.value) == [field]


@pytest.mark.parametrize("outside", OUTSIDE)
async def test_a_comment_window_cannot_end_outside_the_accepted_dates(system: System, outside: str) -> None:
    name = await _draft(system)
    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))

    async def call() -> object:
        return await drafter.OpenPublicComment(
            rpb.OpenPublicCommentRequest(name=name, start_date=day("2026-03-02"), end_date=day(outside))
        )

    await _refused(call, "end_date")
    doc = await drafter.GetDocument(rpb.GetDocumentRequest(name=name))
    assert doc.state == pb.VERSION_STATE_DRAFTING


@pytest.mark.parametrize("outside", OUTSIDE)
async def test_a_promulgation_cannot_take_effect_outside_the_accepted_dates(system: System, outside: str) -> None:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))

    async def call() -> object:
        return await registrar.Promulgate(rpb.PromulgateRequest(name=await _draft(system), effective_date=day(outside)))

    await _refused(call, "effective_date")


@pytest.mark.parametrize("field", ["promulgation_date", "effective_date", "validity_end_date"])
@pytest.mark.parametrize("outside", ["9999-12-31", "1900-01-01"])
async def test_an_import_cannot_carry_a_date_outside_the_accepted_dates(
    system: System, field: str, outside: str
) -> None:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    version = rpb.ImportedVersion(
        title="中华人民共和国测试法",
        body="第一条 为了测试，制定本法。",
        state=pb.VERSION_STATE_IN_FORCE,
        promulgation_date=day("2020-01-01"),
        effective_date=day("2020-03-01"),
    )
    getattr(version, field).CopyFrom(day(outside))

    async def call() -> object:
        return await registrar.ImportDocument(
            rpb.ImportDocumentRequest(
                request_id="law-1",
                kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
                issuing_body="全国人民代表大会常务委员会",
                versions=[version],
            )
        )

    await _refused(call, f"versions.0.{field}")
    listed = await registrar.ListDocuments(rpb.ListDocumentsRequest())
    assert list(listed.documents) == []


async def test_the_bounds_themselves_are_accepted(system: System) -> None:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    doc = await registrar.ImportDocument(
        rpb.ImportDocumentRequest(
            request_id="law-2",
            kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
            issuing_body="全国人民代表大会常务委员会",
            versions=[
                rpb.ImportedVersion(
                    title="中华人民共和国测试法",
                    body="第一条 为了测试，制定本法。",
                    state=pb.VERSION_STATE_IN_FORCE,
                    promulgation_date=day(DATE_MIN),
                    effective_date=day(DATE_MIN),
                    validity_end_date=day(DATE_MAX),
                )
            ],
        )
    )
    assert iso(doc.versions[0].promulgation.validity_end_date) == DATE_MAX.isoformat()


def test_the_domain_refuses_an_import_date_outside_the_bounds_whoever_calls_it() -> None:
    from normreg_common.errors import InvalidArgument
    from normreg_common.principal import Principal, Role
    from normreg_registry.domain.lifecycle import Kind, State
    from normreg_registry.domain.model import Document, ImportedVersion

    registrar = Principal("reg", frozenset({Role.REGISTRAR}), "政府办")
    with pytest.raises(InvalidArgument) as refused:
        Document.imported(
            id="x",
            kind=Kind.NATIONAL_LAW,
            issuing_body="全国人民代表大会",
            versions=[
                ImportedVersion(
                    title="中华人民共和国测试法",
                    body="第一条 测试。",
                    state=State.IN_FORCE,
                    promulgation_date=dt.date(2000, 1, 1),
                    validity_end=dt.date(9999, 12, 31),
                )
            ],
            principal=registrar,
            at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        )
    assert refused.value.field == "versions[0].validity_end_date"
