"""Producer ↔ consumer contract of the registry's document events (document_events.proto).

The registry's own domain walks documents through every change it can record; each event it writes
must be the message its `dataschema` names, readable with the published descriptors alone and
dropping none of what the change recorded, and each consumer (the search projection, the review
service, the filing review service) must read it into the effect it is for. A test finds every
action the domain can record, so a new one without a message of its own fails here.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, symbol_database
from google.protobuf.message import Message
from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events
from normreg_common.event_data import TYPE_URL_PREFIX, to_data
from normreg_common.eventlog.port import Delivery
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.principal import REVIEW_SERVICE, SCHEDULER
from normreg_filing.application.inbound import VERSION_STATE_EVENTS, FilingSent, VersionState
from normreg_filing.application.inbound import translate as filing_translate
from normreg_filing.domain.supervision import SeenPromulgation
from normreg_registry.application.document_events import message_of, recorded_details
from normreg_registry.application.events import to_records
from normreg_registry.domain import lifecycle as registry_lifecycle
from normreg_registry.domain.filing_outcomes import RecipientReport, Said
from normreg_registry.domain.lifecycle import Action, Kind, Procedure, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.domain.numbers import UniformNumber
from normreg_review.application.inbound import DocumentWithdrawn, ReviewRequested
from normreg_review.entrypoints.document_events import translate as review_translate
from normreg_search.model import SEARCHABLE_STATES, Visibility
from normreg_search.projection import project

from tests.conftest import SHANGHAI
from tests.legacy_document_snapshots import legacy_event
from tests.registry.test_domain_lifecycle import (
    DRAFTER,
    EVALUATOR,
    PROFILE,
    REGISTRAR,
    SECRETARY,
    at,
)

DOMAIN = Path(registry_lifecycle.__file__).parent
PROVINCE = "内蒙古自治区人民政府"
SENDER = "chifeng"


def emitted_actions() -> set[str]:
    """Every action the domain can record: the lifecycle table's, and each literal a `_record` call
    names. A call whose action is neither fails, so nothing escapes the count."""
    found = {a.value for a in Action}
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "_record":
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            else:
                # `action.value` inside the one helper that moves a state by the table's row.
                assert ast.unparse(first) == "action.value", f"{path.name}:{node.lineno}: _record({ast.unparse(first)})"
    return found


EMITTED = sorted(emitted_actions())


def test_every_action_the_domain_records_has_its_published_message() -> None:
    missing = [a for a in EMITTED if document_events.message_class(f"normreg.registry.v1.{a}") is None]
    assert missing == []


def test_every_event_message_is_an_action_and_starts_with_the_common_fields() -> None:
    events = {
        name
        for name, desc in dev.DESCRIPTOR.message_types_by_name.items()
        if "change" in desc.fields_by_name and name != "DocumentEvent"
    }
    assert events == {document_events.message_name(a) for a in EMITTED}
    assert all(document_events.has_common_fields(getattr(dev, name)) for name in events)


# ---- every action, written by the registry's own domain --------------------------------------------


@dataclass(frozen=True)
class Published:
    event: CloudEvent
    # What the domain held for the version when it wrote the event.
    state: State
    title: str
    uniform_number: str
    # The message as a strict mapping writes it, refusing any detail it has no field for.
    strict: Message
    # The same change as the registry wrote it before the messages were published.
    legacy: CloudEvent
    # What the change recorded.
    details: dict[str, Any]


EVENTS: list[Published] = []


def _publish(doc: Document) -> None:
    for change, record in to_records(doc, doc.pop_changes()):
        v = doc.version(change.version)
        number = v.promulgation.number if v.promulgation else None
        strict = message_of(doc, change, strict=True)
        event = CloudEvent.from_bytes(record.value)
        EVENTS.append(
            Published(
                event, v.state, v.title, str(number or ""), strict, legacy_event(doc, change), dict(change.details)
            )
        )


def _new(doc_id: str, kind: Kind = Kind.NORMATIVE_DOCUMENT) -> Document:
    return Document.create(
        id=doc_id,
        kind=kind,
        title="赤峰市互联网租赁自行车管理办法",
        body="第一条 为了规范互联网租赁自行车停放，制定本办法。\n第二条 本办法自发布之日起施行。",
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
        provisional=False,
        principal=DRAFTER,
        at=at(0),
    )


def _decide(doc: Document, decision: str, when: dt.datetime) -> None:
    v = doc.latest
    assert doc.apply_review_decision(
        decision, version=v.number, review_round=v.review_round, reviewer=REVIEW_SERVICE, review="reviews/r1", at=when
    )


def _adopt(doc: Document, start: float) -> None:
    doc.submit_for_review(DRAFTER, at(start))
    _decide(doc, "APPROVE", at(start + 1))
    doc.deliberate(
        SECRETARY,
        at(start + 2),
        PROFILE,
        adopt=True,
        meeting="市政府第9次常务会议",
        meeting_date=at(start + 2).date(),
        reason="",
    )


def _promulgate(doc: Document, when: dt.datetime, seq: int) -> None:
    doc.promulgate(
        REGISTRAR,
        when,
        PROFILE,
        number=UniformNumber("赤政规", when.year, seq),
        registration_number=f"CFDR-{when.year}-{seq:04d}",
        promulgation_date=when.date(),
        effective_date=None,
        early_effect_reason="",
        validity_years=0,
    )


def _scenario() -> None:
    # A normative document through every step of its life, with a second version amending it.
    a = _new("a")
    _publish(a)
    a.open_comment(DRAFTER, at(1), PROFILE, at(2).date(), at(20).date())
    _publish(a)
    a.run_clock(SCHEDULER, at(21), PROFILE)
    _publish(a)
    a.update_draft(DRAFTER, at(22), title=None, body=a.latest.body + "\n第三条 停放应当规范。", etag="")
    _publish(a)
    a.submit_for_review(DRAFTER, at(23))
    _decide(a, "RETURN_FOR_REVISION", at(24))
    _publish(a)
    a.submit_for_review(DRAFTER, at(25))
    _decide(a, "APPROVE", at(26))
    a.deliberate(
        SECRETARY,
        at(27),
        PROFILE,
        adopt=False,
        meeting="市政府第8次常务会议",
        meeting_date=at(27).date(),
        reason="再议",
    )
    _publish(a)
    _adopt(a, 28)
    _publish(a)
    _promulgate(a, at(31), 1)
    _publish(a)
    for day in (61, 62):  # in force on its effective date; its filing overdue the day after the deadline
        a.run_clock(SCHEDULER, at(day), PROFILE)
        _publish(a)
    a.record_filing(
        REGISTRAR,
        at(63),
        PROFILE,
        version=None,
        filed_date=at(63).date(),
        recipient=PROVINCE,
        materials={"text": True, "drafting_explanation": True, "legal_basis": True, "legality_review_opinion": False},
    )
    _publish(a)
    a.record_filing_review(REGISTRAR, at(70), version=None, outcome="ACCEPTED", note="", today=at(70).date())
    _publish(a)
    a.run_clock(SCHEDULER, at(61 + 365 * 5 - 170), PROFILE)  # the validity period ends within six months
    _publish(a)
    evaluation = a.record_evaluation(
        EVALUATOR,
        at(1700),
        evaluator="某大学法学院",
        method="问卷调查",
        findings="部分条款已不适应",
        conclusion="AMEND",
    )
    _publish(a)
    a.start_amendment(DRAFTER, at(1701), evaluation.id)
    _publish(a)
    _adopt(a, 1702)
    _promulgate(a, at(1705), 1)
    a.run_clock(SCHEDULER, at(1735), PROFILE)  # version 2 in force, version 1 amended
    _publish(a)
    a.apply_cleanup(REGISTRAR, at(1740), "RETAIN", "仍然适用", "cleanups/1", at(1740).date())
    _publish(a)
    a.repeal(REGISTRAR, at(1750), "不再适用", repealed_by="赤政规〔2031〕9号", today=at(1750).date())
    _publish(a)

    # A major decision with its procedures, rejected in legality review.
    b = _new("b", Kind.MAJOR_DECISION)
    b.record_procedure(DRAFTER, at(1), Procedure.EXPERT_ARGUMENTATION, "专家论证会")
    b.submit_for_review(DRAFTER, at(2))
    _decide(b, "REJECT", at(3))
    _publish(b)

    # Withdrawn while drafting.
    c = _new("c")
    c.withdraw(DRAFTER, at(1), "政策调整")
    _publish(c)

    # Declared invalid; and one that expires at the end of its validity period.
    d = _new("d", Kind.GOVERNMENT_RULE)  # a rule: no validity period
    _adopt(d, 1)
    _promulgate(d, at(4), 2)
    d.run_clock(SCHEDULER, at(34), PROFILE)
    d.declare_invalid(REGISTRAR, at(40), "上位法已废止", today=at(40).date())
    _publish(d)
    e = _new("e")
    _adopt(e, 1)
    _promulgate(e, at(4), 3)
    e.run_clock(SCHEDULER, at(34), PROFILE)
    e.run_clock(SCHEDULER, at(34 + 365 * 5 + 2), PROFILE)
    _publish(e)

    # An existing rule registered as already promulgated.
    f = Document.imported(
        id="f",
        kind=Kind.NORMATIVE_DOCUMENT,
        issuing_body="赤峰市人民政府",
        versions=[
            ImportedVersion(
                "赤峰市城市绿化管理办法",
                "第一条 为了加强城市绿化管理，制定本办法。",
                State.IN_FORCE,
                dt.date(2024, 1, 10),
                dt.date(2024, 2, 10),
                number=UniformNumber("赤政规", 2024, 5),
            )
        ],
        principal=REGISTRAR,
        at=at(0),
        profile=PROFILE,
        today=at(0).date(),
    )
    _publish(f)

    # A filing whose recipient runs normreg: what its registry reports arrives by signed event.
    g = _new("g")
    _adopt(g, 1)
    _promulgate(g, at(4), 4)
    g.record_filing(
        REGISTRAR, at(5), PROFILE, version=None, filed_date=at(5).date(), recipient=PROVINCE, materials={"text": True}
    )
    _publish(g)
    for said, fields in (
        (Said.REGISTERED, {"on": at(6).date(), "review_due": at(66).date()}),
        (Said.MATERIALS_REQUESTED, {"missing": ("legal_basis",), "completion_due": at(21).date()}),
        (Said.MATERIALS_COMPLETED, {"review_due": at(70).date()}),
        (
            Said.DECIDED,
            {
                "outcome": "CORRECTION_REQUIRED",
                "reasons": "罚款数额超过上位法",
                "provisions": ("第二条",),
                "on": at(12).date(),
                "correction_due": at(42).date(),
            },
        ),
        (Said.CORRECTION_ANSWERED, {"response": "已修改第二条"}),
    ):
        report = RecipientReport(said, "neimenggu", PROVINCE, "receivedFilings/r1", 1, **fields)  # type: ignore[arg-type]
        g.apply_recipient_report(report, at(13), at(13).date())
        _publish(g)


_scenario()


def first(action: str) -> Published:
    found = [p for p in EVENTS if p.event.type == f"normreg.registry.v1.{action}"]
    assert found, f"the scenario records no {action}"
    return found[0]


def read_published(event: CloudEvent) -> Message:
    """The data as a reader with only the published descriptors reads it: strict, every key known."""
    assert event.dataschema is not None and event.dataschema.startswith(TYPE_URL_PREFIX)
    message_class = symbol_database.Default().GetSymbol(event.dataschema.removeprefix(TYPE_URL_PREFIX))
    return json_format.ParseDict(event.data, message_class())


@pytest.mark.parametrize("action", EMITTED)
def test_the_event_is_its_published_message_and_keeps_what_the_change_recorded(action: str) -> None:
    published = first(action)
    event = published.event
    assert event.dataschema == TYPE_URL_PREFIX + "normreg.events.v1." + document_events.message_name(action)
    assert event.datacontenttype == "application/json"
    data = read_published(event)
    common = dev.DocumentEvent.FromString(data.SerializeToString())
    assert common.document.name == event.subject
    assert common.version.name == f"{event.subject}/versions/{common.change.version_number}"
    assert (common.version.state, common.version.title) == (published.state.value, published.title)
    assert common.change.to_state in {"", *State}
    # Nothing the change recorded was dropped on the way (details the head carries aside), and the
    # data written straight from the domain is the message's own JSON, key for key.
    assert data == published.strict
    assert event.data == to_data(published.strict)


@pytest.mark.parametrize("action", EMITTED)
def test_the_search_projection_reads_every_event_into_the_versions_public_view(action: str) -> None:
    published = first(action)
    change = project(published.event, SHANGHAI)
    assert change is not None
    common = dev.DocumentEvent.FromString(read_published(published.event).SerializeToString())
    assert change.name == f"{published.event.subject}/versions/{common.change.version_number}"
    assert change.sequence == published.event.sequence
    state = published.state.value
    if state in SEARCHABLE_STATES:
        assert change.version is not None and change.visibility is Visibility.SEARCHABLE
        assert (change.version.state, change.version.title) == (state, published.title)
        assert change.version.uniform_number == published.uniform_number
        assert change.version.valid_from is not None
    elif state == "PUBLIC_COMMENT":
        assert change.version is not None and change.visibility is Visibility.CONSULTATION
        assert change.version.comment_start is not None
    else:
        assert change.version is None and change.visibility is Visibility.HIDDEN


@pytest.mark.parametrize("action", EMITTED)
def test_the_review_service_reads_requests_and_withdrawals_and_skips_the_rest(action: str) -> None:
    event = first(action).event
    inbound = review_translate(Delivery(DOCUMENTS_TOPIC, 0, 1, event.subject, event.to_bytes()))
    assert (inbound.subject, inbound.sequence) == (event.subject, event.sequence)
    if action == "review_requested":
        assert isinstance(inbound.message, ReviewRequested)
        assert (inbound.message.document_id, inbound.message.version_number, inbound.message.review_round) == (
            "a",
            1,
            1,
        )
        assert (inbound.message.revision, inbound.message.drafters, inbound.message.drafting_org) == (
            2,
            ("alice",),
            DRAFTER.org,
        )
        assert inbound.message.requested_by == "alice" and "第三条" in inbound.message.body
    elif action == "withdrawn":
        assert inbound.message == DocumentWithdrawn("documents/c", "alice", "政策调整", event.time)
    else:
        assert inbound.message is None


@pytest.mark.parametrize("action", EMITTED)
def test_the_filing_review_service_reads_promulgations_and_filings_and_skips_the_rest(action: str) -> None:
    event = first(action).event
    inbound = filing_translate(event, SENDER, frozenset({PROVINCE}))
    # Every step into force or out of it also says the state its version is now in.
    states = [(m.document, m.version, m.state, m.kind) for m in inbound.messages if isinstance(m, VersionState)]
    messages = tuple(m for m in inbound.messages if not isinstance(m, VersionState))
    if event.type in VERSION_STATE_EVENTS:
        data = json.loads(event.to_bytes())["data"]
        change, kind = data["change"], data["document"]["kind"]
        assert states == [(event.subject, change["version_number"], change["to_state"], kind)]
    else:
        assert states == []
    if action == "promulgated":
        assert messages == (
            SeenPromulgation(
                sender=SENDER,
                document="documents/a/versions/1",
                title="赤峰市互联网租赁自行车管理办法",
                issuing_body="赤峰市人民政府",
                kind="NORMATIVE_DOCUMENT",
                uniform_number="赤政规〔2026〕1号",
                promulgation_date=at(31).date(),
                due_date=at(61).date(),
                recipient=PROVINCE,
            ),
        )
    elif action == "filing_recorded":
        [sent] = messages
        assert isinstance(sent, FilingSent)
        assert (sent.document, sent.recipient, sent.filed_date, sent.due_date, sent.refiling) == (
            "documents/a/versions/1",
            PROVINCE,
            at(63).date(),
            at(61).date(),
            False,
        )
        assert sent.materials == {
            "text": True,
            "drafting_explanation": True,
            "legal_basis": True,
            "legality_review_opinion": False,
        }
        assert (sent.uniform_number, sent.promulgation_date, sent.at) == (
            "赤政规〔2026〕1号",
            at(31).date(),
            event.time,
        )
    else:
        assert messages == ()


# ---- staging: events a log holds from before the messages were published ----------------------------


@pytest.mark.parametrize("action", EMITTED)
def test_every_consumer_reads_a_legacy_snapshot_as_the_message_it_would_be_now(action: str) -> None:
    published = first(action)
    new, old = published.event, published.legacy
    assert old.dataschema is None
    assert project(old, SHANGHAI) == project(new, SHANGHAI)
    as_review = [review_translate(Delivery(DOCUMENTS_TOPIC, 0, 1, e.subject, e.to_bytes())).message for e in (old, new)]
    assert as_review[0] == as_review[1]
    bodies = frozenset({PROVINCE})
    assert filing_translate(old, SENDER, bodies) == filing_translate(new, SENDER, bodies)
    message_class = document_events.message_class(new.type)
    assert message_class is not None
    assert document_events.read(old, message_class) == read_published(new)


@pytest.mark.parametrize("action", EMITTED)
def test_the_registry_reads_back_what_each_change_recorded_from_its_stored_event(action: str) -> None:
    """The filing report counts from the registry's own stored events, of both forms."""
    published = first(action)
    expected = dict(published.details)
    if action == "evaluation_recorded":
        expected["evaluation"] = f"{published.event.subject}/evaluations/{expected['evaluation']}"
    read = recorded_details(published.event.to_bytes())
    assert {k: read[k] for k in expected} == expected
    head = read_published(published.event).document  # type: ignore[attr-defined]
    assert (read["kind"], read["issuing_body"]) == (head.kind, "赤峰市人民政府")
    assert recorded_details(published.legacy.to_bytes()) == published.details
