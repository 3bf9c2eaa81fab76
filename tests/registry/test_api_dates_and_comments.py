"""The API's dates are google.type.Date (with text twins for one release) and comments are created
under their parent version (CreateComment), while the deprecated SubmitComment keeps working."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.type import date_pb2
from normreg.events.v1.comment_events_pb2 import CommentReceived
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import text as iso
from normreg_cli.dates import to_pb as day
from normreg_common import event_data
from normreg_common.clock import FakeClock
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent

from tests.harness import System, error_reason, field_violations
from tests.registry.test_grpc_registry import Actors, create

pytestmark = pytest.mark.asyncio


async def open_for_comment(a: Actors, today: dt.date) -> pb.Document:
    doc = await create(a)
    return await a.drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14)))
    )


async def test_a_comment_is_created_under_the_version_open_for_comment(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    parent = f"{doc.name}/versions/1"
    created = await a.public.CreateComment(rpb.CreateCommentRequest(parent=parent, comment=pb.Comment(text="建议")))
    assert created.name.startswith(f"{parent}/comments/") and created.text == "建议"
    by_document = await a.public.CreateComment(
        rpb.CreateCommentRequest(parent=doc.name, comment=pb.Comment(text="再议"))
    )
    assert by_document.name.startswith(f"{parent}/comments/")
    old_method = await a.public.SubmitComment(rpb.SubmitCommentRequest(name=doc.name, text="旧客户端"))
    assert old_method.name.startswith(f"{parent}/comments/")
    listed = await a.drafter.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert [c.text for c in listed.comments] == ["建议", "再议", "旧客户端"]


async def test_a_comment_on_a_version_that_is_not_open_is_refused(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.CreateComment(
            rpb.CreateCommentRequest(parent=f"{doc.name}/versions/2", comment=pb.Comment(text="建议"))
        )
    assert (err.value.code(), error_reason(err.value)) == (grpc.StatusCode.FAILED_PRECONDITION, "NOT_OPEN_FOR_COMMENT")
    listed = await a.drafter.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert list(listed.comments) == []


async def test_comments_are_listed_under_their_parent_version_or_every_version(
    system: System, clock: FakeClock
) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    for text in ("建议", "再议", "三议"):
        await a.public.CreateComment(rpb.CreateCommentRequest(parent=doc.name, comment=pb.Comment(text=text)))
    version = f"{doc.name}/versions/1"
    for parent in (version, f"{doc.name}/versions/-", doc.name):
        listed = await a.drafter.ListComments(rpb.ListCommentsRequest(parent=parent))
        assert [c.text for c in listed.comments] == ["建议", "再议", "三议"], parent
    first = await a.drafter.ListComments(rpb.ListCommentsRequest(parent=version, page_size=2))
    rest = await a.drafter.ListComments(
        rpb.ListCommentsRequest(parent=version, page_size=2, page_token=first.next_page_token)
    )
    assert [c.text for c in [*first.comments, *rest.comments]] == ["建议", "再议", "三议"]
    # A page token is bound to its parent: one version's token does not page every version.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.ListComments(rpb.ListCommentsRequest(parent=doc.name, page_token=first.next_page_token))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == ["page_token"]


async def test_the_deprecated_name_of_list_comments_is_served_and_parent_wins(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    await a.public.CreateComment(rpb.CreateCommentRequest(parent=doc.name, comment=pb.Comment(text="建议")))
    old = await a.drafter.ListComments(rpb.ListCommentsRequest(name=doc.name))
    assert [c.text for c in old.comments] == ["建议"]
    # Both set: parent is read, as a Date wins over its text twin.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.ListComments(rpb.ListCommentsRequest(parent=f"{doc.name}/versions/2", name=doc.name))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("parent", "code"),
    [
        ("documents/x/versions/1/comments", grpc.StatusCode.INVALID_ARGUMENT),
        ("versions/1", grpc.StatusCode.INVALID_ARGUMENT),
        ("", grpc.StatusCode.INVALID_ARGUMENT),
        ("documents/nothere/versions/-", grpc.StatusCode.NOT_FOUND),
    ],
)
async def test_a_bad_parent_of_list_comments_is_refused(system: System, parent: str, code: grpc.StatusCode) -> None:
    a = Actors(system)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.ListComments(rpb.ListCommentsRequest(parent=parent))
    assert err.value.code() == code
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        assert field_violations(err.value) == ["parent"]


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"parent": "documents/x/versions/1", "comment": pb.Comment(text="")}, "comment.text"),
        ({"parent": "versions/1", "comment": pb.Comment(text="建议")}, "parent"),
    ],
)
async def test_a_bad_comment_request_names_the_field(
    system: System, request_fields: dict[str, object], field: str
) -> None:
    a = Actors(system)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.public.CreateComment(rpb.CreateCommentRequest(**request_fields))  # type: ignore[arg-type]
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value)[0] == field


async def test_dates_are_written_as_dates_and_as_text_for_old_clients(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    today = clock.now().date()
    doc = await open_for_comment(a, today)
    window = doc.versions[-1].comment_window
    assert (window.start_date, window.end_date) == (day(today), day(today + dt.timedelta(days=14)))
    assert (window.start_date_iso, window.end_date_iso) == (
        today.isoformat(),
        (today + dt.timedelta(days=14)).isoformat(),
    )


async def test_a_client_built_before_dates_were_messages_still_sends_text(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await create(a)
    start = clock.now().date() + dt.timedelta(days=1)
    # Field 2 and 3 are the numbers the text dates always had: an old client's bytes land there.
    opened = await a.drafter.OpenPublicComment(
        rpb.OpenPublicCommentRequest(
            name=doc.name, start_date_iso=start.isoformat(), end_date_iso=(start + dt.timedelta(days=20)).isoformat()
        )
    )
    assert iso(opened.versions[-1].comment_window.end_date) == (start + dt.timedelta(days=20)).isoformat()


@pytest.mark.parametrize("text", ["20260303", "2026-W10-2", "2026-3-3", "2026-03-03T00:00"])
async def test_a_text_date_is_written_yyyy_mm_dd_and_nothing_else(system: System, clock: FakeClock, text: str) -> None:
    """The old text fields promise YYYY-MM-DD; Python would also read 20260303 or a week date."""
    a = Actors(system)
    doc = await create(a)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.OpenPublicComment(
            rpb.OpenPublicCommentRequest(name=doc.name, start_date_iso=text, end_date_iso="2026-04-30")
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value) == ["start_date_iso"]


@pytest.mark.parametrize(
    ("start", "field"),
    [
        (date_pb2.Date(year=2026, month=2, day=30), "start_date"),
        (date_pb2.Date(year=2026, month=0, day=0), "start_date"),
        (date_pb2.Date(), "start_date"),
    ],
)
async def test_an_impossible_or_partial_date_is_invalid_and_named(
    system: System, clock: FakeClock, start: date_pb2.Date, field: str
) -> None:
    a = Actors(system)
    doc = await create(a)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await a.drafter.OpenPublicComment(
            rpb.OpenPublicCommentRequest(name=doc.name, start_date=start, end_date=day(clock.now().date()))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(err.value)[0] == field
    unchanged = await a.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert unchanged.etag == doc.etag


async def _document_events(system: System) -> list[CloudEvent]:
    async def none(topic: str, partition: int) -> int | None:
        return None

    await system.pump()
    consumer = system.event_log.consumer([DOCUMENTS_TOPIC], "comment-events-test", none)
    await consumer.start()
    try:
        return [CloudEvent.from_bytes(d.value) for d in await consumer.poll(max_records=1000, timeout=0)]
    finally:
        await consumer.close()


async def test_each_comment_publishes_the_count_of_its_version_without_moving_the_etag(
    system: System, clock: FakeClock
) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    before = await a.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    history = await a.drafter.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    parent = f"{doc.name}/versions/1"
    for text in ("建议", "再议"):
        await a.public.CreateComment(rpb.CreateCommentRequest(parent=parent, comment=pb.Comment(text=text)))

    # A comment is not an edit: the drafter's etag and the document's history stay where they were.
    after = await a.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    assert after.etag == before.etag
    assert await a.drafter.GetHistory(rpb.GetHistoryRequest(name=doc.name)) == history

    comments = [e for e in await _document_events(system) if e.type == "normreg.registry.v1.comment_received"]
    assert [(e.subject, e.sequence, e.dataschema) for e in comments] == [
        (f"{parent}/comments", n, "type.googleapis.com/normreg.events.v1.CommentReceived") for n in (1, 2)
    ]
    # Read with the published message alone, as a consumer would.
    received = [event_data.read(e, CommentReceived) for e in comments]
    assert [(m.document, m.version, m.version_number, m.comment_count) for m in received] == [
        (doc.name, parent, 1, 1),
        (doc.name, parent, 1, 2),
    ]
    assert all("建议" not in e.to_bytes().decode() for e in comments)  # the text stays with the drafters


async def test_a_refused_comment_publishes_nothing(system: System, clock: FakeClock) -> None:
    a = Actors(system)
    doc = await open_for_comment(a, clock.now().date())
    with pytest.raises(grpc.aio.AioRpcError):
        await a.public.CreateComment(
            rpb.CreateCommentRequest(parent=f"{doc.name}/versions/2", comment=pb.Comment(text="建议"))
        )
    assert [e for e in await _document_events(system) if e.type.endswith(".comment_received")] == []
