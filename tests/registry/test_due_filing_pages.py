"""The filings due are listed a page at a time from the store's table of unmet obligations, after the
last one's (due, document, version, recipient): never every obligation due at once (hundreds of
thousands when that many are overdue), and the pages together are the whole list, each once."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import TypeVar

import grpc
import pytest
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock
from normreg_common.paging import IdCursor, PageTokens, fingerprint
from normreg_common.profile import JurisdictionProfile
from normreg_registry.adapters.memory import InMemoryRepository, InMemoryUnitOfWork
from normreg_registry.application import service as registry_service
from normreg_registry.application.ports import UNFILED_START, RegistryRepository, UnfiledKey, UnfiledObligation
from normreg_registry.application.service import ImportItem, RegistryService
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.entrypoints import due_pages

from tests.harness import System, field_violations, one_version
from tests.registry.test_domain_lifecycle import REGISTRAR
from tests.registry.test_rules import T0

T = TypeVar("T")
STORE_PAGE = 4


class RecordingRepository(InMemoryRepository):
    limits: list[int]

    def unfiled_after(self, until: dt.date, after: UnfiledKey, limit: int) -> list[UnfiledObligation]:
        self.limits.append(limit)
        return super().unfiled_after(until, after, limit)


class RecordingUnitOfWork(InMemoryUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.limits: list[int] = []

    async def read(self, work: Callable[[RegistryRepository], T]) -> T:
        store = RecordingRepository(self.tables, read_only=True)
        store.limits = self.limits
        return work(store)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_service, "DUE_READ_PAGE", STORE_PAGE)


async def normative_documents(days_ago: list[int]) -> tuple[RegistryService, RecordingUnitOfWork]:
    uow = RecordingUnitOfWork()
    service = RegistryService(uow, FakeClock(T0), JurisdictionProfile())
    today = T0.date()
    items = [
        ImportItem(
            f"due-{i}",
            Kind.NORMATIVE_DOCUMENT,
            "赤峰市人民政府",
            [
                ImportedVersion(
                    f"赤峰市第{i}号办法",
                    "第一条 为了测试，制定本办法。",
                    State.IN_FORCE,
                    today - dt.timedelta(days=ago),
                    today - dt.timedelta(days=ago),
                )
            ],
        )
        for i, ago in enumerate(days_ago)
    ]
    docs = await service.import_documents(REGISTRAR, items)
    assert all(isinstance(d, Document) for d in docs)
    # Imported versions owe no filing the registry knows of: each is given the obligations of a
    # version promulgated here that day, one to a recipient not recorded, and the first three
    # several, as the routing table gives them, so that a version's recipients straddle pages.
    for i, (doc, ago) in enumerate(zip(docs, days_ago, strict=True)):
        assert isinstance(doc, Document)
        due = today - dt.timedelta(days=ago) + dt.timedelta(days=30)
        recipients = ("", "内蒙古自治区人民政府", "赤峰市人大常委会") if i < 3 else ("",)
        owed = [UnfiledObligation(doc.id, 1, r, due) for r in recipients]
        await uow.write(lambda s, doc=doc, due=due, owed=owed: s.schedule(doc.id, due, owed))
    return service, uow


async def test_pages_of_due_filings_are_the_whole_list_in_store_order_each_read_a_store_page_at_a_time() -> None:
    service, uow = await normative_documents([40, 5, 40, 0, 20, 5, 33])
    obligations = await uow.read(lambda s: s.unfiled_after(T0.date() + dt.timedelta(days=30), UNFILED_START, 1000))
    assert len(obligations) == 7 + 3 * 2
    uow.limits.clear()
    listed: list[tuple[str, str, dt.date]] = []
    after: UnfiledKey = UNFILED_START
    more = True
    while more:
        page, more = await service.due_filings_page(REGISTRAR, 30, after=after, size=3)
        assert len(page) <= 3 and (page or not more)
        listed += [(d.document, d.recipient, d.due_date) for _, d in page]
        after = page[-1][0] if page else after
    assert listed == [(f"documents/{o.document}/versions/{o.version}", o.recipient, o.due) for o in obligations]
    assert [d.overdue for d in await service.due_filings(REGISTRAR, 30)] == [o.due < T0.date() for o in obligations]
    # Never more than a store page asked for, however many are due.
    assert uow.limits and set(uow.limits) == {STORE_PAGE}


async def test_list_due_filings_follows_its_page_tokens_and_refuses_a_bad_one_on_page_token(
    system: System, clock: FakeClock
) -> None:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    today = clock.now().date()
    for n in range(4):
        request = one_version(
            f"due-{n}",
            pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            "赤峰市人民政府",
            f"赤峰市第{n}号办法",
            pb.VERSION_STATE_IN_FORCE,
            today - dt.timedelta(days=10 * n),
            today,
        )
        reply = await registrar.ImportDocuments(rpb.ImportDocumentsRequest(documents=[request]))
        # An imported version owes no filing the registry knows of: given one, as a promulgation
        # here leaves it.
        doc_id = reply.results[0].document.removeprefix("documents/")
        owed = [UnfiledObligation(doc_id, 1, "", today - dt.timedelta(days=10 * n - 30))]
        await system.apps["registry"].service._uow.write(
            lambda s, doc_id=doc_id, owed=owed: s.schedule(doc_id, owed[0].due, owed)
        )
    whole = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
    assert len(whole.filings) == 4 and whole.next_page_token == ""
    paged: list[rpb.DueFiling] = []
    token = ""
    while True:
        page = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60, page_size=3, page_token=token))
        assert len(page.filings) <= 3
        paged += page.filings
        token = page.next_page_token
        if not token:
            break
    assert paged == list(whole.filings)
    first = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60, page_size=3))
    forged = PageTokens("registry.dueFilings", IdCursor()).encode("x", {})
    other_list = PageTokens("registry.documents", IdCursor()).encode("abc", {"within_days": 60})
    for request, field in (
        (rpb.ListDueFilingsRequest(within_days=30, page_token=first.next_page_token), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_token=forged), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_token=other_list), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_token=_token("abc", 60)), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_token=_token("2026-13-45/abc/1/国务院", 60)), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_token="t1.!!"), "page_token"),
        (rpb.ListDueFilingsRequest(within_days=60, page_size=-1), "page_size"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await registrar.ListDueFilings(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(err.value) == [field]


def _token(cursor: str, within_days: int) -> str:
    """A token of this list and query whose cursor is what the caller wrote."""
    raw = json.dumps({"k": "registry.dueFilings", "p": cursor, "q": fingerprint({"within_days": within_days})})
    return "t1." + base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_a_page_may_end_on_any_recipient_a_body_could_be_named_and_its_token_reads_back() -> None:
    query = {"within_days": 7}
    for recipient in ("", "国务院", "国" * 1000, "a/b"):
        key = (dt.date(2026, 4, 1), "a-b", 12, recipient)
        assert due_pages.decode(due_pages.encode(key, query), query) == key
