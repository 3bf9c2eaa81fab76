"""Two registry replicas over one PostgreSQL schema, in one process: what each must not do to the other.

Both serve gRPC and share one event log (the embedded one, a file both open), as two processes would;
writes go to either at once. The process-level test with kill -9 is tests/faults/test_two_registries.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import REVIEW_SOURCE, REVIEWS_TOPIC, CloudEvent

from tests.harness import System

pytestmark = pytest.mark.asyncio

ORG = "市司法局"
BODY = field_mask_pb2.FieldMask(paths=["body"])


class Replica:
    def __init__(self, s: System) -> None:
        self.s = s
        self.drafter = s.stub("registry", s.token("alice", "drafter", org=ORG))
        self.secretary = s.stub("registry", s.token("sam", "secretary", org="政府办"))
        self.registrar = s.stub("registry", s.token("reg", "registrar", org="政府办"))


@pytest.fixture
async def replicas(
    tmp_path: Path, clock: FakeClock, postgres_url: str, postgres_schema_prefix: str
) -> AsyncIterator[tuple[Replica, Replica]]:
    systems = []
    for name in ("a", "b"):
        s = System(
            tmp_path / name,
            clock,
            services=("registry",),
            event_log=SqliteEventLog(tmp_path / "eventlog.db"),
            settings={
                "postgres_url": postgres_url,
                "postgres_schema_prefix": postgres_schema_prefix,
                "postgres_pool_size": 4,
            },
        )
        await s.start()
        systems.append(s)
    yield Replica(systems[0]), Replica(systems[1])
    for s in systems:
        await s.stop()


async def pump(*replicas: Replica) -> None:
    for r in replicas:
        await r.s.pump()


async def adopted(a: Replica, b: Replica, title: str) -> str:
    """A document created on one replica, approved by a review decision, adopted on the other."""
    doc = await a.drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title=title,
            body="第一条 为了规范管理，制定本办法。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    doc = await b.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    v = doc.versions[-1]
    event = CloudEvent(
        source=REVIEW_SOURCE,
        type="normreg.review.v1.decided",
        subject=f"reviews/{doc.name.removeprefix('documents/')}",
        time=a.s.clock.now(),
        sequence=1,
        data={
            "review": f"reviews/{doc.name.removeprefix('documents/')}",
            "document": doc.name,
            "version_number": v.version_number,
            "review_round": 1,
            "revision": v.revision,
            "decision": "APPROVE",
            "reviewer": "rita",
            "reviewing_office": "司法局",
            "opinion": "",
            "problems": [],
        },
    )
    await a.s.event_log.publish([Record(REVIEWS_TOPIC, doc.name, event.to_bytes())])
    await pump(a, b)
    doc = await b.secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第5次常务会议",
            meeting_date=day(a.s.clock.now().date()),
        )
    )
    assert doc.state == pb.VERSION_STATE_ADOPTED
    return str(doc.name)


async def test_two_replicas_promulgating_at_once_never_give_one_uniform_number_twice(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    names = [await adopted(a, b, f"赤峰市第{i}号管理办法") for i in range(16)]
    # Every promulgation at once, alternating between the replicas.
    promulgated = await asyncio.gather(
        *((a if i % 2 else b).registrar.Promulgate(rpb.PromulgateRequest(name=n)) for i, n in enumerate(names))
    )
    numbers = sorted(d.versions[-1].promulgation.uniform_number for d in promulgated)
    assert numbers == sorted(f"赤政规〔2026〕{i}号" for i in range(1, 17))
    registrations = {d.versions[-1].promulgation.registration_number for d in promulgated}
    assert len(registrations) == 16


async def test_a_retry_that_reaches_the_other_replica_returns_the_first_attempts_document(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    request = rpb.CreateDocumentRequest(
        request_id="retry-1",
        kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        title="赤峰市城市绿化管理办法",
        body="第一条 为了加强城市绿化管理，制定本办法。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
    )
    results = await asyncio.gather(*(r.drafter.CreateDocument(request) for r in (a, b, a, b)))
    assert len({d.name for d in results}) == 1
    listed = await a.registrar.ListDocuments(rpb.ListDocumentsRequest(page_size=10))
    assert [d.name for d in listed.documents] == [results[0].name]


async def test_edits_of_one_document_on_both_replicas_take_turns_and_keep_one_history(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    doc = await a.drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市城市绿化管理办法",
            body="第一条",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )

    aborted = 0

    async def edit(r: Replica, i: int) -> None:
        # Read, edit with the etag read, and start again when the other replica got there first.
        nonlocal aborted
        while True:
            current = await r.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
            try:
                await r.drafter.UpdateDraft(
                    rpb.UpdateDraftRequest(name=doc.name, body=f"第一条 第{i}稿", update_mask=BODY, etag=current.etag)
                )
                return
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.ABORTED, exc
                aborted += 1

    await asyncio.gather(*(edit(a if i % 2 else b, i) for i in range(20)))
    final = await b.drafter.GetDocument(rpb.GetDocumentRequest(name=doc.name))
    # No edit overwrote another: two edits from one etag never both succeed, and each edit counted.
    assert final.versions[-1].revision == doc.versions[-1].revision + 20
    print(f"{aborted} edits were refused for a stale etag and made again")
    history = await a.registrar.GetHistory(rpb.GetHistoryRequest(name=doc.name))
    assert [e.sequence for e in history.entries] == list(range(1, 22))
    verified = await b.registrar.VerifyHistory(rpb.VerifyHistoryRequest(name=doc.name))
    assert verified.intact


async def test_only_one_replica_runs_the_scheduler_at_a_time(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    app_a, app_b = a.s.apps["registry"], b.s.apps["registry"]
    async with app_a.db.exclusive(f"{app_a.db.schema}:scheduler") as held:
        assert held
        assert await app_b.run_scheduler_once() is False
    assert await app_b.run_scheduler_once() is True


async def test_a_stale_etag_is_aborted_whichever_replica_gets_it(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    doc = await a.drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市城市绿化管理办法",
            body="第一条",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    await a.drafter.UpdateDraft(rpb.UpdateDraftRequest(name=doc.name, body="第二稿", update_mask=BODY, etag=doc.etag))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await b.drafter.UpdateDraft(
            rpb.UpdateDraftRequest(name=doc.name, body="第三稿", update_mask=BODY, etag=doc.etag)
        )
    assert err.value.code() == grpc.StatusCode.ABORTED


async def test_schedulers_running_at_once_on_both_replicas_make_each_transition_once(
    replicas: tuple[Replica, Replica], clock: FakeClock
) -> None:
    """Without the lease (each replica's scheduler run directly): row locks alone keep it to once."""
    a, b = replicas
    today = clock.now().date()
    names = []
    for i in range(12):
        doc = await a.drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
                title=f"赤峰市第{i}号征求意见办法",
                body="第一条",
                issuing_body="赤峰市人民政府",
                number_prefix="赤政规",
            )
        )
        await b.drafter.OpenPublicComment(
            rpb.OpenPublicCommentRequest(
                name=doc.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14))
            )
        )
        names.append(doc.name)
    clock.advance(days=30)
    runs = await asyncio.gather(*(r.s.apps["registry"].service.run_scheduler() for r in (a, b, a, b)))
    assert sum(run.changed for run in runs) == 12
    assert [run.failed for run in runs] == [[], [], [], []]
    for name in names:
        history = await b.registrar.GetHistory(rpb.GetHistoryRequest(name=name))
        assert [e.action for e in history.entries].count("comment_closed") == 1, name
