"""Three deployments on a real Kafka and Elasticsearch: 内蒙古自治区 (the province) and two of its
cities, 赤峰市 (A) and 乌海市 (B), each its own processes, data folder and topic prefix, configured as
`make run-federation` configures them. They exchange filings and outcomes only as signed events.

A promulgates a government rule (four filing obligations) and files it with the province, without
its drafting explanation; the province registers it by asking for the explanation, A sends it, the
province requires a correction of 第十二条, A amends it (v2 through legality review, deliberation and
promulgation) and files v2 with the province as its answer; the province records the answer on the
first filing, accepts it, and reviews v2 as a filing of its own: every step reaches A's registry
without anyone retyping it. B promulgates a normative document and never files it: the province
lists it as missing before its deadline and after it (every process's clock moved 31 days ahead
through a file, no sleeping). A citizen asks the province to review A's rule; the province answers.
The province's report per city is exact. Each of the eight service processes is killed with kill -9
once during the exchange (two or three at a time, at the moments where an event is in flight):
nothing is lost, nothing applied twice, and `normreg verify` agrees on every side.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import field_mask_pb2
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg.v1 import search_service_pb2 as spb
from normreg_cli.dates import to_pb as day

from tests.faults.cluster import eventually
from tests.federation.clocked import move
from tests.federation.cluster import Federation

A, B, P = "chifeng", "wuhai", "neimenggu"
# Every process's "now": a Tuesday morning in 2027, whatever day the suite runs, so the year of
# every date in the report is known.
START = dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
YEAR = 2027
RULE_RECIPIENTS = ["国务院", "赤峰市人大常委会", "内蒙古自治区人大常委会", "内蒙古自治区人民政府"]
ALL = {"text": True, "drafting_explanation": True, "legal_basis": True, "legality_review_opinion": True}
# Kafka needs a moment to hand a restarted consumer its partitions again (the dead member's session
# runs out first): the waits below are bounds, not sleeps.
SETTLE_S = 60.0


@pytest.fixture
async def federation(tmp_path: Path, kafka_bootstrap: str, elasticsearch_url: str) -> AsyncIterator[Federation]:
    fed = Federation(tmp_path, kafka_bootstrap, elasticsearch_url)
    fed.offset = START - dt.datetime.now(dt.UTC)
    move(fed.clock_file, fed.offset)
    try:
        await fed.start()
        yield fed
    finally:
        print(fed.logs())
        await fed.close()


class City:
    """A city's people, speaking to its own deployment."""

    def __init__(self, fed: Federation, name: str, body: str, prefix: str) -> None:
        self.fed, self.name, self.body, self.prefix = fed, name, body, prefix
        org = "市城市管理综合执法局"
        self.drafter = fed.stub(name, "registry", fed.token("zhang", "drafter", org=org))
        self.reviewer = fed.stub(name, "review", fed.token("li", "reviewer", org="市司法局"))
        self.secretary = fed.stub(name, "registry", fed.token("wang", "secretary", org="市政府办"))
        self.registrar = fed.stub(name, "registry", fed.token("zhao", "registrar", org="市政府办"))
        self.search = fed.stub(name, "search")

    async def submitted(self, kind: Any, title: str) -> pb.Document:
        doc = await self.drafter.CreateDocument(
            rpb.CreateDocumentRequest(
                kind=kind,
                title=title,
                body=f"第一条 为了规范管理，制定{title[3:]}。\n第十二条 违反本办法的，处以罚款。",
                issuing_body=self.body,
                number_prefix=self.prefix,
            )
        )
        return await self.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=doc.name))

    async def approve(self, doc: pb.Document) -> None:
        """The legality review task the submission opened, claimed and approved: exactly one."""

        async def task() -> list[vpb.Review]:
            reply = await self.reviewer.ListReviews(vpb.ListReviewsRequest())
            # Open ones only: an amendment's task comes after the decided one of the version it amends.
            return [r for r in reply.reviews if r.document == doc.name and r.state == vpb.REVIEW_STATE_OPEN]

        await eventually(lambda: _nonempty(task), SETTLE_S, f"{self.name}: a review task for {doc.name}")
        [review] = await task()
        await self.reviewer.ClaimReview(vpb.ClaimReviewRequest(name=review.name))
        await self.reviewer.DecideReview(
            vpb.DecideReviewRequest(name=review.name, decision=vpb.REVIEW_DECISION_APPROVE, opinion="符合上位法规定")
        )

    async def promulgated(self, doc: pb.Document, *, in_force_at_once: str = "") -> pb.Document:
        """Promulgated today; in force on the profile's default day, or today when
        `in_force_at_once` gives the reason (自公布之日起施行)."""

        async def approved() -> bool:
            got = await self.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
            return got.state == pb.VERSION_STATE_AWAITING_DELIBERATION

        await eventually(approved, SETTLE_S, f"{self.name}: the approval of {doc.name} back in the registry")
        await self.secretary.RecordDeliberation(
            rpb.RecordDeliberationRequest(
                name=doc.name,
                decision=rpb.DELIBERATION_DECISION_ADOPT,
                meeting="市政府第9次常务会议",
                meeting_date=day(str(self.fed.today(self.name))),
            )
        )
        today = day(str(self.fed.today(self.name)))
        if in_force_at_once:
            return await self.registrar.Promulgate(
                rpb.PromulgateRequest(name=doc.name, effective_date=today, early_effect_reason=in_force_at_once)
            )
        return await self.registrar.Promulgate(rpb.PromulgateRequest(name=doc.name))

    async def filing(self, doc: pb.Document, recipient: str, version: int = 1) -> pb.Filing:
        got = await self.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
        [obligation] = [o for o in got.versions[version - 1].filing_obligations if o.recipient == recipient]
        return obligation.filing

    async def amended(self, doc: pb.Document, body: str) -> pb.Document:
        """An amendment of `doc` (its next version), through legality review and deliberation to
        promulgation. Only a version in force is amended: the registry's scheduler brings it into force."""

        async def in_force() -> bool:
            got = await self.registrar.GetDocument(rpb.GetDocumentRequest(name=doc.name))
            return got.versions[-1].state == pb.VERSION_STATE_IN_FORCE

        await eventually(in_force, SETTLE_S, f"{self.name}: {doc.name} in force")
        started = await self.drafter.StartAmendment(rpb.StartAmendmentRequest(name=doc.name))
        drafted = await self.drafter.UpdateDraft(
            rpb.UpdateDraftRequest(
                name=doc.name, update_mask=field_mask_pb2.FieldMask(paths=["body"]), body=body, etag=started.etag
            )
        )
        await self.drafter.SubmitForReview(rpb.SubmitForReviewRequest(name=drafted.name))
        await self.approve(doc)
        return await self.promulgated(doc)

    async def file(self, doc: pb.Document, recipient: str, materials: dict[str, bool]) -> pb.Filing:
        return await self.registrar.RecordFiling(
            rpb.RecordFilingRequest(
                name=doc.name,
                filed_date=day(str(self.fed.today(self.name))),
                recipient=recipient,
                materials=pb.FilingMaterials(**materials),
            )
        )


async def _nonempty(read: Callable[[], Awaitable[list[Any]]]) -> bool:
    return bool(await read())


async def kill_all(fed: Federation, *targets: tuple[str, str]) -> None:
    """kill -9 several processes at one moment and start them again (their waits overlap)."""
    await asyncio.gather(*(fed.kill_and_restart(d, s) for d, s in targets))


async def test_a_province_and_two_cities_exchange_filings_through_kill_9(federation: Federation) -> None:
    fed = federation
    a = City(fed, A, "赤峰市人民政府", "赤峰市人民政府令")
    b = City(fed, B, "乌海市人民政府", "乌政规")
    reviewer = fed.token("wu", "reviewer", org="内蒙古自治区司法厅")
    province = fed.stub(P, "filing", reviewer)
    public = fed.stub(P, "filing")

    # ---- A's rule and B's normative document, through review to promulgation -------------------
    rule = await a.submitted(pb.DOCUMENT_KIND_GOVERNMENT_RULE, "赤峰市城市绿化管理办法")
    notice = await b.submitted(pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, "乌海市城市供热管理办法")
    await b.approve(notice)
    notice = await b.promulgated(notice)
    # Kill 1: B's registry with the promulgation perhaps still in its outbox; A's review service
    # before or while it reads the submission; the province's registry.
    await kill_all(fed, (B, "registry"), (A, "review"), (P, "registry"))
    await a.approve(rule)
    # In force at once, so that A can amend it when the province requires a correction (only a
    # version in force is amended) without moving every clock past the default 30 days here.
    rule = await a.promulgated(rule, in_force_at_once="涉及城市绿化养护期，自公布之日起施行")
    promulgated_on = fed.today(A)
    version = f"{rule.name}/versions/1"
    obligations = (await a.registrar.GetDocument(rpb.GetDocumentRequest(name=rule.name))).versions[0]
    assert sorted(o.recipient for o in obligations.filing_obligations) == sorted(RULE_RECIPIENTS)

    # ---- B never files: the province sees the promulgation, before the deadline ------------------
    async def missing() -> set[tuple[str, str, str, int]]:
        reply = await province.ListMissingFilings(fpb.ListMissingFilingsRequest())
        return {(m.sender, m.document, m.recipient, m.status) for m in reply.missing_filings}

    notice_version = f"{notice.name}/versions/1"
    before = {
        (B, notice_version, "内蒙古自治区人民政府", fpb.MISSING_FILING_STATUS_BEFORE_DEADLINE),
        (A, version, "内蒙古自治区人大常委会", fpb.MISSING_FILING_STATUS_BEFORE_DEADLINE),
        (A, version, "内蒙古自治区人民政府", fpb.MISSING_FILING_STATUS_BEFORE_DEADLINE),
    }
    await eventually(lambda: _equal(missing, before), SETTLE_S, "both promulgations seen by the province")

    # ---- A files with the province's government, without the drafting explanation -------------
    await a.file(rule, "内蒙古自治区人民政府", {**ALL, "drafting_explanation": False})
    # Kill 2: A's registry with the filing perhaps still in its outbox; B's review; A's search.
    await kill_all(fed, (A, "registry"), (B, "review"), (A, "search"))

    async def received() -> list[fpb.ReceivedFiling]:
        reply = await province.ListReceivedFilings(fpb.ListReceivedFilingsRequest())
        return list(reply.received_filings)

    await eventually(lambda: _nonempty(received), SETTLE_S, "A's filing at the province")
    [filing] = await received()
    assert (filing.sender, filing.document, filing.recipient, filing.state) == (
        A,
        version,
        "内蒙古自治区人民政府",
        fpb.RECEIVED_FILING_STATE_RECEIVED,
    )
    assert not filing.complete_on_arrival and filing.on_time

    filing = await province.RegisterReceivedFiling(
        fpb.RegisterReceivedFilingRequest(name=filing.name, note="内部：起草说明缺失，先补报")
    )
    assert filing.state == fpb.RECEIVED_FILING_STATE_MATERIALS_REQUESTED
    assert list(filing.materials_requested) == ["drafting_explanation"]

    # The request reaches A's registry as the province's signed event: nobody retypes it.
    async def status_at_a() -> str:
        return (await a.filing(rule, "内蒙古自治区人民政府")).recipient_status

    await eventually(lambda: _is(status_at_a, "MATERIALS_REQUESTED"), SETTLE_S, "the request for materials at A")
    asked = await a.filing(rule, "内蒙古自治区人民政府")
    assert (asked.reported_by, asked.received_filing, list(asked.missing_materials)) == (
        P,
        filing.name,
        ["drafting_explanation"],
    )

    # ---- A completes the materials: the province registers it on arrival ------------------------
    async def state_at_province() -> int:
        return int((await province.GetReceivedFiling(fpb.GetReceivedFilingRequest(name=filing.name))).state)

    await a.file(rule, "内蒙古自治区人民政府", ALL)
    await eventually(
        lambda: _is(state_at_province, fpb.RECEIVED_FILING_STATE_REGISTERED), SETTLE_S, "the completion registered"
    )

    # ---- the province requires a correction; A answers; the province accepts --------------------
    await province.DecideFilingReview(
        fpb.DecideFilingReviewRequest(
            name=filing.name,
            outcome=fpb.FILING_REVIEW_OUTCOME_CORRECTION_REQUIRED,
            reasons="第十二条罚款未规定数额，超出上位法授权",
            provisions=["第十二条"],
            note="内部：处务会讨论意见",
        )
    )
    # Kill 3: the province's filing service with the decision perhaps still in its outbox, and B's search.
    await kill_all(fed, (P, "filing"), (B, "search"))

    await eventually(lambda: _is(status_at_a, "CORRECTION_REQUIRED"), SETTLE_S, "the correction back at A")
    required = await a.filing(rule, "内蒙古自治区人民政府")
    assert (required.outcome, list(required.provisions), required.outcome_note) == (
        pb.FILING_OUTCOME_CORRECTION_REQUIRED,
        ["第十二条"],
        "第十二条罚款未规定数额，超出上位法授权",
    )
    # A's answer: 第十二条 amended (v2 through review, deliberation and promulgation), v2 filed with
    # the province. Its filing names the filing of v1 it answers.
    rule = await a.amended(
        rule, "第一条 为了规范管理，制定城市绿化管理办法。\n第十二条 违反本办法的，处二百元以上一千元以下罚款。"
    )
    assert [v.state for v in rule.versions][-1] == pb.VERSION_STATE_PROMULGATED and len(rule.versions) == 2
    version_2 = f"{rule.name}/versions/2"
    await a.file(rule, "内蒙古自治区人民政府", ALL)
    await eventually(
        lambda: _is(state_at_province, fpb.RECEIVED_FILING_STATE_REGISTERED), SETTLE_S, "A's answer at the province"
    )
    answered = await province.GetReceivedFiling(fpb.GetReceivedFilingRequest(name=filing.name))
    assert list(answered.correction_responses) == [f"amended by {version_2}, filed on {fed.today(A)}"]
    await eventually(
        lambda: _is(status_at_a, "CORRECTION_ANSWERED"), SETTLE_S, "the answer recorded on v1's filing at A"
    )
    accepted = await province.DecideFilingReview(
        fpb.DecideFilingReviewRequest(name=filing.name, outcome=fpb.FILING_REVIEW_OUTCOME_ACCEPTED)
    )
    assert accepted.state == fpb.RECEIVED_FILING_STATE_ACCEPTED
    assert len(accepted.correction_responses) == 1
    await eventually(lambda: _is(status_at_a, "ACCEPTED"), SETTLE_S, "the acceptance back at A")
    # v2 is a filing of its own (an amended rule is filed again): complete on arrival, registered and
    # accepted by the province.
    [amending] = [f for f in await received() if f.document == version_2]
    assert (amending.sender, amending.recipient, amending.complete_on_arrival, amending.on_time) == (
        A,
        "内蒙古自治区人民政府",
        True,
        True,
    )
    amending = await province.RegisterReceivedFiling(fpb.RegisterReceivedFilingRequest(name=amending.name))
    assert amending.state == fpb.RECEIVED_FILING_STATE_REGISTERED
    await province.DecideFilingReview(
        fpb.DecideFilingReviewRequest(name=amending.name, outcome=fpb.FILING_REVIEW_OUTCOME_ACCEPTED)
    )

    async def status_of_v2_at_a() -> str:
        return (await a.filing(rule, "内蒙古自治区人民政府", version=2)).recipient_status

    await eventually(lambda: _is(status_of_v2_at_a, "ACCEPTED"), SETTLE_S, "v2's acceptance back at A")

    # ---- a citizen's review suggestion on A's rule ----------------------------------------------
    suggestion = await public.SubmitReviewSuggestion(
        fpb.SubmitReviewSuggestionRequest(
            review_suggestion=fpb.ReviewSuggestion(
                document=rule.name,
                sender=A,
                provisions=["第十二条"],
                reasons="罚款条款与行政处罚法抵触",
                contact="13800000000",
                requester_kind=fpb.REQUESTER_KIND_CITIZEN,
            )
        )
    )
    assert not suggestion.contact
    listed = await province.ListReviewSuggestions(fpb.ListReviewSuggestionsRequest(sender=A))
    assert [(s.name, s.contact) for s in listed.review_suggestions] == [(suggestion.name, "13800000000")]
    await province.ReplyToReviewSuggestion(
        fpb.ReplyToReviewSuggestionRequest(name=suggestion.name, reply="经审查，已要求制定机关纠正，现已修改")
    )

    # ---- B's deadline passes (every clock 31 days on): still missing, now overdue ---------------
    fed.advance(31)
    after = {
        (B, notice_version, "内蒙古自治区人民政府", fpb.MISSING_FILING_STATUS_AFTER_DEADLINE),
        (A, version, "内蒙古自治区人大常委会", fpb.MISSING_FILING_STATUS_AFTER_DEADLINE),
        # v2 was promulgated too: it is owed to the province's standing committee as well.
        (A, version_2, "内蒙古自治区人大常委会", fpb.MISSING_FILING_STATUS_AFTER_DEADLINE),
    }
    await eventually(lambda: _equal(missing, after), SETTLE_S, "the unfiled ones overdue at the province")

    # ---- the province's report per city, exact --------------------------------------------------
    reports = await province.GetSubordinateFilingReport(fpb.GetSubordinateFilingReportRequest(year=YEAR))
    by_city = {r.sender: r for r in reports.reports}
    # The province's own row (its departments file with it too) is empty here.
    assert sorted(by_city) == [A, P, B]
    chifeng, wuhai = by_city[A], by_city[B]
    # A: each promulgated version of the rule is required to be filed with both of the province's
    # bodies (v1 and the amending v2: 4). Two filed (v1 and v2 with the government), both on time;
    # v1 was incomplete on arrival and corrected (not conforming), v2 complete and never corrected
    # (conforming); both accepted, one corrected; one suggestion, answered on time.
    assert (
        chifeng.required_count,
        chifeng.filed_count,
        chifeng.filed_on_time_count,
        chifeng.conforming_count,
        chifeng.accepted_count,
        chifeng.corrected_count,
        chifeng.revoked_count,
        chifeng.suggestions_received_count,
        chifeng.suggestions_answered_on_time_count,
    ) == (4, 2, 2, 1, 2, 1, 0, 1, 1)
    assert (chifeng.filing_rate, chifeng.timeliness_rate, chifeng.conformity_rate) == (0.5, 1.0, 0.5)
    # B: its normative document goes to the province's government (and its own standing
    # committee, not the province's business); never filed.
    for report, required in ((wuhai, 1), (by_city[P], 0)):
        assert (
            report.required_count,
            report.filed_count,
            report.filed_on_time_count,
            report.conforming_count,
            report.accepted_count,
            report.corrected_count,
            report.revoked_count,
            report.suggestions_received_count,
            report.suggestions_answered_on_time_count,
        ) == (required, 0, 0, 0, 0, 0, 0, 0, 0)
        assert (report.filing_rate, report.timeliness_rate, report.conformity_rate) == (0.0, 0.0, 0.0)
    assert promulgated_on.year == YEAR

    # ---- nothing lost, nothing twice; verify agrees everywhere ----------------------------------
    assert sorted(f.document for f in await received()) == [version, version_2]
    final = await province.GetReceivedFiling(fpb.GetReceivedFilingRequest(name=filing.name))
    assert final.state == fpb.RECEIVED_FILING_STATE_ACCEPTED and len(final.correction_responses) == 1
    at_a = await a.filing(rule, "内蒙古自治区人民政府")
    assert at_a.outcome == pb.FILING_OUTCOME_ACCEPTED and at_a.complete
    v2_at_a = await a.filing(rule, "内蒙古自治区人民政府", version=2)
    assert (v2_at_a.outcome, v2_at_a.received_filing) == (pb.FILING_OUTCOME_ACCEPTED, amending.name)
    # Every report of the province applied at A once, every filing A sent recorded once, and the
    # province's internal notes never reached A.
    history = await a.registrar.GetHistory(rpb.GetHistoryRequest(name=rule.name))
    # The registry's own scheduler may meanwhile have marked the obligations still unfiled overdue
    # (each version's once, whenever its run after the clock's jump comes): not part of the exchange.
    overdue = [e.version_number for e in history.entries if e.action == "filing_overdue"]
    assert len(overdue) == len(set(overdue)), overdue
    filing_steps = [
        e.action for e in history.entries if e.action.startswith("filing_") and e.action != "filing_overdue"
    ]
    assert sorted(filing_steps) == sorted(
        [
            "filing_recorded",
            "filing_materials_requested",
            "filing_recorded",
            "filing_materials_completed",
            "filing_reviewed",
            "filing_correction_answered",
            "filing_reviewed",
            # v2: filed, registered, accepted.
            "filing_recorded",
            "filing_registered",
            "filing_reviewed",
        ]
    )
    assert all("内部" not in e.reason for e in history.entries)

    async def found() -> list[tuple[str, int]]:
        hits = await a.search.SearchDocuments(
            spb.SearchDocumentsRequest(
                query="城市绿化", states=[pb.VERSION_STATE_PROMULGATED, pb.VERSION_STATE_IN_FORCE]
            )
        )
        return [(h.name, h.state) for h in hits.hits if h.document == rule.name]

    # 31 days on, v2 took effect (the default 30 days after promulgation) and v1 is amended: the one
    # hit is v2 in force, once.
    async def states_at_a() -> list[int]:
        got = await a.registrar.GetDocument(rpb.GetDocumentRequest(name=rule.name))
        return [v.state for v in got.versions]

    amended = [pb.VERSION_STATE_AMENDED, pb.VERSION_STATE_IN_FORCE]
    await eventually(lambda: _equal(states_at_a, amended), SETTLE_S, "v2 in force at A")
    only_v2 = [(version_2, pb.VERSION_STATE_IN_FORCE)]
    await eventually(lambda: _equal(lambda: _sorted(found), only_v2), SETTLE_S, "A's rule in A's public search")
    # Each city: its history chains, its index and the witnessed checkpoints. The province (no search
    # service here): its registry's chains and what its filing service told the cities.
    for deployment, flags in ((A, ()), (B, ()), (P, ("--history-only", "--received-filings"))):
        done = await asyncio.to_thread(fed.cli, deployment, "--as", "registrar,reviewer:zhao", "verify", *flags)
        assert done.returncode == 0, f"{deployment}: normreg verify\n{done.stdout}\n{done.stderr}"
        assert "DIFFERS" not in done.stdout


async def _sorted(read: Callable[[], Awaitable[list[Any]]]) -> list[Any]:
    return sorted(await read())


async def _equal(read: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return bool(await read() == expected)


async def _is(read: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return bool(await read() == expected)
