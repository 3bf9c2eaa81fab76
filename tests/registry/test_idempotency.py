"""Idempotency is keyed by (caller, method, request_id) with a hash of the request, and authorised
first: a replay gives nobody what the request itself would not, another caller's id is another
request, and a reused id with a different body is a clear error that changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.type import date_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common import idempotency
from normreg_common.clock import FakeClock
from normreg_registry.domain.articles import Article
from normreg_registry.domain.imports import ImportedVersion
from normreg_registry.domain.lifecycle import State
from normreg_registry.domain.numbers import UniformNumber
from normreg_registry.domain.versions import TimelineEntry

from tests.e2e.flows import ORG, People
from tests.harness import System, error_reason


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "review", "search"))
    await s.start()
    yield s
    await s.stop()


def _create(title: str = "赤峰市共享单车停放管理办法", request_id: str = "req-1") -> rpb.CreateDocumentRequest:
    return rpb.CreateDocumentRequest(
        request_id=request_id,
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title=title,
        body="第一条 为了规范管理，制定本办法。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )


def _import(title: str = "中华人民共和国测试法") -> rpb.ImportDocumentRequest:
    return rpb.ImportDocumentRequest(
        request_id="law-1",
        kind=pb.DOCUMENT_KIND_NATIONAL_LAW,
        issuing_body="全国人民代表大会常务委员会",
        versions=[
            rpb.ImportedVersion(
                title=title,
                body="第一条 为了测试，制定本法。",
                state=pb.VERSION_STATE_IN_FORCE,
                promulgation_date=date_pb2.Date(year=2020, month=1, day=1),
            )
        ],
    )


async def _code(call: object) -> tuple[grpc.StatusCode, str]:
    assert hasattr(call, "__await__")
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code(), error_reason(error)
    return grpc.StatusCode.OK, ""


async def test_a_retried_request_gets_the_first_result(system: System) -> None:
    drafter = system.stub("registry", system.token("zhang", "drafter", org=ORG))
    first = await drafter.CreateDocument(_create())
    again = await drafter.CreateDocument(_create())
    assert again.name == first.name
    listed = await drafter.ListDocuments(rpb.ListDocumentsRequest())
    assert [d.name for d in listed.documents] == [first.name]


async def test_a_reused_request_id_with_a_different_body_is_refused_and_changes_nothing(system: System) -> None:
    drafter = system.stub("registry", system.token("zhang", "drafter", org=ORG))
    first = await drafter.CreateDocument(_create())
    code, reason = await _code(drafter.CreateDocument(_create(title="赤峰市另一个办法")))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    listed = await drafter.ListDocuments(rpb.ListDocumentsRequest())
    assert [(d.name, d.title) for d in listed.documents] == [(first.name, "赤峰市共享单车停放管理办法")]
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    await registrar.ImportDocument(_import())
    code, reason = await _code(registrar.ImportDocument(_import(title="中华人民共和国另一部法")))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")


async def test_the_same_subject_in_another_organisation_is_another_caller(system: System) -> None:
    here = system.stub("registry", system.token("zhang", "drafter", org=ORG))
    there = system.stub("registry", system.token("zhang", "drafter", org="市教育局"))
    mine = await here.CreateDocument(_create())
    theirs = await there.CreateDocument(_create())
    assert theirs.name != mine.name
    assert theirs.drafting_org == "市教育局"


async def test_a_replay_is_authorised_like_the_request_itself(system: System) -> None:
    registrar = system.stub("registry", system.token("zhao", "registrar", org="市政府办"))
    await registrar.ImportDocument(_import())
    public = system.stub("registry")
    assert (await _code(public.ImportDocument(_import())))[0] == grpc.StatusCode.PERMISSION_DENIED
    drafter = system.stub("registry", system.token("zhang", "drafter", org=ORG))
    assert (await _code(drafter.ImportDocument(_import())))[0] == grpc.StatusCode.PERMISSION_DENIED

    p = People(system)
    doc = await p.to_in_force("赤峰市城市绿化管理办法", "第一条 为了加强城市绿化管理，制定本办法。")
    await p.drafter.StartAmendment(rpb.StartAmendmentRequest(name=doc.name, request_id="amend-1"))
    replay = rpb.StartAmendmentRequest(name=doc.name, request_id="amend-1")
    assert (await _code(public.StartAmendment(replay)))[0] in {
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
    }
    other = system.stub("registry", system.token("li", "drafter", org="市教育局"))
    assert (await _code(other.StartAmendment(replay)))[0] in {
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
    }
    again = await p.drafter.StartAmendment(replay)
    assert again.name == doc.name


DATES = st.dates(min_value=dt.date(1949, 10, 1), max_value=dt.date(2200, 12, 31))


@settings(max_examples=200, deadline=None)
@given(
    versions=st.lists(
        st.builds(
            ImportedVersion,
            title=st.text(max_size=5),
            body=st.text(max_size=5),
            state=st.sampled_from(list(State)),
            promulgation_date=DATES,
            effective_date=st.none() | DATES,
            validity_end=st.none() | DATES,
            number=st.none() | st.builds(UniformNumber, st.just("赤政规"), st.integers(1990, 2100), st.integers(1, 99)),
            articles=st.none() | st.lists(st.builds(Article, st.text(max_size=3), st.text(max_size=3))).map(tuple),
            public_acts=st.lists(
                st.builds(TimelineEntry, DATES, st.text(max_size=3), st.text(max_size=3), st.text(max_size=3))
            ).map(tuple),
        ),
        max_size=3,
    )
)
def test_an_import_request_hashes_as_it_did_when_versions_were_copied_by_asdict(
    versions: list[ImportedVersion],
) -> None:
    # A retry of an import remembered before must still be recognised as the same request.
    assert idempotency.request_hash(
        kind="NATIONAL_LAW", versions=[idempotency.fields_of(v) for v in versions]
    ) == idempotency.request_hash(kind="NATIONAL_LAW", versions=[dataclasses.asdict(v) for v in versions])
