"""SIGTERM to each service while it works, on the embedded backends, as real processes: the registry
while clients import (ImportDocuments, the calls `normreg import` sends) and create documents, with
its scheduler running; review and search while each applies a backlog of the log.

Each must exit by itself (the bound here is the harness's: 60 s, not a measure of speed; what it
took is printed and named in any failure); every write a client was told succeeded is there after a
restart, and its event on the log; a call the stop cut off got UNAVAILABLE or CANCELLED, never
INTERNAL or UNKNOWN, and sent again it makes nothing twice; a consumer stopped in the middle of its
backlog resumes after a restart with nothing skipped and nothing applied twice in effect."""

from __future__ import annotations

import asyncio
import collections
import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg.v1 import review_service_pb2 as vpb
from normreg.v1 import review_service_pb2_grpc as vgrpc
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common.auth import TokenCodec
from normreg_common.events import DOCUMENTS_TOPIC

from tests.conftest import TEST_KEY
from tests.faults.checks import every_public_version, keys_on_embedded_log
from tests.faults.cluster import Service, embedded_services, eventually
from tests.faults.load import city_draft, law_in_two_versions
from tests.harness import Stub, one_version

# What a call cut off by a stop may get: the client retries it with the same request id.
CLEAN_CUTS = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
CODEC = TokenCodec(TEST_KEY)
REGISTRAR = CODEC.issue("registrar", ["registrar"])
DRAFTER = CODEC.issue("drafter", ["drafter"], "市司法局")
REVIEWER = CODEC.issue("reviewer", ["reviewer"], "市司法局")
BODY = "第一条 为了规范本市行政规范性文件管理，根据有关法律法规，结合本市实际，制定本办法。\n" * 10


def _normative(rid: str) -> rpb.ImportDocumentRequest:
    """In force since 2020 and never filed: the scheduler has a mark to make on each."""
    return one_version(
        rid,
        pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
        "赤峰市人民政府",
        f"赤峰市停止测试管理办法{rid}",
        pb.VERSION_STATE_IN_FORCE,
        "2020-03-01",
        "2020-04-01",
        body=BODY,
    )


def _law(rid: str) -> rpb.ImportDocumentRequest:
    """Two public versions, the older amended: both must reach the index, once each."""
    return law_in_two_versions(rid, f"中华人民共和国停止测试{rid}法", BODY, "第二条 本法自公布之日起施行。")


def _draft(rid: str) -> rpb.CreateDocumentRequest:
    return city_draft(rid, f"赤峰市停止测试暂行办法{rid}", BODY)


class Writers:
    """Clients that write until the registry stops answering; what each call got."""

    def __init__(self, run: str) -> None:
        self._ids: Iterator[int] = itertools.count()
        self._run = run
        self.import_batches: list[list[str]] = []
        self.creates: list[str] = []
        self.acked: dict[str, str] = {}  # request id -> documents/{id}
        self.cut_off: collections.Counter[grpc.StatusCode] = collections.Counter()

    def _next(self, what: str) -> str:
        return f"{self._run}-{what}-{next(self._ids)}"

    async def importer(self, stub: Stub, batch: int) -> None:
        """As `normreg import` sends them: many documents a call, each with its request id."""
        while True:
            ids = [self._next("import") for _ in range(batch)]
            self.import_batches.append(ids)
            try:
                reply = await stub.ImportDocuments(rpb.ImportDocumentsRequest(documents=[_normative(i) for i in ids]))
            except grpc.aio.AioRpcError as error:
                self.cut_off[error.code()] += 1
                return
            assert [r.request_id for r in reply.results] == ids
            for result in reply.results:
                assert not result.HasField("error"), result.error
                self.acked[result.request_id] = result.document

    async def creator(self, stub: Stub) -> None:
        while True:
            rid = self._next("create")
            self.creates.append(rid)
            try:
                doc = await stub.CreateDocument(_draft(rid))
            except grpc.aio.AioRpcError as error:
                self.cut_off[error.code()] += 1
                return
            self.acked[rid] = doc.name

    def imported(self) -> int:
        return sum(1 for rid in self.acked if "-import-" in rid)

    def created(self) -> int:
        return sum(1 for rid in self.acked if "-create-" in rid)


def _stop_line(service: Service) -> str:
    lines = [line for line in service.log_tail(400).splitlines() if " stopped in " in line]
    return lines[-1] if lines else "(no line saying it stopped)"


async def test_the_registry_told_to_stop_during_an_import_exits_by_itself_and_loses_no_answered_write(
    tmp_path: Path,
) -> None:
    # The scheduler runs again and again over what is imported, so the stop finds it at work.
    registry = embedded_services(tmp_path, ["registry"], NORMREG_SCHEDULER_INTERVAL_S="0.2")["registry"]
    writers = Writers("s")
    try:
        await registry.start()
        async with grpc.aio.insecure_channel(registry.address) as channel:
            raw = rgrpc.RegistryServiceStub(channel)
            importing, creating = Stub(raw, REGISTRAR, timeout=30), Stub(raw, DRAFTER, timeout=30)
            load = asyncio.gather(
                *(writers.importer(importing, batch=25) for _ in range(3)),
                *(writers.creator(creating) for _ in range(8)),
            )

            async def under_way() -> bool:
                return writers.imported() >= 300 and writers.created() >= 100

            await eventually(under_way, 120, "the clients import and create")
            seconds, status = await registry.sigterm()
            await asyncio.wait_for(load, 60)
        said = f"SIGTERM to exit: {seconds:.2f}s, status {status}; {_stop_line(registry)}"
        print(f"\nregistry under load, {said}; cut off: {dict(writers.cut_off)}")
        assert status == 0, f"{said}\n{registry.log_tail()}"
        assert " stopped in " in said, registry.log_tail()
        # Every client was cut off by the stop (none stopped for another reason), each cleanly.
        assert sum(writers.cut_off.values()) == 3 + 8
        assert set(writers.cut_off) <= CLEAN_CUTS, f"{dict(writers.cut_off)}; {said}"

        await registry.start()
        async with grpc.aio.insecure_channel(registry.address) as channel:
            raw = rgrpc.RegistryServiceStub(channel)
            importing, creating = Stub(raw, REGISTRAR, timeout=60), Stub(raw, DRAFTER, timeout=60)
            # Every request again, answered or cut off: an answered one gets its document back, a cut
            # off one its document (committed before the stop) or a new one, never a second.
            again: dict[str, str] = {}
            for ids in writers.import_batches:
                reply = await importing.ImportDocuments(
                    rpb.ImportDocumentsRequest(documents=[_normative(i) for i in ids])
                )
                again.update({r.request_id: r.document for r in reply.results if not r.HasField("error")})
            for rid in writers.creates:
                again[rid] = (await creating.CreateDocument(_draft(rid))).name
            assert {rid: again.get(rid) for rid in writers.acked} == writers.acked, said
            assert len(set(again.values())) == len(again)
            verified = await importing.VerifyHistory(rpb.VerifyHistoryRequest())
            assert verified.intact, list(verified.problems)[:10]
            assert verified.documents_checked == len(again)
        names = set(again.values())

        async def all_on_the_log() -> bool:
            return await keys_on_embedded_log(tmp_path / "data" / "eventlog.db", "sigterm-test") >= names

        await eventually(all_on_the_log, 60, "every document's events reach the log")
    finally:
        registry.stop()


def _applied(db: Path, group: str) -> int:
    """How many records of the documents topic the consumer `group` has applied (committed)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute(
            "SELECT offset FROM consumer_positions WHERE grp = ? AND topic = ?", (group, DOCUMENTS_TOPIC)
        ).fetchone()
    except sqlite3.OperationalError:  # its tables are not made yet
        return 0
    finally:
        conn.close()
    return 0 if row is None else int(row[0]) + 1


def _log_end(data: Path) -> int:
    conn = sqlite3.connect(data / "eventlog.db", timeout=10)
    try:
        row = conn.execute("SELECT MAX(offset) FROM records WHERE topic = ?", (DOCUMENTS_TOPIC,)).fetchone()
    finally:
        conn.close()
    return 0 if row[0] is None else int(row[0]) + 1


def _unsent(data: Path) -> int:
    conn = sqlite3.connect(data / "registry.db", timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])
    finally:
        conn.close()


async def _stopped_in_the_middle(
    service: Service, db: Path, group: str, end: int, *, after_s: float
) -> tuple[int, float]:
    """Starts `service` on a backlog of `end` records and sends SIGTERM `after_s` after its first
    batch is committed, while it takes the next; returns how many it had applied by then, and the
    seconds it took to exit."""
    service.launch()
    while _applied(db, group) == 0:
        assert service.proc is not None and service.proc.poll() is None, service.log_tail()
        await asyncio.sleep(0.01)
    await asyncio.sleep(after_s)
    applied = _applied(db, group)
    seconds, status = await service.sigterm()
    said = f"{service.name}: SIGTERM at {applied}/{end} applied, {seconds:.2f}s to exit, status {status}"
    print(f"\n{said}; {_stop_line(service)}; {_applied(db, group)} applied at its exit")
    assert status == 0, f"{said}\n{service.log_tail()}"
    assert applied < end, f"{said}: the backlog was gone before the stop; it must be larger"
    return applied, seconds


async def test_review_and_search_stopped_while_applying_a_backlog_resume_with_nothing_skipped_or_twice(
    tmp_path: Path,
) -> None:
    services = embedded_services(tmp_path, ["registry", "review", "search"])
    registry, review, search = services["registry"], services["review"], services["search"]
    data = tmp_path / "data"
    laws, drafts = 1200, 150
    try:
        await registry.start()
        async with grpc.aio.insecure_channel(registry.address) as channel:
            raw = rgrpc.RegistryServiceStub(channel)
            registrar, drafter = Stub(raw, REGISTRAR, timeout=60), Stub(raw, DRAFTER, timeout=60)
            law_ids = [f"law-{n}" for n in range(laws)]
            imported: dict[str, str] = {}
            for start in range(0, laws, 100):
                reply = await registrar.ImportDocuments(
                    rpb.ImportDocumentsRequest(documents=[_law(i) for i in law_ids[start : start + 100]])
                )
                assert not any(r.HasField("error") for r in reply.results), reply
                imported.update({r.request_id: r.document for r in reply.results})

            async def submit(n: int) -> str:
                doc = await drafter.CreateDocument(_draft(f"draft-{n}"))
                await drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
                return str(doc.name)

            submitted: set[str] = set()
            for start in range(0, drafts, 25):
                submitted |= set(await asyncio.gather(*(submit(n) for n in range(start, start + 25))))

        async def relayed() -> bool:
            return _unsent(data) == 0

        await eventually(relayed, 60, "the registry's outbox is on the log")
        end = _log_end(data)

        # Both at once, each stopped once its first batch is in: review at once (it takes the whole
        # backlog in about a second here), search a moment later, past the read of its next batch into
        # its application (half a second a batch here).
        await asyncio.gather(
            _stopped_in_the_middle(review, data / "review.db", "review", end, after_s=0.0),
            _stopped_in_the_middle(search, data / "search.db", "search-projection", end, after_s=0.15),
        )
        await asyncio.gather(review.start(), search.start())

        async def caught_up() -> bool:
            return (
                _applied(data / "review.db", "review") == end
                and _applied(data / "search.db", "search-projection") == end
            )

        await eventually(caught_up, 120, f"review and search apply all {end} records after their restart")

        # Search: both versions of every law once, in its state; no draft.
        async with grpc.aio.insecure_channel(search.address) as channel:
            hits = await every_public_version(Stub(sgrpc.SearchServiceStub(channel), None, timeout=60))
        seen = collections.Counter(h.name for h in hits)
        assert [name for name, count in seen.items() if count > 1] == []
        expected = {f"{doc}/versions/{v}" for doc in imported.values() for v in (1, 2)}
        assert set(seen) == expected
        states = {h.name: h.state for h in hits}
        for doc in imported.values():
            assert (states[f"{doc}/versions/1"], states[f"{doc}/versions/2"]) == (
                pb.VERSION_STATE_AMENDED,
                pb.VERSION_STATE_IN_FORCE,
            ), doc

        # Review: one open review for each draft submitted, none twice, none missing.
        async with grpc.aio.insecure_channel(review.address) as channel:
            reviewer = Stub(vgrpc.ReviewServiceStub(channel), REVIEWER, timeout=60)
            reviews: list[vpb.Review] = []
            token = ""
            while True:
                page = await reviewer.ListReviews(vpb.ListReviewsRequest(page_size=100, page_token=token))
                reviews.extend(page.reviews)
                if not (token := page.next_page_token):
                    break
        per_document = collections.Counter(r.document for r in reviews)
        assert [doc for doc, count in per_document.items() if count > 1] == []
        assert set(per_document) == submitted
        assert {r.state for r in reviews} == {vpb.REVIEW_STATE_OPEN}
    finally:
        for service in services.values():
            service.stop()
