"""The recipient's side of filing (备案审查) on the pure domain: registration, requests for materials,
decisions, answers to corrections, review suggestions, missed filings and the report per subordinate."""

from __future__ import annotations

import datetime as dt

import pytest
from normreg_common.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from normreg_common.principal import Role
from normreg_common.profile import PROFILES, JurisdictionProfile
from normreg_filing.domain.lifecycle import Action, FilingState, Outcome, check_transition
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation, missing_filings, subordinate_report

from tests.conftest import SHANGHAI, principal

PROVINCE = PROFILES["neimenggu"]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
REVIEWER = principal("wu", Role.REVIEWER, org="内蒙古自治区司法厅")
CITY_REGISTRAR = principal("zhao", Role.REGISTRAR, org="赤峰市政府办")
ALL = dict.fromkeys(("text", "drafting_explanation", "legal_basis", "legality_review_opinion"), True)


def at(days: float) -> dt.datetime:
    return T0 + dt.timedelta(days=days)


def received(
    document: str = "documents/a1/versions/1",
    sender: str = "chifeng",
    materials: dict[str, bool] | None = None,
    filed: float = 10,
    promulgated: float = 0,
) -> ReceivedFiling:
    return ReceivedFiling.receive(
        id=document.replace("/", "-"),
        sender=sender,
        issuing_body="赤峰市人民政府",
        document=document,
        title="赤峰市城市绿化管理办法",
        kind="GOVERNMENT_RULE",
        uniform_number="赤峰市人民政府令第1号",
        promulgation_date=at(promulgated).date(),
        due_date=at(promulgated + 30).date(),
        filed_date=at(filed).date(),
        recipient="内蒙古自治区人民政府",
        materials=ALL if materials is None else materials,
        at=at(filed),
    )


def seen(document: str, sender: str = "chifeng", promulgated: float = 0) -> SeenPromulgation:
    return SeenPromulgation(
        sender=sender,
        document=document,
        title="某办法",
        issuing_body=f"{sender}人民政府",
        kind="NORMATIVE_DOCUMENT",
        uniform_number="",
        promulgation_date=at(promulgated).date(),
        due_date=at(promulgated + 30).date(),
        recipient="内蒙古自治区人民政府",
    )


def test_a_filing_with_missing_materials_is_returned_for_completion_within_the_profile_deadline() -> None:
    f = received(materials={**ALL, "drafting_explanation": False})
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="缺起草说明")
    assert f.state == FilingState.MATERIALS_REQUESTED
    assert f.materials_requested == ["drafting_explanation"]
    assert f.completion_due == at(11).date() + dt.timedelta(days=PROVINCE.completion_days)
    f.complete_materials(at(13), PROVINCE, {"drafting_explanation": True})
    assert f.state == FilingState.REGISTERED
    assert f.review_due == at(13).date() + dt.timedelta(days=PROVINCE.recipient_review_days)
    # Completed later, it was still not conforming when it arrived.
    assert not f.complete_on_arrival


def test_the_reviewer_may_ask_for_a_material_the_sender_ticked() -> None:
    f = received()
    f.register(REVIEWER, at(11), PROVINCE, missing=["legal_basis"], note="制定依据与文本不符")
    assert f.state == FilingState.MATERIALS_REQUESTED and f.missing == ["legal_basis"]


def test_a_complete_filing_is_registered_with_the_recipients_own_review_time_limit() -> None:
    profile = JurisdictionProfile(recipient_review_days=45)
    f = received()
    f.register(REVIEWER, at(11), profile, missing=[], note="")
    assert f.state == FilingState.REGISTERED and f.review_due == at(56).date()


def test_only_the_recipients_filing_reviewers_register_and_decide() -> None:
    f = received()
    with pytest.raises(PermissionDenied):
        f.register(CITY_REGISTRAR, at(11), PROVINCE, missing=[], note="")
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="")
    with pytest.raises(PermissionDenied):
        f.decide(CITY_REGISTRAR, at(12), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")


def test_a_filing_cannot_be_decided_before_it_is_registered_or_while_materials_are_missing() -> None:
    f = received(materials={**ALL, "legal_basis": False})
    with pytest.raises(FailedPrecondition) as err:
        f.decide(REVIEWER, at(11), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    assert err.value.reason == "FILING_NOT_REGISTERED"
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="")
    with pytest.raises(FailedPrecondition) as err:
        f.decide(REVIEWER, at(12), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    assert err.value.reason == "FILING_MATERIALS_MISSING"


def test_a_correction_or_revocation_names_its_reasons_and_the_provisions_concerned() -> None:
    f = received()
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="")
    # No reasons, or only characters nobody can see (a right-to-left mark reached the city as the reasons).
    for nothing in ("", "\u202e", " \u200b\u2066\u2069 "):
        with pytest.raises(InvalidArgument) as err:
            f.decide(
                REVIEWER, at(12), PROVINCE, outcome=Outcome.REVOKED, reasons=nothing, provisions=["第九条"], note=""
            )
        assert err.value.field == "reasons"
    with pytest.raises(InvalidArgument) as err:
        f.decide(
            REVIEWER, at(12), PROVINCE, outcome=Outcome.CORRECTION_REQUIRED, reasons="超越权限", provisions=[], note=""
        )
    assert err.value.field == "provisions"
    assert f.state == FilingState.REGISTERED


def test_a_required_correction_is_answered_and_the_review_resumes_to_acceptance() -> None:
    f = received()
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="")
    f.decide(
        REVIEWER,
        at(20),
        PROVINCE,
        outcome=Outcome.CORRECTION_REQUIRED,
        reasons="罚款数额超过上位法规定",
        provisions=["第十二条"],
        note="内部：处室意见分歧",
    )
    assert f.correction_due == at(20).date() + dt.timedelta(days=PROVINCE.correction_days)
    f.answer_correction(at(30), "已修改第十二条，见修改决定")
    assert f.state == FilingState.REGISTERED and f.responses == ["已修改第十二条，见修改决定"]
    f.decide(REVIEWER, at(31), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    assert f.state == FilingState.ACCEPTED and f.ever_corrected
    with pytest.raises(FailedPrecondition) as err:
        f.decide(REVIEWER, at(32), PROVINCE, outcome=Outcome.REVOKED, reasons="x", provisions=["第一条"], note="")
    assert err.value.reason == "FILING_REVIEW_CLOSED"


def test_the_sender_never_sees_the_recipients_internal_notes() -> None:
    f = received()
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note="内部：请王处长把关")
    f.decide(
        REVIEWER,
        at(20),
        PROVINCE,
        outcome=Outcome.REVOKED,
        reasons="与上位法抵触",
        provisions=["第三条"],
        note="内部意见",
    )
    view = f.sender_view()
    assert view["outcome"] == "REVOKED" and view["provisions"] == ["第三条"]
    assert "内部" not in repr(view)
    assert f.internal_notes == ["内部：请王处长把关", "内部意见"]


def test_a_review_suggestion_is_answered_and_its_contact_is_never_public() -> None:
    s = ReviewSuggestion.submit(
        id="s1",
        document="documents/a1",
        sender="chifeng",
        provisions=["第十二条"],
        reasons="罚款超过行政处罚法规定的限额",
        contact="138-0000-0000",
        requester_kind="citizen",
        at=at(40),
        profile=PROVINCE,
    )
    assert "138" not in repr(s.public_view())
    with pytest.raises(PermissionDenied):
        s.answer(CITY_REGISTRAR, at(41), PROVINCE, "已研究")
    s.answer(REVIEWER, at(50), PROVINCE, "经研究，已要求赤峰市人民政府纠正")
    assert s.answered_on_time
    with pytest.raises(FailedPrecondition) as err:
        s.answer(REVIEWER, at(51), PROVINCE, "again")
    assert err.value.reason == "SUGGESTION_ALREADY_ANSWERED"


def test_a_suggestion_needs_reasons_and_a_contact() -> None:
    with pytest.raises(InvalidArgument) as err:
        ReviewSuggestion.submit(
            id="s1",
            document="documents/a1",
            sender="chifeng",
            provisions=[],
            reasons="抵触",
            contact=" ",
            requester_kind="citizen",
            at=at(40),
            profile=PROVINCE,
        )
    assert err.value.field == "contact"


def test_a_promulgation_never_filed_is_missing_before_and_after_its_deadline() -> None:
    promulgations = [seen("documents/b1", sender="wuhai"), seen("documents/a1/versions/1")]
    arrived = [received()]
    before = missing_filings(promulgations, arrived, at(20).date())
    assert [(m.promulgation.document, m.overdue) for m in before] == [("documents/b1", False)]
    after = missing_filings(promulgations, arrived, at(31).date())
    assert [(m.promulgation.document, m.overdue) for m in after] == [("documents/b1", True)]


def test_the_report_per_subordinate_is_exact() -> None:
    late = received("documents/a2/versions/1", filed=40)
    incomplete = received("documents/a3/versions/1", materials={**ALL, "drafting_explanation": False})
    good = received("documents/a1/versions/1")
    for f in (late, good):
        f.register(REVIEWER, at(41), PROVINCE, missing=[], note="")
    incomplete.register(REVIEWER, at(41), PROVINCE, missing=[], note="")
    incomplete.complete_materials(at(42), PROVINCE, ALL)
    good.decide(REVIEWER, at(45), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    late.decide(
        REVIEWER, at(45), PROVINCE, outcome=Outcome.CORRECTION_REQUIRED, reasons="r", provisions=["第一条"], note=""
    )
    promulgations = [
        seen("documents/a1/versions/1"),
        seen("documents/a2/versions/1"),
        seen("documents/a3/versions/1"),
        seen("documents/a4/versions/1"),
        seen("documents/b1", sender="wuhai"),
    ]
    suggestion = ReviewSuggestion.submit(
        id="s1",
        document="documents/a1",
        sender="chifeng",
        provisions=["第二条"],
        reasons="抵触",
        contact="x@example.cn",
        requester_kind="citizen",
        at=at(46),
        profile=PROVINCE,
    )
    suggestion.answer(REVIEWER, at(47), PROVINCE, "已答复")
    r = subordinate_report("chifeng", 2026, promulgations, [late, incomplete, good], [suggestion])
    assert (r.required, r.filed, r.filed_on_time, r.filed_conforming) == (4, 3, 2, 1)
    assert (r.accepted, r.corrected, r.revoked) == (1, 1, 0)
    assert (r.suggestions_received, r.suggestions_answered_on_time) == (1, 1)
    b = subordinate_report("wuhai", 2026, promulgations, [late, incomplete, good], [suggestion])
    assert (b.required, b.filed, b.filing_rate) == (1, 0, 0.0)


def test_materials_a_kind_does_not_carry_cannot_be_asked_for() -> None:
    """A government rule is filed without a legality review opinion: asking for one would leave a
    request its completion never answers."""
    f = received()
    assert f.kind == "GOVERNMENT_RULE" and "legality_review_opinion" not in f.required
    with pytest.raises(InvalidArgument) as err:
        f.register(REVIEWER, at(11), PROVINCE, missing=["legality_review_opinion"], note="")
    assert err.value.field == "missing_materials"
    assert f.state == FilingState.RECEIVED


@pytest.mark.parametrize(
    ("state", "action", "reason", "rule"),
    [
        (FilingState.RECEIVED, Action.ACCEPT, "FILING_NOT_REGISTERED", "register it first"),
        (FilingState.MATERIALS_REQUESTED, Action.REVOKE, "FILING_MATERIALS_MISSING", "补充报送"),
        (FilingState.ACCEPTED, Action.REVOKE, "FILING_REVIEW_CLOSED", "its review has ended"),
        (FilingState.REGISTERED, Action.ANSWER_CORRECTION, "INVALID_FILING_REVIEW_TRANSITION", "only while one"),
    ],
)
def test_a_refused_step_says_the_rule_not_only_the_state(
    state: FilingState, action: Action, reason: str, rule: str
) -> None:
    with pytest.raises(FailedPrecondition) as err:
        check_transition(state, action, "receivedFilings/1")
    assert err.value.reason == reason
    assert f"receivedFilings/1 is {state}" in err.value.message and rule in err.value.message
