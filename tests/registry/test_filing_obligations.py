"""Filing obligations (报送备案) on the sender's side: who must receive each promulgated document, by
the jurisdiction profile's routing table, and what counts in the 报备率."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
import pytest
from normreg_common.errors import FailedPrecondition, InvalidArgument
from normreg_common.principal import SCHEDULER
from normreg_common.profile import PROFILES, FilingRoute, JurisdictionProfile
from normreg_registry.domain.filing_report import FilingReport
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document
from normreg_registry.domain.versions import Version

from tests.registry.test_domain_lifecycle import DRAFTER, PROFILE, REGISTRAR, at, promulgate, to_adopted

ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)
RULE_RECIPIENTS = ("国务院", "赤峰市人大常委会", "内蒙古自治区人大常委会", "内蒙古自治区人民政府")


def draft(
    kind: Kind = Kind.NORMATIVE_DOCUMENT, body: str = "赤峰市人民政府", reason: str = "", id: str = "d1"
) -> Document:
    return Document.create(
        id=id,
        kind=kind,
        title="赤峰市测试办法",
        body="第一条 为了测试，制定本办法。",
        issuing_body=body,
        number_prefix="赤政规",
        provisional=False,
        principal=DRAFTER,
        at=at(),
        filing_exemption_reason=reason,
    )


def promulgated(
    kind: Kind = Kind.NORMATIVE_DOCUMENT, body: str = "赤峰市人民政府", reason: str = "", id: str = "d1"
) -> Document:
    doc = to_adopted(draft(kind, body, reason, id))
    promulgate(doc, at(4))
    return doc


def events(*docs: Document) -> list[tuple[str, str, int, dict[str, Any]]]:
    return [(c.action, d.name, c.version, c.details) for d in docs for c in d.changes]


def test_a_document_is_required_to_be_filed_unless_a_reason_says_why_not() -> None:
    assert draft().filing_required
    exempt = draft(reason="内部工作制度，不属于行政规范性文件")
    assert not exempt.filing_required
    assert exempt.changes[0].details == {
        "filing_required": False,
        "filing_exemption_reason": "内部工作制度，不属于行政规范性文件",
    }


def test_a_city_government_rule_has_four_filing_obligations_each_with_its_deadline() -> None:
    doc = promulgated(Kind.GOVERNMENT_RULE)
    v = doc.latest
    assert [o.recipient for o in v.obligations] == list(RULE_RECIPIENTS)
    assert {o.due_date for o in v.obligations} == {at(4).date() + dt.timedelta(days=PROFILE.filing_deadline_days)}
    assert doc.changes[-1].details["filing_recipients"] == list(RULE_RECIPIENTS)


def test_a_departments_normative_document_is_filed_with_the_government_of_its_level() -> None:
    doc = promulgated(body="赤峰市城市管理综合执法局")
    assert [o.recipient for o in doc.latest.obligations] == ["赤峰市人民政府"]


def test_the_routing_table_is_profile_data_not_code() -> None:
    profile = JurisdictionProfile(
        name="elsewhere",
        jurisdiction="某市",
        filing_routes=(FilingRoute("NORMATIVE_DOCUMENT", ("某省人民政府",)),),
        filing_deadline_days=20,
    )
    doc = to_adopted(draft())
    doc.promulgate(
        REGISTRAR,
        at(4),
        profile,
        number=doc_number(),
        registration_number="X-1",
        promulgation_date=at(4).date(),
        effective_date=None,
        early_effect_reason="",
        validity_years=0,
    )
    [obligation] = doc.latest.obligations
    assert (obligation.recipient, obligation.due_date) == ("某省人民政府", at(24).date())
    # A kind the table does not route is not filed anywhere.
    assert profile.filing_recipients("某市人民政府", "GOVERNMENT_RULE") == ()


def doc_number() -> Any:
    from normreg_registry.domain.numbers import UniformNumber

    return UniformNumber("赤政规", 2026, 1)


def test_a_document_not_required_to_be_filed_has_no_obligations_and_never_turns_overdue() -> None:
    doc = promulgated(reason="人事任免文件")
    assert doc.latest.obligations == []
    doc.run_clock(SCHEDULER, at(60), PROFILE)
    assert "filing_overdue" not in [c.action for c in doc.changes]


def test_each_recipient_is_a_separate_filing_with_its_own_outcome() -> None:
    doc = promulgated(Kind.GOVERNMENT_RULE)
    doc.record_filing(
        REGISTRAR, at(10), PROFILE, version=None, filed_date=at(10).date(), recipient="国务院", materials=ALL
    )
    doc.record_filing(
        REGISTRAR,
        at(10),
        PROFILE,
        version=None,
        filed_date=at(10).date(),
        recipient="内蒙古自治区人民政府",
        materials=ALL,
    )
    with pytest.raises(InvalidArgument) as err:
        doc.record_filing_review(REGISTRAR, at(11), version=None, outcome="ACCEPTED", note="", today=at(11).date())
    assert err.value.field == "recipient"
    accepted = doc.record_filing_review(
        REGISTRAR, at(11), version=None, outcome="ACCEPTED", note="", today=at(11).date(), recipient="国务院"
    )
    assert accepted.recipient == "国务院" and accepted.outcome == "ACCEPTED"
    province = doc.latest.obligation("内蒙古自治区人民政府")
    assert province is not None and province.filing is not None and province.filing.outcome == ""
    # The same recipient twice is refused; another recipient is not.
    with pytest.raises(FailedPrecondition) as refused:
        doc.record_filing(
            REGISTRAR, at(12), PROFILE, version=None, filed_date=at(12).date(), recipient="国务院", materials=ALL
        )
    assert refused.value.reason == "FILING_ALREADY_RECORDED"


def test_an_obligation_left_unfiled_past_its_deadline_is_flagged_with_its_recipients() -> None:
    doc = promulgated()
    doc.record_filing(
        REGISTRAR,
        at(10),
        PROFILE,
        version=None,
        filed_date=at(10).date(),
        recipient="内蒙古自治区人民政府",
        materials=ALL,
    )
    doc.run_clock(SCHEDULER, at(40), PROFILE)
    [flag] = [c for c in doc.changes if c.action == "filing_overdue"]
    assert flag.details["recipients"] == ["赤峰市人大常委会"]


def test_a_revocation_by_one_recipient_declares_the_document_invalid() -> None:
    doc = promulgated()
    doc.run_clock(SCHEDULER, at(34), PROFILE)
    doc.record_filing(
        REGISTRAR,
        at(35),
        PROFILE,
        version=None,
        filed_date=at(35).date(),
        recipient="内蒙古自治区人民政府",
        materials=ALL,
    )
    doc.record_filing_review(
        REGISTRAR,
        at(36),
        version=None,
        outcome="REVOKED",
        note="超越权限",
        today=at(36).date(),
        recipient="内蒙古自治区人民政府",
    )
    assert doc.latest.state == State.DECLARED_INVALID
    assert "内蒙古自治区人民政府" in doc.latest.state_reason


def test_the_filing_report_counts_only_documents_required_to_be_filed_per_recipient() -> None:
    filed = [promulgated(id=f"f{i}") for i in range(3)]
    for doc in filed:
        doc.record_filing(
            REGISTRAR,
            at(10),
            PROFILE,
            version=None,
            filed_date=at(10).date(),
            recipient="内蒙古自治区人民政府",
            materials=ALL,
        )
    unfiled = promulgated(id="u1")
    internal = promulgated(reason="内部管理文件", id="x1")
    report = FilingReport.from_events(events(*filed, unfiled, internal))
    rows = {r.recipient: (r.required, r.filed, r.filed_on_time, r.filed_complete) for r in report.select(2026)}
    assert rows == {"内蒙古自治区人民政府": (4, 3, 3, 3), "赤峰市人大常委会": (4, 0, 0, 0)}


def test_a_filing_with_a_recipient_the_routing_did_not_name_is_kept_but_not_counted() -> None:
    """报备率 = filed / required to file: a filing nobody required adds to neither side."""
    doc = promulgated(Kind.GOVERNMENT_RULE)
    for recipient in ("国务院", "赤峰市人大常委会", "内蒙古人大常委会"):
        doc.record_filing(
            REGISTRAR, at(10), PROFILE, version=None, filed_date=at(10).date(), recipient=recipient, materials=ALL
        )
    assert [o.recipient for o in doc.latest.obligations if o.filing] == [
        "国务院",
        "赤峰市人大常委会",
        "内蒙古人大常委会",
    ]
    rows = FilingReport.from_events(events(doc)).select(2026)
    assert sum(r.required for r in rows) == len(RULE_RECIPIENTS) == 4
    assert sum(r.filed for r in rows) == 2
    assert "内蒙古人大常委会" not in {r.recipient for r in rows}


def test_the_chifeng_figure_163_filed_of_those_required_all_on_time_and_conforming() -> None:
    """ "163 filed of the documents required to be filed, 100% on time and conforming": documents
    not required to be filed (internal working documents) are outside the count."""
    docs = [promulgated(id=f"n{i}") for i in range(163)]
    for doc in docs:
        doc.record_filing(
            REGISTRAR,
            at(20),
            PROFILE,
            version=None,
            filed_date=at(20).date(),
            recipient="内蒙古自治区人民政府",
            materials=ALL,
        )
    internal = [promulgated(reason="内部工作制度", id=f"i{i}") for i in range(12)]
    [row] = FilingReport.from_events(events(*docs, *internal)).select(2026, "赤峰市人民政府", "内蒙古自治区人民政府")
    assert (row.required, row.filed) == (163, 163)
    assert row.filing_rate == row.timeliness_rate == row.conformity_rate == 1.0


def test_a_version_stored_with_one_filing_keeps_it_as_an_obligation() -> None:
    stored = pydantic.TypeAdapter(Document).dump_python(promulgated(), mode="json")
    version = stored["versions"][0]
    version["obligations"] = []
    version["filing"] = {
        "filed_date": "2026-03-10",
        "recipient": "自治区政府",
        "materials": ALL,
        "due_date": "2026-04-05",
        "outcome": "ACCEPTED",
        "outcome_note": "",
    }
    v: Version = pydantic.TypeAdapter(Document).validate_python(stored).latest
    assert v.filing is None
    [obligation] = v.obligations
    assert obligation.recipient == "自治区政府" and obligation.filing is not None
    assert obligation.filing.outcome == "ACCEPTED"


def test_every_profile_routes_every_filed_kind_of_its_own_government() -> None:
    for profile in PROFILES.values():
        government = f"{profile.jurisdiction}人民政府"
        for kind in ("GOVERNMENT_RULE", "NORMATIVE_DOCUMENT"):
            assert profile.filing_recipients(government, kind), (profile.name, kind)
