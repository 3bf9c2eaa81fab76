"""The province's side of a correction answered by amending: the amending version's filing arrives as
a filing of its own and as the answer to the correction required of the version it amends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common.clock import FakeClock
from normreg_common.principal import SCHEDULER
from normreg_common.sqlite import Database
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.lifecycle import FilingState, Outcome
from normreg_registry.domain.filing_outcomes import RecipientReport, Said
from normreg_registry.domain.lifecycle import Kind
from normreg_registry.domain.model import Document

from tests.filing.test_filing_review_service import PROVINCE, REVIEWER, city_document, stream
from tests.registry.test_domain_lifecycle import DRAFTER, PROFILE, REGISTRAR, at, promulgate, to_adopted

GOV = "内蒙古自治区人民政府"
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[FilingReviewService]:
    db = Database(tmp_path / "filing.db", SCHEMA)
    await db.open()
    yield FilingReviewService(SqliteFilingStore(db), FakeClock(at(60)), PROVINCE, key=Ed25519PrivateKey.generate())
    await db.close()


async def correction_required(service: FilingReviewService) -> tuple[Document, str]:
    """A's rule filed complete with the province's government, which requires a correction; the
    decision reaches A's registry (as its event would)."""
    rule = city_document("rule1", Kind.GOVERNMENT_RULE)
    rule.run_clock(SCHEDULER, at(34), PROFILE)
    rule.record_filing(REGISTRAR, at(10), PROFILE, version=1, filed_date=at(10).date(), recipient=GOV, materials=ALL)
    await service.apply("chifeng", stream(rule, service))
    [filing] = await service.list_received(REVIEWER)
    await service.register(REVIEWER, filing.id, [], "")
    decided = await service.decide(REVIEWER, filing.id, Outcome.CORRECTION_REQUIRED, "罚款无数额", ["第十二条"], "")
    rule.apply_recipient_report(
        RecipientReport(
            Said.DECIDED,
            "neimenggu",
            GOV,
            decided.name,
            1,
            outcome="CORRECTION_REQUIRED",
            reasons=decided.reasons,
            provisions=("第十二条",),
            on=decided.decided_on,
            correction_due=decided.correction_due,
        ),
        at(41),
        at(41).date(),
    )
    return rule, filing.id


def amend_and_file(rule: Document) -> None:
    rule.start_amendment(DRAFTER, at(42), None)
    rule.update_draft(DRAFTER, at(43), title=None, body="第十二条 处二百元以上一千元以下罚款。", etag=rule.etag)
    to_adopted(rule)
    promulgate(rule, at(50), seq=2)
    rule.record_filing(REGISTRAR, at(51), PROFILE, version=2, filed_date=at(51).date(), recipient=GOV, materials=ALL)


async def test_the_amending_versions_filing_answers_the_correction_and_is_received_as_a_filing_of_its_own(
    service: FilingReviewService,
) -> None:
    rule, first = await correction_required(service)
    amend_and_file(rule)
    events = stream(rule, service)
    assert await service.apply("chifeng", events) > 0
    # Delivered again (a consumer restarted before committing): nothing answered twice.
    assert await service.apply("chifeng", events) == 0
    answered = await service.get_received(REVIEWER, first)
    assert answered.state == FilingState.REGISTERED and answered.outcome == ""
    assert answered.responses == ["amended by documents/rule1/versions/2, filed on 2026-04-22"]
    by_document = {f.document: f for f in await service.list_received(REVIEWER)}
    assert sorted(by_document) == ["documents/rule1/versions/1", "documents/rule1/versions/2"]
    v2 = by_document["documents/rule1/versions/2"]
    assert (v2.state, v2.complete_on_arrival, v2.on_time, v2.responses) == (FilingState.RECEIVED, True, True, [])
    # The province accepts the answered filing; the amending one is reviewed on its own.
    assert (await service.decide(REVIEWER, first, Outcome.ACCEPTED, "", [], "")).state == FilingState.ACCEPTED
    await service.register(REVIEWER, v2.id, [], "")
    await service.decide(REVIEWER, v2.id, Outcome.ACCEPTED, "", [], "")
    report = await service.report(REVIEWER, "chifeng", 2026)
    # Each version is a promulgation required to be filed with both of the province's bodies (4);
    # two filed, both on time; v1 was corrected so it does not conform, v2 does; both accepted.
    assert (report.required, report.filed, report.filed_on_time, report.filed_conforming) == (4, 2, 2, 1)
    assert (report.accepted, report.corrected, report.revoked) == (2, 1, 0)


async def test_an_amendment_filed_after_the_correction_was_explained_answers_nothing_more(
    service: FilingReviewService,
) -> None:
    rule, first = await correction_required(service)
    # A explained by filing v1 again before amending; the province resumed its review.
    rule.record_filing(REGISTRAR, at(44), PROFILE, version=1, filed_date=at(44).date(), recipient=GOV, materials=ALL)
    await service.apply("chifeng", stream(rule, service))
    assert (await service.get_received(REVIEWER, first)).responses == ["refiled on 2026-04-15"]
    amend_and_file(rule)
    await service.apply("chifeng", stream(rule, service))
    answered = await service.get_received(REVIEWER, first)
    assert answered.state == FilingState.REGISTERED and answered.responses == ["refiled on 2026-04-15"]
    assert len(await service.list_received(REVIEWER)) == 2
