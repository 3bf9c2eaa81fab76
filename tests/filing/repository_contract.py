"""The contract of the filing review service's repository port and unit of work. Every adapter's test
class subclasses FilingRepositoryContract and provides the `uow` fixture (a fresh, empty, open store)
and `outbox` (what its relay would publish, in order)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg_common.eventlog.port import Delivery, Record
from normreg_common.events import FILINGS_TOPIC
from normreg_filing.application.ports import FilingRepository, UnitOfWork
from normreg_filing.domain.lifecycle import FilingState
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion

from tests.filing.supervision_stock import DAYS, Arrival, Sighting, Suggestion, check_against_whole_lists, stocks, store
from tests.filing.test_filing_review_domain import PROVINCE, REVIEWER, at, received, seen


def event(f: ReceivedFiling, n: int) -> Record:
    return Record(FILINGS_TOPIC, f.document, f"{f.name}:{n}".encode())


def suggestion(id: str, sender: str = "chifeng") -> ReviewSuggestion:
    return ReviewSuggestion.submit(
        id=id,
        document="documents/a1",
        sender=sender,
        provisions=["第三条"],
        reasons="与上位法抵触",
        contact="13800000000",
        requester_kind="citizen",
        at=at(12),
        profile=PROVINCE,
    )


def same(a: ReceivedFiling | None, b: ReceivedFiling) -> bool:
    """Equal as stored: the recorded changes are not kept."""
    return a is not None and dataclasses.replace(a, changes=[]) == dataclasses.replace(b, changes=[])


class Boom(Exception):
    pass


class FilingRepositoryContract:
    @pytest.fixture
    def uow(self) -> UnitOfWork:
        raise NotImplementedError

    async def outbox(self, uow: UnitOfWork) -> list[Record]:
        raise NotImplementedError

    async def test_a_saved_filing_reads_back_equal_and_updates_in_place(self, uow: UnitOfWork) -> None:
        f = received()
        await uow.write(lambda r: r.save_filing(f))
        assert same(await uow.read(lambda r: r.filing(f.id)), f)
        assert same(await uow.read(lambda r: r.filing_of(f.sender, f.document, f.recipient)), f)
        f.register(REVIEWER, at(11), PROVINCE, missing=["drafting_explanation"], note="内部意见")
        await uow.write(lambda r: r.save_filing(f))
        loaded = await uow.read(lambda r: r.filing(f.id))
        assert same(loaded, f)
        assert loaded is not None and loaded.state == FilingState.MATERIALS_REQUESTED
        assert loaded.internal_notes == ["内部意见"] and loaded.changes == []
        assert await uow.read(lambda r: r.filing("missing")) is None
        assert await uow.read(lambda r: r.filing_of(f.sender, f.document, "国务院")) is None

    async def test_what_a_caller_changes_after_loading_is_not_stored_until_saved(self, uow: UnitOfWork) -> None:
        f = received()
        await uow.write(lambda r: r.save_filing(f))

        def change_without_saving(r: FilingRepository) -> None:
            loaded = r.filing(f.id)
            assert loaded is not None
            loaded.register(REVIEWER, at(11), PROVINCE, missing=[], note="")

        await uow.write(change_without_saving)
        loaded = await uow.read(lambda r: r.filing(f.id))
        assert loaded is not None and loaded.state == FilingState.RECEIVED

    async def test_one_filing_per_document_and_recipient(self, uow: UnitOfWork) -> None:
        f = received()
        await uow.write(lambda r: r.save_filing(f))
        twin = dataclasses.replace(f, id="another")
        with pytest.raises(Exception):  # noqa: B017 - each database names its own integrity error
            await uow.write(lambda r: r.save_filing(twin))
        assert [x.id for x in await uow.read(lambda r: r.filings())] == [f.id]

    async def test_listings_follow_arrival_and_filter_by_sender_and_state(self, uow: UnitOfWork) -> None:
        filings = [
            received("documents/c/versions/1"),
            received("documents/a/versions/1", sender="wuhai"),
            received("documents/b/versions/1"),
        ]
        for f in filings:
            await uow.write(lambda r, f=f: r.save_filing(f))
        filings[2].register(REVIEWER, at(11), PROVINCE, missing=[], note="")
        await uow.write(lambda r: r.save_filing(filings[2]))
        assert [f.id for f in await uow.read(lambda r: r.filings())] == [f.id for f in filings]
        assert [f.id for f in await uow.read(lambda r: r.filings(sender="chifeng"))] == [filings[0].id, filings[2].id]
        registered = await uow.read(lambda r: r.filings(state=FilingState.REGISTERED.value))
        assert [f.id for f in registered] == [filings[2].id]
        assert await uow.read(lambda r: r.filings(sender="wuhai", state=FilingState.REGISTERED.value)) == []

    async def test_filings_are_read_a_page_at_a_time_in_arrival_order_with_filters(self, uow: UnitOfWork) -> None:
        filings = [
            received("documents/c/versions/1"),
            received("documents/a/versions/1", sender="wuhai"),
            received("documents/b/versions/1"),
            dataclasses.replace(received("documents/d/versions/1"), recipient="另一机关"),
            received("documents/e/versions/1"),
        ]
        for f in filings:
            await uow.write(lambda r, f=f: r.save_filing(f))
        # Updated in place: its place in arrival order stays.
        filings[2].register(REVIEWER, at(11), PROVINCE, missing=[], note="")
        await uow.write(lambda r: r.save_filing(filings[2]))

        pages: list[list[tuple[int, ReceivedFiling]]] = []
        after = 0
        while page := await uow.read(lambda r, after=after: r.filings_after(after, 2)):
            pages.append(page)
            after = page[-1][0]
        assert [len(p) for p in pages] == [2, 2, 1]
        read = [f for p in pages for _, f in p]
        assert [f.id for f in read] == [f.id for f in filings]
        assert same(read[2], filings[2])
        positions = [pos for p in pages for pos, _ in p]
        assert positions == sorted(set(positions)) and positions[0] > 0

        def ids(found: list[tuple[int, ReceivedFiling]]) -> list[str]:
            return [f.id for _, f in found]

        chifeng = await uow.read(lambda r: r.filings_after(0, 10, sender="chifeng"))
        assert ids(chifeng) == [filings[i].id for i in (0, 2, 3, 4)]
        after_first = await uow.read(lambda r: r.filings_after(chifeng[0][0], 2, sender="chifeng"))
        assert ids(after_first) == [filings[2].id, filings[3].id]
        registered = await uow.read(lambda r: r.filings_after(0, 10, state=FilingState.REGISTERED.value))
        assert ids(registered) == [filings[2].id]
        other = await uow.read(lambda r: r.filings_after(0, 10, recipient="另一机关"))
        assert ids(other) == [filings[3].id]
        assert await uow.read(lambda r: r.filings_after(positions[-1], 10)) == []

    async def test_events_are_stored_with_their_change_in_order(self, uow: UnitOfWork) -> None:
        f, g = received("documents/a/versions/1"), received("documents/b/versions/1")
        await uow.write(lambda r: r.save_filing(f, [event(f, 1), event(f, 2)]))
        await uow.write(lambda r: (r.save_filing(g, [event(g, 1)]), r.save_filing(f, [event(f, 3)])))
        assert await self.outbox(uow) == [event(f, 1), event(f, 2), event(g, 1), event(f, 3)]
        # Read back through the port in write order, paged by position; none acknowledged yet.
        entries = await uow.read(lambda r: r.outbox(0, 10))
        assert [e.record for e in entries] == await self.outbox(uow)
        positions = [e.position for e in entries]
        assert positions == sorted(positions) and positions[0] > 0 and not any(e.sent for e in entries)
        rest = await uow.read(lambda r: r.outbox(positions[1], 2))
        assert [e.position for e in rest] == positions[2:4]
        assert await uow.read(lambda r: r.outbox(positions[-1], 10)) == []

    async def test_a_unit_that_raises_leaves_nothing_behind_not_even_its_events(self, uow: UnitOfWork) -> None:
        f = received()
        await uow.write(lambda r: r.save_filing(f, [event(f, 1)]))

        def fail(r: FilingRepository) -> None:
            loaded = r.filing(f.id)
            assert loaded is not None
            loaded.register(REVIEWER, at(11), PROVINCE, missing=[], note="")
            r.save_filing(loaded, [event(f, 2)])
            other = received("documents/b/versions/1")
            r.save_filing(other, [event(other, 1)])
            r.save_suggestion(suggestion("s1"))
            r.see(seen("documents/z/versions/1"))
            r.accept_sequence("chifeng:/normreg/registry", "documents/a", 9)
            r.save_positions("filing:chifeng", [Delivery("normreg.documents", 0, 5, "k", b"")])
            raise Boom

        with pytest.raises(Boom):
            await uow.write(fail)
        loaded = await uow.read(lambda r: r.filing(f.id))
        assert loaded is not None and loaded.state == FilingState.RECEIVED
        assert [x.id for x in await uow.read(lambda r: r.filings())] == [f.id]
        assert await uow.read(lambda r: r.suggestions()) == []
        assert await uow.read(lambda r: r.seen()) == []
        assert await uow.read(lambda r: r.position("filing:chifeng", "normreg.documents", 0)) is None
        assert await self.outbox(uow) == [event(f, 1)]
        assert await uow.write(lambda r: r.accept_sequence("chifeng:/normreg/registry", "documents/a", 9))

    async def test_suggestions_read_back_update_and_list_by_sender(self, uow: UnitOfWork) -> None:
        one, two, three = suggestion("s1"), suggestion("s2", sender="wuhai"), suggestion("s3")
        for s in (one, two, three):
            await uow.write(lambda r, s=s: r.save_suggestion(s))
        assert await uow.read(lambda r: r.suggestion("s1")) == one
        assert await uow.read(lambda r: r.suggestion("nope")) is None
        one.answer(REVIEWER, at(20), PROVINCE, "已研究，答复如下")
        await uow.write(lambda r: r.save_suggestion(one))
        loaded = await uow.read(lambda r: r.suggestion("s1"))
        assert loaded == one and loaded is not None and loaded.answered_on_time
        assert [s.id for s in await uow.read(lambda r: r.suggestions())] == ["s1", "s2", "s3"]
        assert [s.id for s in await uow.read(lambda r: r.suggestions("chifeng"))] == ["s1", "s3"]

    async def test_suggestions_are_read_a_page_at_a_time_in_submission_order(self, uow: UnitOfWork) -> None:
        made = [suggestion("s1"), suggestion("s2", sender="wuhai"), suggestion("s3"), suggestion("s4")]
        for s in made:
            await uow.write(lambda r, s=s: r.save_suggestion(s))
        made[0].answer(REVIEWER, at(20), PROVINCE, "已研究")
        await uow.write(lambda r: r.save_suggestion(made[0]))
        first = await uow.read(lambda r: r.suggestions_after(0, 3))
        rest = await uow.read(lambda r: r.suggestions_after(first[-1][0], 3))
        assert [s.id for _, s in first + rest] == ["s1", "s2", "s3", "s4"]
        assert first[0][1] == made[0]
        assert await uow.read(lambda r: r.suggestions_after(rest[-1][0], 3)) == []
        chifeng = await uow.read(lambda r: r.suggestions_after(first[0][0], 5, sender="chifeng"))
        assert [s.id for _, s in chifeng] == ["s3", "s4"]

    async def test_a_promulgation_is_seen_once_and_listed_in_order(self, uow: UnitOfWork) -> None:
        first = seen("documents/b/versions/1")
        await uow.write(lambda r: r.see(first))
        # Seen again (a stream read twice): the first sighting stands.
        await uow.write(lambda r: r.see(dataclasses.replace(first, title="改过的标题")))
        await uow.write(lambda r: r.see(seen("documents/a/versions/1")))
        await uow.write(lambda r: r.see(seen("documents/c/versions/1", sender="wuhai")))
        everything = await uow.read(lambda r: r.seen())
        assert [(p.sender, p.document) for p in everything] == [
            ("chifeng", "documents/a/versions/1"),
            ("chifeng", "documents/b/versions/1"),
            ("wuhai", "documents/c/versions/1"),
        ]
        assert everything[1] == first
        assert [p.document for p in await uow.read(lambda r: r.seen("wuhai"))] == ["documents/c/versions/1"]

    async def test_missed_filings_are_read_after_a_position_in_deadline_order(self, uow: UnitOfWork) -> None:
        for document, promulgated in (("documents/c/versions/1", 0), ("documents/a/versions/1", 5)):
            await uow.write(lambda r, d=document, p=promulgated: r.see(seen(d, promulgated=p)))
        await uow.write(lambda r: r.see(seen("documents/b/versions/1", sender="wuhai")))
        first = await uow.read(lambda r: r.missing_after(0, 2))
        assert first is not None
        assert [p.document for _, p in first] == ["documents/c/versions/1", "documents/b/versions/1"]
        # The page's last sighting is filed meanwhile: the next page still starts after it.
        await uow.write(lambda r: r.save_filing(received("documents/b/versions/1", sender="wuhai")))
        rest = await uow.read(lambda r: r.missing_after(first[-1][0], 2))
        assert rest is not None and [p.document for _, p in rest] == ["documents/a/versions/1"]
        again = await uow.read(lambda r: r.missing_after(0, 5))
        assert again is not None
        assert [p.document for _, p in again] == ["documents/c/versions/1", "documents/a/versions/1"]
        due_c = seen("documents/c/versions/1").due_date
        later = await uow.read(lambda r: r.missing_after(0, 5, due_from=due_c + dt.timedelta(days=1)))
        assert later is not None and [p.document for _, p in later] == ["documents/a/versions/1"]
        earlier = await uow.read(lambda r: r.missing_after(0, 5, due_until=due_c))
        assert earlier is not None and [p.document for _, p in earlier] == ["documents/c/versions/1"]
        assert await uow.read(lambda r: r.missing_after(0, 5, sender="wuhai")) == []
        # A filing that arrived before its promulgation was seen: never missing.
        await uow.write(lambda r: r.save_filing(received("documents/d/versions/1")))
        await uow.write(lambda r: r.see(seen("documents/d/versions/1")))
        after_d = await uow.read(lambda r: r.missing_after(0, 5))
        assert after_d is not None and "documents/d/versions/1" not in [p.document for _, p in after_d]
        assert await uow.read(lambda r: r.missing_after(10**6, 5)) is None

    @settings(
        max_examples=25,
        deadline=None,
        # One store per adapter class, examples accumulating in it: each example compares over all of it.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
            HealthCheck.too_slow,
        ],
    )
    @given(stock=stocks, today=DAYS, size=st.integers(1, 4))
    async def test_missed_filings_by_page_and_reports_counted_by_the_store_equal_the_whole_list_answers(
        self, uow: UnitOfWork, stock: list[Sighting | Arrival | Suggestion], today: int, size: int
    ) -> None:
        await store(uow, stock)
        await check_against_whole_lists(uow, today, size)

    async def test_senders_are_every_sender_of_a_sighting_a_filing_or_a_suggestion_once(self, uow: UnitOfWork) -> None:
        assert await uow.read(lambda r: r.senders()) == []
        await uow.write(lambda r: r.see(seen("documents/a/versions/1", sender="wuhai")))
        await uow.write(lambda r: r.see(seen("documents/b/versions/1", sender="wuhai")))
        await uow.write(lambda r: r.save_filing(received(sender="chifeng")))
        await uow.write(lambda r: r.save_suggestion(suggestion("s1", sender="baotou")))
        await uow.write(lambda r: r.save_suggestion(suggestion("s2", sender="chifeng")))
        assert await uow.read(lambda r: r.senders()) == ["baotou", "chifeng", "wuhai"]

    async def test_inbound_sequences_and_positions(self, uow: UnitOfWork) -> None:
        assert await uow.write(lambda r: r.accept_sequence("chifeng:/normreg/registry", "documents/d1", 3))
        assert not await uow.write(lambda r: r.accept_sequence("chifeng:/normreg/registry", "documents/d1", 3))
        assert not await uow.write(lambda r: r.accept_sequence("chifeng:/normreg/registry", "documents/d1", 2))
        # Another sender's stream with the same subject is its own stream.
        assert await uow.write(lambda r: r.accept_sequence("wuhai:/normreg/registry", "documents/d1", 1))
        assert await uow.write(lambda r: r.accept_sequence("chifeng:/normreg/registry", "documents/d1", 4))
        batch = [Delivery("normreg.documents", 0, 7, "k", b""), Delivery("normreg.documents", 0, 5, "k", b"")]
        assert await uow.read(lambda r: r.position("filing:chifeng", "normreg.documents", 0)) is None
        await uow.write(lambda r: r.save_positions("filing:chifeng", batch))
        assert await uow.read(lambda r: r.position("filing:chifeng", "normreg.documents", 0)) == 7
        # Positions never go back (a batch replayed after a crash).
        await uow.write(lambda r: r.save_positions("filing:chifeng", batch[1:]))
        assert await uow.read(lambda r: r.position("filing:chifeng", "normreg.documents", 0)) == 7
        assert await uow.read(lambda r: r.position("filing:wuhai", "normreg.documents", 0)) is None

    async def test_a_document_is_received_or_owed_by_its_sender_when_a_version_was_filed_or_seen(
        self, uow: UnitOfWork
    ) -> None:
        await uow.write(lambda r: r.save_filing(received("documents/a1/versions/2")))
        await uow.write(lambda r: r.see(seen("documents/b7/versions/1", sender="wuhai")))

        asked = [
            ("chifeng", "documents/a1", None, True),
            ("chifeng", "documents/a1", 2, True),
            ("chifeng", "documents/a1", 1, False),
            ("wuhai", "documents/a1", None, False),
            ("wuhai", "documents/b7", None, True),
            ("wuhai", "documents/b7", 1, True),
            ("chifeng", "documents/b7", None, False),
            # A document whose name begins with another's is not it, nor are its versions.
            ("chifeng", "documents/a", None, False),
            ("chifeng", "documents/a1-x", None, False),
            ("chifeng", "documents/a1/versions", None, False),
        ]

        def answers(r: FilingRepository) -> list[bool]:
            return [r.received_or_owed(s, d, v) for s, d, v, _ in asked]

        assert await uow.read(answers) == [expected for *_, expected in asked]

    async def test_a_version_state_is_recorded_and_replaced_per_sender(self, uow: UnitOfWork) -> None:
        assert await uow.read(lambda r: r.version_states("chifeng", "documents/a1")) == {}
        await uow.write(lambda r: r.set_version_state("chifeng", "documents/a1", 1, "PROMULGATED"))
        await uow.write(lambda r: r.set_version_state("chifeng", "documents/a1", 2, "PROMULGATED"))
        await uow.write(lambda r: r.set_version_state("chifeng", "documents/a1", 1, "AMENDED"))
        await uow.write(lambda r: r.set_version_state("chifeng", "documents/a12", 1, "IN_FORCE", "NATIONAL_LAW"))
        # Another sender's document of the same name is another document.
        await uow.write(lambda r: r.set_version_state("wuhai", "documents/a1", 1, "REPEALED", "GOVERNMENT_RULE"))
        assert await uow.read(lambda r: r.version_states("chifeng", "documents/a1")) == {1: "AMENDED", 2: "PROMULGATED"}
        assert await uow.read(lambda r: r.version_states("wuhai", "documents/a1")) == {1: "REPEALED"}
        assert await uow.read(lambda r: r.version_kind("chifeng", "documents/a12")) == "NATIONAL_LAW"
        assert await uow.read(lambda r: r.version_kind("chifeng", "documents/a1")) == ""

        def fails(r: FilingRepository) -> None:
            r.set_version_state("chifeng", "documents/a1", 2, "REPEALED")
            raise Boom

        with pytest.raises(Boom):
            await uow.write(fails)
        assert await uow.read(lambda r: r.version_states("chifeng", "documents/a1")) == {1: "AMENDED", 2: "PROMULGATED"}

    async def test_a_filing_stored_before_requests_were_marked_counts_as_asked_for_materials(
        self, uow: UnitOfWork
    ) -> None:
        """Filings stored before `materials_requested_once` existed lack it; their completion date,
        which only a request for materials sets, still makes them not conforming (规范率)."""
        asked = received("documents/a1/versions/1")
        asked.register(REVIEWER, at(11), PROVINCE, missing=["drafting_explanation"], note="")
        asked.complete_materials(at(12), PROVINCE, {"drafting_explanation": True})
        stored_before = dataclasses.replace(asked, materials_requested_once=False)
        clean = received("documents/a2/versions/1")
        await uow.write(lambda r: r.save_filing(stored_before))
        await uow.write(lambda r: r.save_filing(clean))
        report = await uow.read(lambda r: r.report("chifeng", at(0).year))
        assert (report.filed, report.filed_conforming) == (2, 1)
