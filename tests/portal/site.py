"""The whole system for the portal's tests: registry, review and search in-process on embedded
storage, the portal under a real uvicorn on loopback, all on one event loop in a background thread
(a browser driver blocks; the servers must keep answering while it waits).

The data is made the way a city would make it, through the registry's gRPC API: a rule with
chapters that is amended, a repealed one, a draft open for comment, a draft that is not, and a rule
whose text holds markup.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg_cli.dates import to_pb as day
from normreg_common.clock import FakeClock
from normreg_portal.app import create_app
from normreg_portal.gateway import Gateway
from normreg_portal.guards import RateLimiter
from normreg_portal.settings import PortalSettings

from tests.conftest import SHANGHAI, TEST_KEY
from tests.e2e.flows import ORG, People
from tests.harness import System, one_version

T = TypeVar("T")

DOGS_V1 = """第一章 总则
第一条 为了规范养犬行为，保障公民健康和人身安全，制定本办法。
第二条 本办法适用于本市行政区域内的养犬管理。
第二章 养犬登记
第三条 养犬实行登记制度。
第四条 携犬出户应当束犬链，链长不得超过一点五米。
第三章 附则
第五条 本办法自公布之日起三十日后施行。"""
DOGS_V2 = """第一章 总则
第一条 为了规范养犬行为，保障公民健康和人身安全，维护社会公共秩序，制定本办法。
第二条 本办法适用于本市行政区域内的养犬管理。
第二章 养犬登记
第三条 养犬实行登记制度。
第四条 携犬出户应当束犬链，链长不得超过二米。
第五条 犬只应当按期接种狂犬病疫苗。
第三章 附则
第六条 本办法自公布之日起三十日后施行。"""
FIREWORKS = "第一条 为了加强烟花爆竹燃放管理，制定本规定。\n第二条 春节期间允许在指定区域燃放。"
BIKES = "第一条 为了规范共享单车停放秩序，制定本办法。\n第二条 共享单车应当在划定的停放区域内停放。"
ROADS = "第一条 为了规范临时占用道路行为，制定本办法。"
SECRET_DRAFT = "第一条 本草案尚未公开，不得出现在门户网站上。"
MARKUP = '第一条 标记<script>alert("x")</script>与<b onmouseover="alert(1)">文字</b>须原样显示。'


class Site:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="portal-site", daemon=True)
        self.clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))
        self.system = System(data_dir, self.clock, services=("registry", "review", "search", "filing"))
        self.server: uvicorn.Server | None = None
        self.serving: asyncio.Task[None] | None = None
        self.url = ""
        self.ids: dict[str, str] = {}
        self.numbers: dict[str, str] = {}
        self.dates: dict[str, str] = {}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    def stop(self) -> None:
        try:
            self.run(self._stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    async def _start(self) -> None:
        await self.system.start()
        await self.seed()
        settings = PortalSettings(
            data_dir=self.data_dir,
            jwt_key=TEST_KEY,
            portal_addr="127.0.0.1:0",
            portal_comment_limit=3,
            portal_suggestion_limit=3,
        )
        gateway = Gateway(
            f"127.0.0.1:{self.system.apps['search'].port}",
            f"127.0.0.1:{self.system.apps['registry'].port}",
            filing_addr=f"127.0.0.1:{self.system.apps['filing'].port}",
        )
        config = uvicorn.Config(
            create_app(settings, gateway), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.serving.done():
                self.serving.result()
            await asyncio.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        if self.server is not None and self.serving is not None:
            self.server.should_exit = True
            await self.serving
        await self.system.stop()

    def reset_limits(self) -> None:
        """Forget the comment rate limit's memory (all test clients share one address)."""
        assert self.server is not None
        app = self.server.config.app
        app.state.limiter = RateLimiter(app.state.settings.portal_comment_limit, 600.0)
        app.state.suggestion_limiter = RateLimiter(app.state.settings.portal_suggestion_limit, 600.0)

    async def comments_of(self, doc_id: str) -> list[str]:
        """What the drafting office reads of the comments on `doc_id`."""
        drafter = self.system.stub("registry", self.system.token("zhang", "drafter", org=ORG))
        listed = await drafter.ListComments(rpb.ListCommentsRequest(name=f"documents/{doc_id}"))
        return [c.text for c in listed.comments]

    async def suggestions(self) -> list[fpb.ReviewSuggestion]:
        """The review suggestions as the filing service's reviewers read them, contact included."""
        reviewer = self.system.stub("filing", self.system.token("wu", "reviewer", org="司法局"))
        listed = await reviewer.ListReviewSuggestions(fpb.ListReviewSuggestionsRequest())
        return list(listed.review_suggestions)

    async def settle(self) -> None:
        await self.system.pump()

    async def declare_invalid(self, doc_id: str, reason: str) -> None:
        registrar = People(self.system).registrar
        await registrar.DeclareInvalid(rpb.DeclareInvalidRequest(name=f"documents/{doc_id}", reason=reason))
        await self.settle()

    async def seed(self) -> None:
        p = People(self.system)
        dogs = await p.to_in_force("赤峰市养犬管理办法", DOGS_V1)
        self.ids["dogs"] = dogs.name.split("/")[1]
        self.numbers["dogs_v1"] = dogs.versions[0].promulgation.uniform_number
        self.dates["dogs_v1_valid"] = str(self.clock.now().date())
        await p.drafter.StartAmendment(rpb.StartAmendmentRequest(name=dogs.name))
        current = await p.drafter.GetDocument(rpb.GetDocumentRequest(name=dogs.name))
        await p.drafter.UpdateDraft(
            rpb.UpdateDraftRequest(
                name=dogs.name, update_mask=field_mask_pb2.FieldMask(paths=["body"]), body=DOGS_V2, etag=current.etag
            )
        )
        await p.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=dogs.name))
        await p.review(current, vpb.REVIEW_DECISION_APPROVE)
        await p.secretary.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=dogs.name,
                decision=rpb.DELIBERATION_DECISION_ADOPT,
                meeting="市政府第10次常务会议",
                meeting_date=day(self.clock.now().date()),
            )
        )
        await p.registrar.Promulgate(rpb.PromulgateRequest(name=dogs.name))
        self.clock.advance(days=31)
        await self.system.apps["registry"].service.run_scheduler()
        await self.settle()

        fireworks = await p.to_in_force("赤峰市烟花爆竹燃放管理规定", FIREWORKS)
        await p.registrar.Repeal(rpb.RepealRequest(name=fireworks.name, reason="上位法已修改"))
        self.ids["fireworks"] = fireworks.name.split("/")[1]
        markup = await p.to_in_force("赤峰市<i>标记</i>测试办法", MARKUP)
        self.ids["markup"] = markup.name.split("/")[1]
        # In force until a test declares it invalid (no other test counts it).
        roads = await p.to_in_force("赤峰市临时占用道路管理办法", ROADS)
        self.ids["roads"] = roads.name.split("/")[1]
        # A national law, imported: read here, reviewed by the NPC Standing Committee, not here.
        law = await p.registrar.ImportDocument(
            one_version(
                "law-1",
                pb.DOCUMENT_KIND_NATIONAL_LAW,
                "全国人民代表大会常务委员会",
                "中华人民共和国测试法",
                pb.VERSION_STATE_IN_FORCE,
                "2020-01-01",
                body="第一条 为了测试国家法律，制定本法。",
            )
        )
        self.ids["law"] = law.name.split("/")[1]

        bikes = await p.create("赤峰市共享单车停放管理办法", BIKES)
        today = self.clock.now().date()
        await p.drafter.OpenPublicComment(
            rpb.OpenPublicCommentRequest(
                name=bikes.name, start_date=day(today), end_date=day(today + dt.timedelta(days=14))
            )
        )
        self.ids["bikes"] = bikes.name.split("/")[1]
        secret = await p.create("赤峰市内部草案管理办法", SECRET_DRAFT)
        self.ids["secret"] = secret.name.split("/")[1]
        await self.settle()
