"""`make run-federation`'s set-up in process: the province and two cities configured exactly as
normreg_cli.run_federation configures them, on ONE shared embedded event log file, each under its own
topic prefix and in its own data folder. Events move by `sync()` rounds (no background tasks, a fake
clock), so this runs in seconds; the same exchange on Kafka with real processes is test_federation."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg_cli import run_federation
from normreg_cli.dates import to_pb as day
from normreg_common.auth import TokenCodec
from normreg_common.clock import FakeClock

from tests.cli.test_run_federation import settings_of
from tests.conftest import SHANGHAI, TEST_KEY
from tests.harness import STUBS, Stub

# What each deployment runs here: the province receives, the cities draft and file.
SERVICES = {"neimenggu": ("registry", "filing"), "chifeng": ("registry", "review"), "wuhai": ("registry", "review")}


class EmbeddedFederation:
    def __init__(self, root: Path) -> None:
        self.clock = FakeClock(dt.datetime(2027, 3, 2, 9, 0, tzinfo=SHANGHAI))
        self.codec = TokenCodec(TEST_KEY)
        members = run_federation.deployments(root, port=lambda: 0)
        envs = run_federation.environments(root, members, {"NORMREG_JWT_KEY": TEST_KEY})
        self.settings = {name: settings_of(env) for name, env in envs.items()}
        self.apps: dict[tuple[str, str], Any] = {}
        self._channels: list[grpc.aio.Channel] = []

    async def start(self) -> None:
        for deployment, services in SERVICES.items():
            for service in services:
                bootstrap = importlib.import_module(f"normreg_{service}.bootstrap")
                app = await bootstrap.create_app(self.settings[deployment], clock=self.clock, background=False)
                await app.start()
                self.apps[(deployment, service)] = app

    async def pump(self) -> None:
        """Relay every outbox and apply every log until a whole round moves nothing."""
        for _ in range(100):
            moved = 0
            for app in self.apps.values():
                moved += await app.sync()
            if not moved:
                return
        raise AssertionError("events kept moving")

    def stub(self, deployment: str, service: str, subject: str, role: str, org: str) -> Stub:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.apps[(deployment, service)].port}")
        self._channels.append(channel)
        return Stub(STUBS[service](channel), self.codec.issue(subject, [role], org))

    async def stop(self) -> None:
        for channel in self._channels:
            await channel.close()
        for app in reversed(list(self.apps.values())):
            await app.stop(0)


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[EmbeddedFederation]:
    fed = EmbeddedFederation(tmp_path)
    await fed.start()
    yield fed
    await fed.stop()


async def promulgated(fed: EmbeddedFederation, city: str, kind: Any, title: str, body: str, prefix: str) -> str:
    drafter = fed.stub(city, "registry", "zhang", "drafter", "市城市管理综合执法局")
    reviewer = fed.stub(city, "review", "li", "reviewer", "市司法局")
    secretary = fed.stub(city, "registry", "wang", "secretary", "市政府办")
    registrar = fed.stub(city, "registry", "zhao", "registrar", "市政府办")
    doc = await drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=kind, title=title, body="第一条 为了规范管理，制定本办法。", issuing_body=body, number_prefix=prefix
        )
    )
    await drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))
    await fed.pump()
    [task] = (await reviewer.ListReviews(vpb.ListReviewsRequest())).reviews
    await reviewer.ClaimReview(vpb.ClaimReviewRequest(name=task.name))
    await reviewer.DecideReview(
        vpb.DecideReviewRequest(name=task.name, decision=vpb.REVIEW_DECISION_APPROVE, opinion="符合上位法规定")
    )
    await fed.pump()
    await secretary.RecordDeliberation(
        rpb.RecordDeliberationRequest(
            name=doc.name,
            decision=rpb.DELIBERATION_DECISION_ADOPT,
            meeting="市政府第1次常务会议",
            meeting_date=day(str(fed.clock.now().date())),
        )
    )
    await registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))
    await fed.pump()
    return str(doc.name)


async def test_a_province_and_two_cities_share_one_embedded_log_file_under_their_prefixes(
    federation: EmbeddedFederation, tmp_path: Path
) -> None:
    fed = federation
    assert {s.event_log_path for s in fed.settings.values()} == {tmp_path / "eventlog.db"}
    province = fed.stub("neimenggu", "filing", "wu", "reviewer", "内蒙古自治区司法厅")
    rule = await promulgated(
        fed, "chifeng", pb.DOCUMENT_KIND_GOVERNMENT_RULE, "赤峰市城市绿化管理办法", "赤峰市人民政府", "赤峰市人民政府令"
    )
    notice = await promulgated(
        fed, "wuhai", pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, "乌海市城市供热管理办法", "乌海市人民政府", "乌政规"
    )
    missing = await province.ListMissingFilings(fpb.ListMissingFilingsRequest())
    assert {(m.sender, m.document, m.recipient) for m in missing.missing_filings} == {
        ("chifeng", f"{rule}/versions/1", "内蒙古自治区人民政府"),
        ("chifeng", f"{rule}/versions/1", "内蒙古自治区人大常委会"),
        ("wuhai", f"{notice}/versions/1", "内蒙古自治区人民政府"),
    }
    # Chifeng files with the province's government; the province asks for the drafting explanation,
    # and Chifeng's registry learns it from the province's signed event on the same file.
    registrar = fed.stub("chifeng", "registry", "zhao", "registrar", "市政府办")
    await registrar.RecordFiling(
        rpb.RecordFilingRequest(
            name=rule,
            filed_date=day(str(fed.clock.now().date())),
            recipient="内蒙古自治区人民政府",
            materials=pb.FilingMaterials(text=True, legal_basis=True, legality_review_opinion=True),
        )
    )
    await fed.pump()
    [filing] = (await province.ListReceivedFilings(fpb.ListReceivedFilingsRequest())).received_filings
    await province.RegisterReceivedFiling(fpb.RegisterReceivedFilingRequest(name=filing.name))
    await fed.pump()
    doc = await registrar.GetDocument(rpb.GetDocumentRequest(name=rule))
    [asked] = [o.filing for o in doc.versions[0].filing_obligations if o.recipient == "内蒙古自治区人民政府"]
    assert (asked.recipient_status, list(asked.missing_materials), asked.received_filing) == (
        "MATERIALS_REQUESTED",
        ["drafting_explanation"],
        filing.name,
    )
    # Wuhai's registry heard nothing of it: the report was for Chifeng's document only.
    wuhai = fed.stub("wuhai", "registry", "zhao", "registrar", "市政府办")
    [wuhai_doc] = (await wuhai.ListDocuments(rpb.ListDocumentsRequest())).documents
    assert all(not o.HasField("filing") for o in wuhai_doc.versions[0].filing_obligations)
