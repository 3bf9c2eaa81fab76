"""The sender's filing obligation as the recipient's reports change it (domain only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from normreg_common.errors import FailedPrecondition
from normreg_registry.domain.filing_outcomes import RecipientReport, Said
from normreg_registry.domain.filing_report import FilingReport
from normreg_registry.domain.lifecycle import State
from normreg_registry.domain.model import Document

from tests.registry.test_domain_lifecycle import PROFILE, REGISTRAR, at, in_force_doc

GOV = "内蒙古自治区人民政府"
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)


def filed(materials: dict[str, bool] | None = None) -> Document:
    doc = in_force_doc()
    doc.record_filing(
        REGISTRAR, at(35), PROFILE, version=None, filed_date=at(10).date(), recipient=GOV, materials=materials or ALL
    )
    return doc


def report(said: Said, **fields: Any) -> RecipientReport:
    return RecipientReport(said, "neimenggu", GOV, "receivedFilings/f1", 1, **fields)


def test_a_manual_outcome_is_refused_once_the_recipient_reports_by_event() -> None:
    doc = filed()
    doc.apply_recipient_report(report(Said.REGISTERED, on=at(36).date()), at(36), at(36).date())
    with pytest.raises(FailedPrecondition) as err:
        doc.record_filing_review(
            REGISTRAR, at(37), version=None, outcome="ACCEPTED", note="", today=at(37).date(), recipient=GOV
        )
    assert err.value.reason == "FILING_OUTCOME_REPORTED_BY_RECIPIENT"
    assert err.value.metadata["reported_by"] == "neimenggu"


def test_the_recipients_decision_prevails_over_an_outcome_typed_in_before_its_events_arrived() -> None:
    doc = filed()
    doc.record_filing_review(
        REGISTRAR, at(36), version=None, outcome="ACCEPTED", note="电话告知", today=at(36).date(), recipient=GOV
    )
    doc.apply_recipient_report(
        report(Said.DECIDED, outcome="REVOKED", reasons="违反上位法", provisions=("第三条",), on=at(40).date()),
        at(40),
        at(40).date(),
    )
    assert doc.latest.state == State.DECLARED_INVALID
    [filing] = doc.latest.filings
    assert (filing.outcome, filing.reported_by, filing.provisions) == ("REVOKED", "neimenggu", ["第三条"])


def test_materials_asked_for_are_sent_again_and_nothing_else_is() -> None:
    doc = filed({**ALL, "legal_basis": False})
    doc.apply_recipient_report(
        report(Said.MATERIALS_REQUESTED, missing=("legal_basis",), completion_due=dt.date(2026, 4, 30)),
        at(36),
        at(36).date(),
    )
    assert doc.latest.obligation(GOV).filing.awaiting_sender == ("COMPLETE_MATERIALS", dt.date(2026, 4, 30))  # type: ignore[union-attr]
    doc.record_filing(REGISTRAR, at(37), PROFILE, version=None, filed_date=at(37).date(), recipient=GOV, materials=ALL)
    sent_again = doc.latest.obligation(GOV).filing  # type: ignore[union-attr]
    assert sent_again is not None and sent_again.awaiting_sender is None
    assert (sent_again.reported_by, sent_again.received_filing) == ("neimenggu", "receivedFilings/f1")
    doc.apply_recipient_report(report(Said.MATERIALS_COMPLETED), at(38), at(38).date())
    with pytest.raises(FailedPrecondition) as err:
        doc.record_filing(
            REGISTRAR, at(39), PROFILE, version=None, filed_date=at(39).date(), recipient=GOV, materials=ALL
        )
    assert err.value.reason == "FILING_ALREADY_RECORDED"


def test_a_report_on_a_filing_never_sent_is_refused() -> None:
    doc = in_force_doc()
    with pytest.raises(FailedPrecondition) as err:
        doc.apply_recipient_report(report(Said.REGISTERED), at(36), at(36).date())
    assert err.value.reason == "NOT_FILED"
    assert all(c.action != "filing_registered" for c in doc.changes)


def test_the_report_counts_a_filing_whose_materials_the_recipient_asked_for_as_not_conforming() -> None:
    doc = filed()
    doc.apply_recipient_report(
        report(Said.MATERIALS_REQUESTED, missing=("legal_basis",), completion_due=dt.date(2026, 4, 30)),
        at(36),
        at(36).date(),
    )
    events = [(c.action, doc.name, c.version, c.details) for c in doc.changes]
    [row] = FilingReport.from_events(events).select(recipient=GOV)
    assert (row.required, row.filed, row.filed_on_time, row.filed_complete) == (1, 1, 1, 0)
