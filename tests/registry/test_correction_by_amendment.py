"""A required correction answered by amending: the amending version's first filing with the recipient
that required it names the version and the received filing it answers (domain only)."""

from __future__ import annotations

import datetime as dt

from normreg_registry.domain.filing_outcomes import RecipientReport, Said
from normreg_registry.domain.model import Document

from tests.registry.test_domain_lifecycle import DRAFTER, PROFILE, REGISTRAR, at, in_force_doc, promulgate, to_adopted

GOV = "内蒙古自治区人民政府"
NPC = "内蒙古自治区人大常委会"
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)


def correction_required(recipient: str = GOV) -> Document:
    doc = in_force_doc()
    doc.record_filing(
        REGISTRAR, at(35), PROFILE, version=1, filed_date=at(10).date(), recipient=recipient, materials=ALL
    )
    doc.apply_recipient_report(
        RecipientReport(
            Said.DECIDED,
            "neimenggu",
            recipient,
            "receivedFilings/f1",
            1,
            outcome="CORRECTION_REQUIRED",
            reasons="罚款未规定数额",
            provisions=("第十二条",),
            on=at(40).date(),
            correction_due=dt.date(2026, 12, 31),
        ),
        at(40),
        at(40).date(),
    )
    return doc


def amended(doc: Document) -> Document:
    doc.start_amendment(DRAFTER, at(41), None)
    doc.update_draft(
        DRAFTER, at(42), title=None, body="第十二条 违反本办法的，处二百元以上一千元以下罚款。", etag=doc.etag
    )
    to_adopted(doc)
    promulgate(doc, at(50), seq=2)
    return doc


def file_v2(doc: Document, recipient: str) -> dict[str, object]:
    doc.record_filing(
        REGISTRAR, at(51), PROFILE, version=2, filed_date=at(51).date(), recipient=recipient, materials=ALL
    )
    [last] = [c for c in doc.changes if c.action == "filing_recorded" and c.version == 2][-1:]
    return dict(last.details)


def test_the_amending_versions_filing_answers_the_correction_required_of_the_version_it_amends() -> None:
    doc = amended(correction_required())
    details = file_v2(doc, GOV)
    assert (details["answers_version"], details["answers_received_filing"], details["refiling"]) == (
        doc.version_name(1),
        "receivedFilings/f1",
        False,
    )
    # A filing of its own with its own deadline: the earlier version's filing keeps its outcome.
    assert doc.version(2).obligation(GOV).filing is not None  # type: ignore[union-attr]
    assert doc.version(1).obligation(GOV).filing.outcome == "CORRECTION_REQUIRED"  # type: ignore[union-attr]


def test_the_amending_versions_filing_with_another_recipient_answers_nothing() -> None:
    doc = amended(correction_required(GOV))
    details = file_v2(doc, NPC)
    assert (details["answers_version"], details["answers_received_filing"]) == ("", "")


def test_a_correction_already_answered_by_explanation_is_not_answered_again_by_the_amendment() -> None:
    doc = correction_required()
    doc.apply_recipient_report(
        RecipientReport(Said.CORRECTION_ANSWERED, "neimenggu", GOV, "receivedFilings/f1", 1, response="说明理由"),
        at(45),
        at(45).date(),
    )
    details = file_v2(amended(doc), GOV)
    assert details["answers_version"] == ""


def test_an_amendment_of_a_version_accepted_on_filing_answers_nothing() -> None:
    doc = in_force_doc()
    doc.record_filing(REGISTRAR, at(35), PROFILE, version=1, filed_date=at(10).date(), recipient=GOV, materials=ALL)
    doc.apply_recipient_report(
        RecipientReport(Said.DECIDED, "neimenggu", GOV, "receivedFilings/f1", 1, outcome="ACCEPTED", on=at(40).date()),
        at(40),
        at(40).date(),
    )
    details = file_v2(amended(doc), GOV)
    assert details["answers_version"] == ""


def test_the_explanation_path_stays_open_a_correction_is_answered_by_filing_the_same_version_again() -> None:
    doc = correction_required()
    doc.record_filing(REGISTRAR, at(45), PROFILE, version=1, filed_date=at(45).date(), recipient=GOV, materials=ALL)
    last = [c for c in doc.changes if c.action == "filing_recorded"][-1]
    assert (last.details["refiling"], last.details["answers_version"]) == (True, "")
