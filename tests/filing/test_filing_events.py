"""What the recipient tells the sender: published, signed messages, without the reviewers' notes."""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg.events.v1 import filing_events_pb2 as ev
from normreg_common.event_data import read
from normreg_common.events import FILINGS_TOPIC, CloudEvent
from normreg_common.federation import public_key_text, verify
from normreg_filing.application.events import to_records
from normreg_filing.domain.lifecycle import Outcome

from tests.filing.test_filing_review_domain import ALL, PROVINCE, REVIEWER, at, received

PROVINCE_KEY = Ed25519PrivateKey.generate()
NOTE = "内部：处长意见保留"


def test_the_senders_events_carry_every_step_and_never_the_reviewers_notes() -> None:
    f = received(materials={**ALL, "drafting_explanation": False})
    f.register(REVIEWER, at(11), PROVINCE, missing=[], note=NOTE)
    f.complete_materials(at(13), PROVINCE, {"drafting_explanation": True})
    f.decide(
        REVIEWER,
        at(20),
        PROVINCE,
        outcome=Outcome.CORRECTION_REQUIRED,
        reasons="罚款数额超过上位法",
        provisions=["第十二条"],
        note=NOTE,
    )
    f.answer_correction(at(30), "已修改第十二条")
    f.decide(REVIEWER, at(31), PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note=NOTE)
    records = to_records(f, f.changes, 1, "neimenggu", PROVINCE_KEY)
    events = [CloudEvent.from_bytes(r.value) for r in records]
    # The arrival itself is not told back; every other step is, numbered without gaps.
    assert [e.type.rsplit(".", 1)[1] for e in events] == [
        "materials_requested",
        "materials_completed",
        "correction_required",
        "correction_answered",
        "accepted",
    ]
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert {r.topic for r in records} == {FILINGS_TOPIC} and {r.key for r in records} == {f.document}
    assert all(NOTE.encode() not in r.value and "处长".encode() not in r.value for r in records)
    for e in events:
        verify(e, "neimenggu", [public_key_text(PROVINCE_KEY)])
    requested = read(events[0], ev.FilingMaterialsRequested)
    assert list(requested.missing) == ["drafting_explanation"]
    assert (requested.completion_due.year, requested.completion_due.month, requested.completion_due.day) == (
        2026,
        3,
        13 + PROVINCE.completion_days,
    )
    correction = read(events[2], ev.FilingDecided)
    assert (correction.outcome, list(correction.provisions)) == ("CORRECTION_REQUIRED", ["第十二条"])
    due = at(20).date() + dt.timedelta(days=PROVINCE.correction_days)
    assert (correction.correction_due.year, correction.correction_due.month, correction.correction_due.day) == (
        due.year,
        due.month,
        due.day,
    )
    assert read(events[4], ev.FilingDecided).outcome == "ACCEPTED"
    assert correction.filing.sender == "chifeng" and correction.filing.recipient == "内蒙古自治区人民政府"


def test_the_sender_is_told_the_days_on_the_recipients_calendar_not_the_utc_dates() -> None:
    """Registered at 00:30 on 1 January in Shanghai (16:30 UTC on 31 December): the sender is told
    the recipient's day, from which its review period runs, not the UTC date a year earlier."""
    f = received()
    registered = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
    decided = dt.datetime(2027, 1, 31, 16, 30, tzinfo=dt.UTC)
    f.register(REVIEWER, registered, PROVINCE, missing=[], note="")
    f.decide(REVIEWER, decided, PROVINCE, outcome=Outcome.ACCEPTED, reasons="", provisions=[], note="")
    events = [CloudEvent.from_bytes(r.value) for r in to_records(f, f.changes, 1, "neimenggu", PROVINCE_KEY)]
    told = read(events[0], ev.FilingRegistered)
    day = (told.registered_date.year, told.registered_date.month, told.registered_date.day)
    assert day == (2027, 1, 1) == (f.registered_on.year, f.registered_on.month, f.registered_on.day)  # type: ignore[union-attr]
    outcome = read(events[1], ev.FilingDecided)
    assert (outcome.decided_date.year, outcome.decided_date.month, outcome.decided_date.day) == (2027, 2, 1)
