"""A poison record never stalls a consumer: on both event logs, a record that cannot be decoded or
applied becomes a dead letter (raw bytes and error) and the records behind it are applied in order;
administrators list and retry dead letters through DeadLetterService."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from normreg.v1 import dead_letter_service_pb2 as dpb
from normreg.v1 import dead_letter_service_pb2_grpc as dgrpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg_common.clock import FakeClock
from normreg_common.deadletter_api import PAGES
from normreg_common.eventlog.kafka_log import KafkaEventLog
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.events import DOCUMENTS_TOPIC, REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent
from normreg_common.paging import OFFSET_MAX, fingerprint

from tests.harness import Stub, System, error_reason

pytestmark = pytest.mark.asyncio


@pytest.fixture(params=["embedded", "kafka"])
async def system(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    log: EventLog | None = None
    settings = {}
    if request.param == "kafka":
        bootstrap = request.getfixturevalue("kafka_bootstrap")
        suffix = uuid.uuid4().hex[:8]
        log = KafkaEventLog(bootstrap, client_id=f"poison-{suffix}", partitions=1, topic_prefix=f"p{suffix}.")
        settings = {"kafka_bootstrap": bootstrap, "kafka_topic_prefix": f"p{suffix}."}
    s = System(tmp_path, clock, services=("registry", "review"), event_log=log, settings=settings)
    if request.param == "kafka":
        s.quiet_rounds, s.pause_s = 4, 0.25
    await s.start()
    yield s
    await s.stop()


def dead_letters(s: System, service: str, token: str) -> Stub:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{s.apps[service].port}")
    s._channels.append(channel)
    return Stub(dgrpc.DeadLetterServiceStub(channel), token)


def broken_decision(document: str) -> bytes:
    """A decision the registry can read but not apply: no such decision exists."""
    return CloudEvent(
        source=REVIEW_SOURCE,
        type="normreg.review.v1.decided",
        subject="reviews/broken",
        time="2026-03-02T09:00:00+08:00",  # type: ignore[arg-type]
        sequence=1,
        data={
            "review": "reviews/broken",
            "document": document,
            "version_number": 1,
            "review_round": 1,
            "revision": 1,
            "decision": "MAYBE",
            "reviewer": "rita",
            "reviewing_office": "司法局",
        },
    ).to_bytes()


async def submitted(s: System, title: str) -> pb.Document:
    drafter = s.stub("registry", s.token("alice", "drafter", org="市城管局"))
    doc = await drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title=title,
            body="第一条 为了规范管理，制定本办法。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    return await drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))


async def approve_all(s: System) -> None:
    reviewer = s.stub("review", s.token("rita", "reviewer", org="司法局"))
    listed = await reviewer.ListReviews(vpb.ListReviewsRequest(state=vpb.REVIEW_STATE_OPEN))
    for review in listed.reviews:
        claimed = await reviewer.ClaimReview(vpb.ClaimReviewRequest(name=review.name))
        await reviewer.DecideReview(
            vpb.DecideReviewRequest(
                name=review.name, decision=vpb.REVIEW_DECISION_APPROVE, opinion="符合上位法规定", etag=claimed.etag
            )
        )


async def test_a_poison_record_on_the_reviews_topic_does_not_stop_decisions(system: System) -> None:
    s = system
    first = await submitted(s, "赤峰市共享单车停放管理办法")
    await s.pump()
    # Ahead of every real decision: unreadable bytes, and a decision that cannot be applied.
    broken = broken_decision(first.name)
    await s.event_log.publish(
        [Record(REVIEWS_TOPIC, first.name, b"not json"), Record(REVIEWS_TOPIC, first.name, broken)]
    )
    await s.event_log.publish([Record(DOCUMENTS_TOPIC, "documents/x", b"\xff\xfe not an event")])
    second = await submitted(s, "赤峰市城市绿化管理办法")
    await s.pump()
    await approve_all(s)
    await s.pump()

    registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))
    for doc in (first, second):
        got = await registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
        assert got.state == pb.VERSION_STATE_AWAITING_DELIBERATION, doc.name

    admin = s.token("root", "admin", org="市政府")
    registry_letters = await dead_letters(s, "registry", admin).ListDeadLetters(dpb.ListDeadLettersRequest())
    assert [(d.stage, d.value, d.consumer) for d in registry_letters.dead_letters] == [
        ("decode", b"not json", "registry"),
        ("apply", broken, "registry"),
    ]
    assert "KeyError" in registry_letters.dead_letters[1].error
    review_letters = await dead_letters(s, "review", admin).ListDeadLetters(dpb.ListDeadLettersRequest())
    assert [(d.stage, d.key, d.value) for d in review_letters.dead_letters] == [
        ("decode", "documents/x", b"\xff\xfe not an event")
    ]


async def test_a_dead_letter_retried_in_vain_stays_with_its_new_attempt(system: System) -> None:
    s = system
    await s.event_log.publish([Record(REVIEWS_TOPIC, "documents/x", b"not json")])
    await s.pump()
    stub = dead_letters(s, "registry", s.token("root", "admin", org="市政府"))
    [letter] = (await stub.ListDeadLetters(dpb.ListDeadLettersRequest())).dead_letters
    again = await stub.RetryDeadLetter(dpb.RetryDeadLetterRequest(name=letter.name))
    assert not again.applied
    assert (again.dead_letter.name, again.dead_letter.attempts) == (letter.name, 2)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.RetryDeadLetter(dpb.RetryDeadLetterRequest(name="deadLetters/normreg.reviews:0:999999"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_only_administrators_see_dead_letters(system: System) -> None:
    s = system
    reviewer = dead_letters(s, "registry", s.token("rita", "reviewer", org="司法局"))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await reviewer.ListDeadLetters(dpb.ListDeadLettersRequest())
    assert (err.value.code(), error_reason(err.value)) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_a_forged_dead_letter_page_token_is_refused_whatever_offset_it_carries(system: System) -> None:
    """The offset a page token carries is added to a page before the database sees it: the largest
    offset a token may carry still fits, and one past it is refused at the token (it was INTERNAL:
    the sum overflowed SQLite's integer)."""
    admin = dead_letters(system, "registry", system.token("root", "admin", org="市政府"))
    for position in (2**63 - 1, 2**63 - 52, OFFSET_MAX + 1):
        token = _forged(position)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await admin.ListDeadLetters(dpb.ListDeadLettersRequest(page_token=token))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, position
    last = await admin.ListDeadLetters(dpb.ListDeadLettersRequest(page_token=PAGES.encode(OFFSET_MAX, {})))
    assert (list(last.dead_letters), last.next_page_token) == ([], "")


def _forged(position: int) -> str:
    payload = json.dumps({"k": "deadletters", "p": position, "q": fingerprint({})}).encode()
    return "t1." + base64.urlsafe_b64encode(payload).decode().rstrip("=")
