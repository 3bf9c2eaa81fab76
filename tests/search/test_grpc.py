"""SearchService through a real gRPC server on 127.0.0.1:0, fed by registry-shaped events."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from google.type import date_pb2
from grpc_status import rpc_status
from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_search.bootstrap import SearchApp

from tests.conftest import SHANGHAI
from tests.search.conftest import publish
from tests.search.helpers import comment_event, lifecycle, registry_event

TIMEOUT = 10.0

LAWS = [
    registry_event(
        f"law{i}",
        1,
        1,
        "IN_FORCE",
        kind="NORMATIVE_DOCUMENT" if i % 2 else "GOVERNMENT_RULE",
        title=f"赤峰市第{i}号备案管理办法",
        body=f"第一条 为了规范第{i}号事项，制定本办法。\n第三十条 本办法的备案审查由司法局负责。",
        uniform_number=f"赤政规〔2023〕{i + 1}号",
        promulgation_date=f"2023-0{1 + i % 9}-15",
    )
    for i in range(25)
]
CONSULTATION = registry_event(
    "dogs",
    1,
    2,
    "PUBLIC_COMMENT",
    title="赤峰市养犬管理条例（征求意见稿）",
    body="第一条 为了规范养犬行为，制定本条例。",
    comment_window=("2026-03-01", "2026-03-31"),
)


@pytest.fixture
async def stub(app: SearchApp, event_log: SqliteEventLog) -> AsyncIterator[sgrpc.SearchServiceStub]:
    await publish(event_log, [*lifecycle("rule1"), *LAWS, CONSULTATION])
    await app.sync()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield sgrpc.SearchServiceStub(channel)


def rich(error: grpc.aio.AioRpcError) -> tuple[str, list[str]]:
    """(ErrorInfo reason, BadRequest fields) of a google.rpc.Status error."""
    status = rpc_status.from_call(error)
    assert status is not None, error
    reason, fields = "", []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields += [v.field for v in bad.field_violations]
    return reason, fields


async def search(stub: sgrpc.SearchServiceStub, **fields: object) -> spb.SearchDocumentsResponse:
    return await stub.SearchDocuments(spb.SearchDocumentsRequest(**fields), timeout=TIMEOUT)  # type: ignore[arg-type]


# ---- SearchDocuments -------------------------------------------------------------------------------


async def test_search_needs_no_token_and_names_the_matching_article(stub: sgrpc.SearchServiceStub) -> None:
    response = await search(stub, query="第7号事项")
    # Partial matches follow (the query need not match every term); the one holding all comes first.
    assert response.hits[0].name == "documents/law7/versions/1"
    hit = response.hits[0]
    assert (hit.title, hit.state, hit.kind) == (
        "赤峰市第7号备案管理办法",
        pb.VERSION_STATE_IN_FORCE,
        pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
    )
    assert (hit.uniform_number, iso(hit.promulgation_date)) == ("赤政规〔2023〕8号", "2023-08-15")
    assert [(s.field, s.text) for s in hit.snippets] == [
        ("title", "赤峰市<em>第7</em>号备案管理办法"),
        ("第一条", "为了规范<em>第7号事项</em>，制定本办法。"),
    ]


async def test_an_article_can_be_found_by_its_number(stub: sgrpc.SearchServiceStub) -> None:
    response = await search(stub, query="第三十条 备案审查", page_size=1)
    assert response.total == 25
    assert response.hits[0].snippets[-1].field == "第三十条"
    assert "<em>备案审查</em>" in response.hits[0].snippets[-1].text


async def test_pages_follow_their_tokens_to_the_end(stub: sgrpc.SearchServiceStub) -> None:
    seen: list[str] = []
    token = ""
    for _ in range(5):
        response = await search(stub, query="备案", page_size=10, page_token=token)
        assert response.total == 25
        seen += [h.name for h in response.hits]
        token = response.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 25


async def test_a_page_token_only_works_for_its_own_query(stub: sgrpc.SearchServiceStub) -> None:
    first = await search(stub, query="备案", page_size=10)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await search(stub, query="法治", page_size=10, page_token=first.next_page_token)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert rich(caught.value) == ("INVALID_ARGUMENT", ["page_token"])


async def test_page_size_defaults_to_20_and_is_capped_at_100(stub: sgrpc.SearchServiceStub) -> None:
    assert len((await search(stub, query="备案")).hits) == 20
    assert len((await search(stub, query="备案", page_size=1000)).hits) == 25


async def test_facets_count_states_kinds_bodies_and_years(stub: sgrpc.SearchServiceStub) -> None:
    response = await search(stub, kinds=[pb.DOCUMENT_KIND_GOVERNMENT_RULE])
    facets = response.facets
    assert response.total == 13
    assert {f.value: f.count for f in facets.kinds} == {
        "DOCUMENT_KIND_GOVERNMENT_RULE": 13,
        "DOCUMENT_KIND_NORMATIVE_DOCUMENT": 12,
    }
    assert {f.value: f.count for f in facets.states} == {
        "VERSION_STATE_IN_FORCE": 13,
        "VERSION_STATE_AMENDED": 1,
        "VERSION_STATE_REPEALED": 1,
    }
    assert {f.value: f.count for f in facets.issuing_bodies} == {"赤峰市人民政府": 13}
    assert {f.value: f.count for f in facets.years} == {"2023": 13}


async def test_valid_on_and_states_reach_older_versions(stub: sgrpc.SearchServiceStub) -> None:
    old = await search(stub, query="旧条款", valid_on=day("2024-06-01"))
    assert [h.name for h in old.hits] == ["documents/rule1/versions/1"]
    assert (await search(stub, query="旧条款")).total == 0
    amended = await search(stub, query="旧条款", states=[pb.VERSION_STATE_AMENDED])
    assert [h.state for h in amended.hits] == [pb.VERSION_STATE_AMENDED]


async def test_states_that_are_never_public_match_nothing(stub: sgrpc.SearchServiceStub) -> None:
    drafts = await search(stub, query="养犬", states=[pb.VERSION_STATE_DRAFTING, pb.VERSION_STATE_PUBLIC_COMMENT])
    assert (drafts.total, list(drafts.hits)) == (0, [])
    everything = await search(stub, query="法治政府", states=list(pb.VersionState.values())[1:])
    assert {h.state for h in everything.hits} == {pb.VERSION_STATE_AMENDED, pb.VERSION_STATE_REPEALED}


async def test_results_can_be_filtered_and_sorted(stub: sgrpc.SearchServiceStub) -> None:
    response = await search(
        stub,
        promulgation_date=spb.DateRange(from_date=day("2023-09-01"), to_date=day("2023-09-30")),
        sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC,
    )
    assert [h.name for h in response.hits] == [
        "documents/law17/versions/1",
        "documents/law8/versions/1",
    ]
    by_number = await search(stub, uniform_number="赤政规〔2023〕3号")
    assert [h.name for h in by_number.hits] == ["documents/law2/versions/1"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"states": [pb.VERSION_STATE_UNSPECIFIED]}, "states[0]"),
        ({"states": [pb.VERSION_STATE_IN_FORCE, 99]}, "states[1]"),
        ({"kinds": [pb.DOCUMENT_KIND_UNSPECIFIED]}, "kinds[0]"),
        ({"valid_on": date_pb2.Date(year=2026, month=13, day=1)}, "valid_on"),
        (
            {"promulgation_date": spb.DateRange(from_date=day("2024-01-02"), to_date=day("2024-01-01"))},
            "promulgation_date",
        ),
        ({"query": "x" * 201}, "query"),
        ({"query": "备案\x00"}, "query"),
        ({"page_size": -1}, "page_size"),
        ({"page_token": "garbage"}, "page_token"),
        ({"sort": 99}, "sort"),
    ],
)
async def test_invalid_requests_name_the_field(
    stub: sgrpc.SearchServiceStub, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await search(stub, **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, violations = rich(caught.value)
    assert reason == "INVALID_ARGUMENT"
    assert violations[0].startswith(field)


# ---- GetPublicDocument ------------------------------------------------------------------------------


async def get(stub: sgrpc.SearchServiceStub, **fields: Any) -> spb.PublicDocument:
    return await stub.GetPublicDocument(spb.GetPublicDocumentRequest(**fields), timeout=TIMEOUT)


async def test_a_document_resolves_to_the_version_valid_today(stub: sgrpc.SearchServiceStub, clock: FakeClock) -> None:
    # rule1: version 1 in force 2024-02-10 .. 2025-06-01, version 2 from then until repealed 2026-02-01.
    clock.set(dt.datetime(2025, 1, 1, 9, tzinfo=SHANGHAI))
    assert (await get(stub, name="documents/rule1")).name == "documents/rule1/versions/1"
    clock.set(dt.datetime(2025, 7, 1, 9, tzinfo=SHANGHAI))
    assert (await get(stub, name="documents/rule1")).name == "documents/rule1/versions/2"
    # Repealed: nothing is valid today, the newest public version is shown with its state.
    clock.set(dt.datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    repealed = await get(stub, name="documents/rule1")
    assert (repealed.name, repealed.state) == ("documents/rule1/versions/2", pb.VERSION_STATE_REPEALED)
    assert [(iso(t.date), t.event, t.related) for t in repealed.timeline][-1] == (
        "2026-02-01",
        "repealed",
        "赤政规〔2026〕2号",
    )
    assert (repealed.amends, repealed.repealed_by) == ("documents/rule1/versions/1", "赤政规〔2026〕2号")


async def test_a_version_reads_in_full_without_anything_internal(stub: sgrpc.SearchServiceStub) -> None:
    v1 = await get(stub, name="documents/rule1/versions/1")
    assert (v1.state, v1.uniform_number, v1.amended_by) == (
        pb.VERSION_STATE_AMENDED,
        "赤政规〔2024〕1号",
        "documents/rule1/versions/2",
    )
    assert (iso(v1.promulgation_date), iso(v1.effective_date), iso(v1.validity_end_date)) == (
        "2024-01-10",
        "2024-02-10",
        "",
    )
    assert [a.label for a in v1.articles] == ["第一条", "第二条"]
    assert b"SECRET" not in v1.SerializeToString()


async def test_a_uniform_number_finds_its_document(stub: sgrpc.SearchServiceStub) -> None:
    assert (await get(stub, uniform_number="赤政规〔2023〕3号")).name == "documents/law2/versions/1"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "documents/nothing"}, grpc.StatusCode.NOT_FOUND),
        ({"name": "documents/nothing/versions/1"}, grpc.StatusCode.NOT_FOUND),
        ({"uniform_number": "赤政规〔1999〕1号"}, grpc.StatusCode.NOT_FOUND),
        ({"name": "Documents/UPPER"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"name": "documents/law1", "uniform_number": "赤政规〔2023〕2号"}, grpc.StatusCode.INVALID_ARGUMENT),
    ],
)
async def test_get_refuses_what_is_not_public_or_malformed(
    stub: sgrpc.SearchServiceStub, fields: dict[str, str], code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get(stub, **fields)
    assert caught.value.code() == code


async def test_a_draft_is_public_only_while_open_for_comment(
    stub: sgrpc.SearchServiceStub, app: SearchApp, event_log: SqliteEventLog, clock: FakeClock
) -> None:
    assert (await get(stub, name="documents/dogs")).state == pb.VERSION_STATE_PUBLIC_COMMENT
    clock.set(dt.datetime(2026, 4, 1, 9, tzinfo=SHANGHAI))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await get(stub, name="documents/dogs/versions/1")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # A draft of a later version never shows: rule1's version 2 was a draft before promulgation.
    await publish(event_log, [registry_event("dogs", 1, 3, "DRAFTING")])
    await app.sync()
    clock.set(dt.datetime(2026, 3, 2, 9, tzinfo=SHANGHAI))
    with pytest.raises(grpc.aio.AioRpcError):
        await get(stub, name="documents/dogs")


# ---- ListOpenConsultations --------------------------------------------------------------------------


async def consultations(stub: sgrpc.SearchServiceStub, **fields: object) -> spb.ListOpenConsultationsResponse:
    request = spb.ListOpenConsultationsRequest(**fields)  # type: ignore[arg-type]
    return await stub.ListOpenConsultations(request, timeout=TIMEOUT)


async def test_consultations_are_listed_during_their_window_only(
    stub: sgrpc.SearchServiceStub, clock: FakeClock
) -> None:
    listed = await consultations(stub)
    assert [(c.name, c.title, iso(c.window.start_date), iso(c.window.end_date)) for c in listed.consultations] == [
        ("documents/dogs/versions/1", "赤峰市养犬管理条例（征求意见稿）", "2026-03-01", "2026-03-31")
    ]
    assert listed.consultations[0].kind == pb.DOCUMENT_KIND_GOVERNMENT_RULE
    clock.set(dt.datetime(2026, 2, 28, 23, 59, tzinfo=SHANGHAI))
    assert list((await consultations(stub)).consultations) == []
    clock.set(dt.datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI))
    assert len((await consultations(stub)).consultations) == 1
    clock.set(dt.datetime(2026, 4, 1, 0, 0, tzinfo=SHANGHAI))
    assert list((await consultations(stub)).consultations) == []


async def test_a_consultation_carries_the_count_of_comments_received(
    stub: sgrpc.SearchServiceStub, app: SearchApp, event_log: SqliteEventLog
) -> None:
    assert [c.comment_count for c in (await consultations(stub)).consultations] == [0]
    late_and_repeated = [comment_event("dogs", 1, n) for n in (2, 1, 2)]
    not_a_comment = comment_event("dogs", 1, 3).model_copy(update={"data": {"comment_count": "three"}})
    await publish(event_log, [*late_and_repeated, not_a_comment])
    await app.sync()
    assert [c.comment_count for c in (await consultations(stub)).consultations] == [2]
    draft = await stub.GetPublicDocument(spb.GetPublicDocumentRequest(name="documents/dogs"), timeout=TIMEOUT)
    assert draft.comment_count == 2
    # A bad event was set aside; the next comment still counts.
    await publish(event_log, [comment_event("dogs", 1, 3)])
    await app.sync()
    assert [c.comment_count for c in (await consultations(stub)).consultations] == [3]
    rule = await stub.GetPublicDocument(spb.GetPublicDocumentRequest(name="documents/rule1"), timeout=TIMEOUT)
    assert rule.comment_count == 0


async def test_a_consultation_closed_early_leaves_the_list(
    stub: sgrpc.SearchServiceStub, app: SearchApp, event_log: SqliteEventLog
) -> None:
    await publish(event_log, [registry_event("dogs", 1, 3, "WITHDRAWN")])
    await app.sync()
    assert list((await consultations(stub)).consultations) == []


async def test_consultations_page_with_tokens(
    stub: sgrpc.SearchServiceStub, app: SearchApp, event_log: SqliteEventLog
) -> None:
    drafts = [
        registry_event(f"d{i}", 1, 2, "PUBLIC_COMMENT", comment_window=("2026-03-01", f"2026-03-{10 + i}"))
        for i in range(3)
    ]
    await publish(event_log, drafts)
    await app.sync()
    first = await consultations(stub, page_size=2)
    second = await consultations(stub, page_size=2, page_token=first.next_page_token)
    names = [c.name for c in [*first.consultations, *second.consultations]]
    assert names == [
        "documents/d0/versions/1",
        "documents/d1/versions/1",
        "documents/d2/versions/1",
        "documents/dogs/versions/1",
    ]
    assert second.next_page_token == ""


async def test_a_document_as_in_force_on_a_date_lists_its_public_versions(stub: sgrpc.SearchServiceStub) -> None:
    # rule1: version 1 valid 2024-02-10 .. 2025-06-01, version 2 from then until repealed 2026-02-01.
    old = await get(stub, name="documents/rule1", valid_on=day("2025-01-01"))
    assert old.name == "documents/rule1/versions/1"
    assert (await get(stub, name="documents/rule1", valid_on=day("2025-06-01"))).name == "documents/rule1/versions/2"
    assert [(v.name, v.state, iso(v.valid_from), iso(v.valid_to)) for v in old.versions] == [
        ("documents/rule1/versions/1", pb.VERSION_STATE_AMENDED, "2024-02-10", "2025-06-01"),
        ("documents/rule1/versions/2", pb.VERSION_STATE_REPEALED, "2025-06-01", "2026-02-01"),
    ]
    # Outside the stored range too, and said with the date asked, not the bound it was brought to.
    for when in ("2024-02-09", "2026-02-01", "0001-01-01", "9999-12-31"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(stub, name="documents/rule1", valid_on=day(when))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert when in (caught.value.details() or ""), caught.value.details()
    for fields in (
        {"valid_on": date_pb2.Date(year=2025, month=13, day=1), "name": "documents/rule1"},
        {"valid_on": day("2025-01-01")},
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await get(stub, **fields)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_draft_open_for_comment_carries_its_window(stub: sgrpc.SearchServiceStub) -> None:
    draft = await get(stub, name="documents/dogs")
    assert (iso(draft.comment_window.start_date), iso(draft.comment_window.end_date)) == ("2026-03-01", "2026-03-31")
    assert [v.name for v in draft.versions] == ["documents/dogs/versions/1"]
