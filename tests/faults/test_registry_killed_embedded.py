"""kill -9 of the registry on its embedded storage while 32 clients create documents at once, so the
group commit holds many writers in one transaction when the process dies: every write it answered is
there after the restart with its history intact and its event on the log, a retry of any request
(answered or cut off) makes nothing twice, and the numbering of the documents' streams goes on."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import registry_service_pb2_grpc as rgrpc
from normreg_common.auth import TokenCodec

from tests.conftest import TEST_KEY
from tests.faults.checks import keys_on_embedded_log
from tests.faults.cluster import Service, eventually
from tests.faults.load import city_draft
from tests.harness import Stub

CLIENTS = 32
BODY = "第一条 为了规范本市行政规范性文件管理，根据有关法律法规，结合本市实际，制定本办法。\n" * 20


def _request(request_id: str) -> rpb.CreateDocumentRequest:
    return city_draft(request_id, f"赤峰市测试管理办法{request_id}", BODY)


class Writers:
    """CLIENTS concurrent creators; what each request got back, and every request ever sent."""

    def __init__(self, stub: Stub, run: str) -> None:
        self._stub = stub
        self._ids = (f"{run}-{i}" for i in itertools.count())
        self.sent: list[str] = []
        self.acked: dict[str, str] = {}

    async def until_cut_off(self) -> None:
        await asyncio.gather(*(self._one_writer() for _ in range(CLIENTS)))

    async def _one_writer(self) -> None:
        while True:
            request_id = next(self._ids)
            self.sent.append(request_id)
            try:
                doc = await self._stub.CreateDocument(_request(request_id))
            except grpc.aio.AioRpcError as error:
                # The process died under this call: it may or may not have committed.
                assert error.code() in {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}, error
                return
            self.acked[request_id] = doc.name


async def test_answered_writes_of_a_full_group_commit_survive_kill_9_and_a_retry_makes_nothing_twice(
    tmp_path: Path,
) -> None:
    data = tmp_path / "registry"
    codec = TokenCodec(TEST_KEY)
    registry = Service(
        "registry",
        {
            **{k: v for k, v in os.environ.items() if not k.startswith("NORMREG_")},
            "PYTHONUNBUFFERED": "1",
            "NORMREG_JWT_KEY": TEST_KEY,
            "NORMREG_CHECKPOINT_KEY": TEST_KEY,
            "NORMREG_DATA_DIR": str(data),
        },
        tmp_path,
    )
    registry.env["NORMREG_REGISTRY_ADDR"] = registry.address
    token = codec.issue("drafter", ["drafter"], "市司法局")
    everyone: list[Writers] = []
    try:
        for kill in range(2):
            await registry.start()
            async with grpc.aio.insecure_channel(registry.address) as channel:
                writers = Writers(Stub(rgrpc.RegistryServiceStub(channel), token, timeout=20), f"k{kill}")
                everyone.append(writers)
                load = asyncio.create_task(writers.until_cut_off())
                # Killed once many writes were answered (at another count each time), so groups of
                # many writers are in flight.
                target = 300 if kill == 0 else 150

                async def enough(w: Writers = writers, n: int = target) -> bool:
                    return len(w.acked) >= n

                await eventually(enough, 120, "the writers write")
                registry.kill()
                await asyncio.wait_for(load, 60)
        await registry.start()
        async with grpc.aio.insecure_channel(registry.address) as channel:
            stub = Stub(rgrpc.RegistryServiceStub(channel), token, timeout=20)
            registrar = Stub(rgrpc.RegistryServiceStub(channel), codec.issue("registrar", ["registrar"]), timeout=60)
            acked = {rid: name for w in everyone for rid, name in w.acked.items()}
            assert len(acked) >= 450
            for name in set(acked.values()):
                doc = await stub.GetDocument(rpb.GetDocumentRequest(name=name))
                assert doc.versions[0].state == pb.VERSION_STATE_DRAFTING, name
            # Every request again, answered or cut off: an answered one gets its document back, a cut
            # off one its document (committed before the kill) or a new one, never a second.
            again = {rid: (await stub.CreateDocument(_request(rid))).name for w in everyone for rid in w.sent}
            assert {rid: again[rid] for rid in acked} == acked
            assert len(set(again.values())) == len(again)
            listed: set[str] = set()
            page = ""
            while True:
                reply = await stub.ListDocuments(rpb.ListDocumentsRequest(page_size=500, page_token=page))
                listed |= {d.name for d in reply.documents}
                if not (page := reply.next_page_token):
                    break
            assert listed == set(again.values())
            verified = await registrar.VerifyHistory(rpb.VerifyHistoryRequest())
            assert verified.intact, list(verified.problems)[:10]
            assert verified.documents_checked == len(listed)
            # The relay publishes what the killed process had not: each document's creation is on the
            # log (a republished copy is allowed; its consumers drop it by its sequence).
            await eventually(lambda: _all_published(data / "eventlog.db", listed), 60, "every creation reaches the log")
    finally:
        registry.stop()


async def _all_published(event_log: Path, names: set[str]) -> bool:
    return await keys_on_embedded_log(event_log, "kill-9-test", "normreg.registry.v1.created") >= names
