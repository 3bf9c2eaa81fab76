"""The contract of the registry's repository port and unit of work. Every adapter's test class
subclasses RegistryRepositoryContract and provides the `uow` fixture (a fresh, empty, open store);
the same tests then run on each, so a new adapter (PostgreSQL) is judged by the same rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from normreg_common.errors import AlreadyExists
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.principal import Role
from normreg_registry.application.events import to_records
from normreg_registry.application.ports import (
    CLOCK_START,
    UNFILED_START,
    DocumentFilter,
    RegistryRepository,
    UnfiledObligation,
    UnitOfWork,
)
from normreg_registry.domain.cleanup import Campaign, Outcome
from normreg_registry.domain.history import verify_chain
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document

from tests.conftest import SHANGHAI, principal

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
DRAFTER = principal("alice", Role.DRAFTER, org="市司法局")


def draft(doc_id: str, org: str = "市司法局", kind: Kind = Kind.NORMATIVE_DOCUMENT) -> Document:
    return Document.create(
        id=doc_id,
        kind=kind,
        title=f"办法 {doc_id}",
        body="第一条 为了规范管理，制定本办法。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
        provisional=False,
        principal=principal("alice", Role.DRAFTER, org=org),
        at=T0,
    )


def save(store: RegistryRepository, doc: Document) -> Document:
    store.save(doc, to_records(doc, doc.pop_changes()))
    return doc


def delivery(offset: int, topic: str = "normreg.reviews") -> Delivery:
    return Delivery(topic=topic, partition=0, offset=offset, key="k", value=b"{}")


class Boom(Exception):
    pass


class RegistryRepositoryContract:
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        raise NotImplementedError

    async def test_a_saved_document_reads_back_equal(self, uow: UnitOfWork) -> None:
        doc = draft("d1")
        await uow.write(lambda s: save(s, doc))
        loaded = await uow.read(lambda s: s.get("d1"))
        assert loaded == doc
        assert loaded is not doc
        assert await uow.read(lambda s: s.get("nope")) is None

    async def test_a_unit_that_raises_leaves_nothing_behind(self, uow: UnitOfWork) -> None:
        await uow.write(lambda s: save(s, draft("d1")))

        def fail(s: RegistryRepository) -> None:
            doc = s.get("d1")
            assert doc is not None
            doc.update_draft(DRAFTER, T0, title="改", body=None, etag="")
            save(s, doc)
            save(s, draft("d2"))
            s.remember("create", "r1", "d2")
            s.hold_number("赤政规〔2026〕1号", "赤政规", 2026, 1, "documents/d2")
            s.add_comment("documents/d1", 1, "意见", T0)
            s.accept_sequence("src", "documents/d1", 5)
            raise Boom

        with pytest.raises(Boom):
            await uow.write(fail)
        loaded = await uow.read(lambda s: s.get("d1"))
        assert loaded is not None and loaded.latest.title == "办法 d1" and loaded.sequence == 1
        assert await uow.read(lambda s: s.all_ids()) == ["d1"]
        assert await uow.read(lambda s: s.remembered("create", "r1")) is None
        assert await uow.read(lambda s: s.number_holder("赤政规〔2026〕1号")) is None
        assert await uow.read(lambda s: s.comments("documents/d1", 0, 10)) == []
        assert len(await uow.read(lambda s: s.history("documents/d1"))) == 1
        assert await uow.write(lambda s: s.accept_sequence("src", "documents/d1", 5))

    async def test_an_isolated_part_that_raises_is_undone_and_the_rest_of_the_unit_stands(
        self, uow: UnitOfWork
    ) -> None:
        def refused(s: RegistryRepository) -> None:
            save(s, draft("d2"))
            s.remember("import", "r2", "d2")
            s.hold_number("赤政规〔2026〕2号", "赤政规", 2026, 2, "documents/d2")
            raise Boom

        def batch(s: RegistryRepository) -> int:
            s.isolated(lambda: (save(s, draft("d1")), s.remember("import", "r1", "d1")))
            with pytest.raises(Boom):
                s.isolated(lambda: refused(s))
            s.isolated(lambda: save(s, draft("d3")))
            return 3

        assert await uow.write(batch) == 3
        assert await uow.read(lambda s: s.all_ids()) == ["d1", "d3"]
        assert await uow.read(lambda s: s.remembered("import", "r1")) == "d1"
        assert await uow.read(lambda s: s.remembered("import", "r2")) is None
        assert await uow.read(lambda s: s.number_holder("赤政规〔2026〕2号")) is None
        assert await uow.read(lambda s: s.history("documents/d2")) == []
        assert [d for _, d, _, _ in await uow.read(lambda s: list(s.events_of_types(["created"])))] == [
            "documents/d1",
            "documents/d3",
        ]

    async def test_history_is_one_linked_entry_per_change(self, uow: UnitOfWork) -> None:
        doc = draft("d1")
        await uow.write(lambda s: save(s, doc))
        doc.update_draft(DRAFTER, T0, title="二稿", body=None, etag="")
        doc.submit_for_review(DRAFTER, T0)
        await uow.write(lambda s: save(s, doc))
        chain = await uow.read(lambda s: s.history("documents/d1"))
        assert [e.action for e in chain] == ["created", "draft_updated", "review_requested"]
        assert [e.sequence for e in chain] == [1, 2, 3]
        assert verify_chain("documents/d1", chain) == []
        assert chain[2].from_state == "DRAFTING" and chain[2].to_state == "LEGALITY_REVIEW"
        assert chain[0].actor == "alice"

    async def test_events_are_kept_in_log_order_by_type(self, uow: UnitOfWork) -> None:
        a, b = draft("a1"), draft("b1")
        await uow.write(lambda s: save(s, b))
        await uow.write(lambda s: save(s, a))
        b.submit_for_review(DRAFTER, T0)
        await uow.write(lambda s: save(s, b))
        found = await uow.read(lambda s: list(s.events_of_types(["created", "review_requested"])))
        assert [(t, d, v) for t, d, v, _ in found] == [
            ("created", "documents/b1", 1),
            ("created", "documents/a1", 1),
            ("review_requested", "documents/b1", 1),
        ]
        assert json.loads(found[2][3])["subject"] == "documents/b1"
        assert await uow.read(lambda s: list(s.events_of_types(["promulgated"]))) == []

    async def test_find_pages_in_id_order_with_filters(self, uow: UnitOfWork) -> None:
        docs = [draft("c3"), draft("a1", org="市教育局"), draft("b2"), draft("d4", kind=Kind.GOVERNMENT_RULE)]
        docs[2].submit_for_review(DRAFTER, T0)
        for d in docs:
            await uow.write(lambda s, d=d: save(s, d))

        everything = await uow.read(lambda s: [d.id for d in s.find(DocumentFilter(), after="", limit=10)])
        assert everything == ["a1", "b2", "c3", "d4"]
        assert await uow.read(lambda s: [d.id for d in s.find(DocumentFilter(), after="a1", limit=2)]) == [
            "b2",
            "c3",
        ]
        by_state = DocumentFilter(state=State.LEGALITY_REVIEW.value)
        assert await uow.read(lambda s: [d.id for d in s.find(by_state, after="", limit=10)]) == ["b2"]
        by_org = DocumentFilter(drafting_org="市教育局")
        assert await uow.read(lambda s: [d.id for d in s.find(by_org, after="", limit=10)]) == ["a1"]
        by_kind = DocumentFilter(kind=Kind.GOVERNMENT_RULE.value)
        assert await uow.read(lambda s: [d.id for d in s.find(by_kind, after="", limit=10)]) == ["d4"]
        by_body = DocumentFilter(issuing_body="其他")
        assert await uow.read(lambda s: [d.id for d in s.find(by_body, after="", limit=10)]) == []
        assert await uow.read(lambda s: s.ids_with_states(["LEGALITY_REVIEW", "DRAFTING"])) == ["a1", "b2", "c3", "d4"]
        assert await uow.read(lambda s: s.ids_with_states(["LEGALITY_REVIEW"])) == ["b2"]
        assert await uow.read(lambda s: s.all_ids()) == ["a1", "b2", "c3", "d4"]

    async def test_documents_due_are_read_a_page_at_a_time_by_wake_day_then_id(self, uow: UnitOfWork) -> None:
        today = T0.date()
        days = {
            "e5": today - dt.timedelta(days=3),
            "a1": today,
            "c3": today - dt.timedelta(days=3),
            "b2": today + dt.timedelta(days=1),
            "d4": None,
            "f6": today - dt.timedelta(days=40),
            "g7": today,
        }
        for doc_id, day in days.items():
            await uow.write(lambda s, doc_id=doc_id, day=day: s.schedule(doc_id, day, []))
        pages: list[list[tuple[dt.date, str]]] = []
        after = CLOCK_START
        while page := await uow.read(lambda s, after=after: s.clock_due(today, after, 2)):
            pages.append(page)
            after = page[-1]
        assert [[doc_id for _, doc_id in page] for page in pages] == [["f6", "c3"], ["e5", "a1"], ["g7"]]
        assert pages[0] == [(today - dt.timedelta(days=40), "f6"), (today - dt.timedelta(days=3), "c3")]
        # Nothing due: one empty page.
        assert await uow.read(lambda s: s.clock_due(today - dt.timedelta(days=41), CLOCK_START, 2)) == []

    async def test_documents_moved_after_their_page_neither_skip_another_nor_come_back(self, uow: UnitOfWork) -> None:
        today = T0.date()
        ids = [f"d{i:02}" for i in range(10)]
        for i, doc_id in enumerate(ids):
            day = today - dt.timedelta(days=i % 3)
            await uow.write(lambda s, doc_id=doc_id, day=day: s.schedule(doc_id, day, []))
        seen: list[str] = []
        after = CLOCK_START
        while page := await uow.read(lambda s, after=after: s.clock_due(today, after, 3)):
            seen += [doc_id for _, doc_id in page]
            after = page[-1]
            for n, (_, doc_id) in enumerate(page):
                # As the scheduler leaves them: moved to a later day, to none, or (failed) kept.
                day = [today + dt.timedelta(days=30), None, None][n]
                if n < 2:
                    await uow.write(lambda s, doc_id=doc_id, day=day: s.schedule(doc_id, day, []))
        assert sorted(seen) == ids
        assert len(seen) == len(set(seen))
        # What was kept is due again at the next run, and only that.
        kept = await uow.read(lambda s: s.clock_due(today, CLOCK_START, 100))
        assert {doc_id for _, doc_id in kept} == {seen[i] for i in range(2, len(seen), 3)}

    async def test_unmet_filings_are_read_a_page_at_a_time_by_due_day_document_version_and_recipient(
        self, uow: UnitOfWork
    ) -> None:
        day = dt.date(2026, 4, 1)
        recipients = ("国务院", "内蒙古自治区人民政府", "")
        owed = {
            # Names in code point order whatever the database's collation; version 10 after 2.
            "b-1": [UnfiledObligation("b-1", v, r, day) for v in (2, 10) for r in recipients],
            "b1": [UnfiledObligation("b1", 1, "国务院", day)],
            "a": [UnfiledObligation("a", 1, "国务院", day + dt.timedelta(days=1))],
            "c": [UnfiledObligation("c", 1, "国务院", day - dt.timedelta(days=1))],
        }
        for doc_id, obligations in owed.items():
            await uow.write(lambda s, d=doc_id, o=obligations: s.schedule(d, day, o))
        expected = sorted((o for os in owed.values() for o in os), key=lambda o: o.key)
        read: list[UnfiledObligation] = []
        after = UNFILED_START
        while page := await uow.read(lambda s, after=after: s.unfiled_after(dt.date(2026, 12, 31), after, 2)):
            assert len(page) <= 2
            read += page
            after = page[-1].key
        assert read == expected
        assert [o.document for o in await uow.read(lambda s: s.unfiled_after(day, UNFILED_START, 100))] == [
            "c",
            *["b-1"] * 6,
            "b1",
        ]

    async def test_idempotency_keys_are_remembered_once(self, uow: UnitOfWork) -> None:
        await uow.write(lambda s: s.remember("create:alice", "r1", "d1"))
        assert await uow.read(lambda s: s.remembered("create:alice", "r1")) == "d1"
        assert await uow.read(lambda s: s.remembered("create:bob", "r1")) is None
        with pytest.raises(AlreadyExists):
            await uow.write(lambda s: s.remember("create:alice", "r1", "d2"))
        assert await uow.read(lambda s: s.remembered("create:alice", "r1")) == "d1"

    async def test_a_printed_number_is_held_once_and_for_good(self, uow: UnitOfWork) -> None:
        await uow.write(lambda s: s.hold_number("赤政规〔2026〕1号", "赤政规", 2026, 1, "documents/a"))
        await uow.write(lambda s: s.hold_number("赤政规〔2026〕7号", "赤政规", 2026, 7, "documents/b"))
        await uow.write(lambda s: s.hold_number("赤政发〔2026〕9号", "赤政发", 2026, 9, "documents/c"))
        assert await uow.read(lambda s: s.number_holder("赤政规〔2026〕1号")) == "documents/a"
        assert await uow.read(lambda s: s.number_holder("赤政规〔2026〕2号")) is None
        assert await uow.read(lambda s: s.highest_sequence("赤政规", 2026)) == 7
        assert await uow.read(lambda s: s.highest_sequence("赤政规", 2025)) == 0
        with pytest.raises(AlreadyExists):
            await uow.write(lambda s: s.hold_number("赤政规〔2026〕1号", "赤政规", 2026, 1, "documents/z"))
        assert await uow.read(lambda s: s.number_holder("赤政规〔2026〕1号")) == "documents/a"

    async def test_registration_numbers_run_per_year(self, uow: UnitOfWork) -> None:
        assert [await uow.write(lambda s: s.next_registration(2026)) for _ in range(3)] == [1, 2, 3]
        assert await uow.write(lambda s: s.next_registration(2027)) == 1

    async def test_comments_page_and_take_a_reply(self, uow: UnitOfWork) -> None:
        ids = [await uow.write(lambda s, i=i: s.add_comment("documents/d1", 1, f"意见{i}", T0)) for i in range(3)]
        await uow.write(lambda s: s.add_comment("documents/d2", 1, "别处", T0))
        assert ids == sorted(ids) and len(set(ids)) == 3
        first = await uow.read(lambda s: s.comments("documents/d1", 0, 2))
        assert [c.text for c in first] == ["意见0", "意见1"]
        rest = await uow.read(lambda s: s.comments("documents/d1", first[-1].id, 2))
        assert [c.text for c in rest] == ["意见2"]
        await uow.write(lambda s: s.reply(ids[1], "采纳"))
        one = await uow.read(lambda s: s.comment("documents/d1", 1, ids[1]))
        assert one is not None and one.reply == "采纳" and one.created_at == T0.isoformat()
        assert await uow.read(lambda s: s.comment("documents/d2", 1, ids[1])) is None
        assert await uow.read(lambda s: s.comment("documents/d1", 2, ids[1])) is None

    async def test_comments_are_listed_under_one_version_or_every_version(self, uow: UnitOfWork) -> None:
        for version, text in [(1, "一"), (2, "二"), (1, "三"), (2, "四")]:
            await uow.write(lambda s, v=version, t=text: s.add_comment("documents/d1", v, t, T0))
        second = await uow.read(lambda s: s.comments("documents/d1", 0, 10, 2))
        assert [(c.version, c.text) for c in second] == [(2, "二"), (2, "四")]
        page = await uow.read(lambda s: s.comments("documents/d1", 0, 1, 1))
        rest = await uow.read(lambda s: s.comments("documents/d1", page[-1].id, 10, 1))
        assert [c.text for c in page + rest] == ["一", "三"]
        every = await uow.read(lambda s: s.comments("documents/d1", 0, 10))
        assert [c.text for c in every] == ["一", "二", "三", "四"]
        assert await uow.read(lambda s: s.comments("documents/d1", 0, 10, 3)) == []

    async def test_comments_are_counted_per_version_and_their_events_are_not_history(self, uow: UnitOfWork) -> None:
        await uow.write(lambda s: save(s, draft("d1")))
        for document, version in [("documents/d1", 1), ("documents/d1", 1), ("documents/d1", 2), ("documents/d2", 1)]:
            await uow.write(lambda s, d=document, v=version: s.add_comment(d, v, "意见", T0))
        counts = await uow.read(
            lambda s: [s.comment_count("documents/d1", 1), s.comment_count("documents/d1", 2), s.comment_count("x", 1)]
        )
        assert counts == [2, 1, 0]
        await uow.write(lambda s: s.publish(Record("normreg.documents", "documents/d1", b"{}")))
        assert len(await uow.read(lambda s: s.history("documents/d1"))) == 1

    async def test_campaigns_read_back_as_saved(self, uow: UnitOfWork) -> None:
        campaign = Campaign("c1", "2026年清理", ["documents/a", "documents/b"], T0)
        await uow.write(lambda s: s.save_campaign(campaign))
        campaign.record(Outcome("documents/a", "RETAIN", ""))
        await uow.write(lambda s: s.save_campaign(campaign))
        assert await uow.read(lambda s: s.campaign("c1")) == campaign
        assert await uow.read(lambda s: s.campaign("c2")) is None

    async def test_inbound_sequences_drop_what_was_applied(self, uow: UnitOfWork) -> None:
        assert await uow.write(lambda s: s.accept_sequence("review", "reviews/r1", 2))
        assert not await uow.write(lambda s: s.accept_sequence("review", "reviews/r1", 2))
        assert not await uow.write(lambda s: s.accept_sequence("review", "reviews/r1", 1))
        assert await uow.write(lambda s: s.accept_sequence("review", "reviews/r2", 1))
        assert await uow.write(lambda s: s.accept_sequence("review", "reviews/r1", 3))
        assert await uow.read(lambda s: s.position("registry", "normreg.reviews", 0)) is None
        await uow.write(lambda s: s.save_positions("registry", [delivery(4), delivery(2)]))
        assert await uow.read(lambda s: s.position("registry", "normreg.reviews", 0)) == 4
        await uow.write(lambda s: s.save_positions("registry", [delivery(3)]))
        assert await uow.read(lambda s: s.position("registry", "normreg.reviews", 0)) == 4
        assert await uow.read(lambda s: s.position("search", "normreg.reviews", 0)) is None
