"""Whatever a recipient's topic holds, reading it never fails in an unforeseen way: a record is a
report, none of ours (None), or refused with a reason (a ValueError: Untrusted, UnreadableData, a
validation error), which the consumer sets aside as a dead letter."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg_common.events import FILING_SOURCE, CloudEvent
from normreg_common.federation import public_key_text, sign
from normreg_common.profile import PROFILES
from normreg_registry.application.service import RecipientEvent
from normreg_registry.entrypoints.filing_outcomes_consumer import decode

KEY = Ed25519PrivateKey.generate()
CITY = dataclasses.replace(PROFILES["chifeng"], federation_keys=(("neimenggu", (public_key_text(KEY),)),))
FILING = {
    "received_filing": "receivedFilings/f1",
    "recipient": "内蒙古自治区人民政府",
    "sender": "chifeng",
    "document": "documents/d1/versions/1",
}
DECIDED = {
    "filing": FILING,
    "outcome": "REVOKED",
    "decided_date": {"year": 2026, "month": 3, "day": 3},
    "reasons": "违反上位法",
    "provisions": ["第二条"],
    "correction_due": {"year": 0, "month": 0, "day": 0},
}
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
TYPES = st.sampled_from(
    [f"normreg.filing.v1.{t}" for t in ("registered", "materials_requested", "revoked", "accepted", "nothing")]
)


def read(event_type: str, data: dict[str, Any]) -> RecipientEvent | None:
    event = CloudEvent(
        source=FILING_SOURCE,
        type=event_type,
        subject="receivedFilings/f1",
        time=dt.datetime(2026, 3, 3, tzinfo=dt.UTC),
        sequence=1,
        data=data,
    )
    try:
        return decode(sign(event, "neimenggu", KEY).to_bytes(), "neimenggu", CITY)
    except ValueError:
        return None


def test_a_genuine_revocation_reads_as_one() -> None:
    got = read("normreg.filing.v1.revoked", DECIDED)
    assert got is not None and got.report.outcome == "REVOKED" and got.document_id == "d1"


@settings(max_examples=300, deadline=None)
@given(TYPES, st.sampled_from([*DECIDED, *(f"filing.{k}" for k in FILING)]), JSON)
def test_any_field_of_a_signed_report_holding_anything_is_read_or_refused_with_a_reason(
    event_type: str, field: str, value: Any
) -> None:
    data: dict[str, Any] = {**DECIDED, "filing": dict(FILING)}
    if field.startswith("filing."):
        data["filing"][field.removeprefix("filing.")] = value
    else:
        data[field] = value
    read(event_type, data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_on_the_topic_are_read_or_refused_with_a_reason(raw: bytes) -> None:
    with contextlib.suppress(ValueError):
        decode(raw, "neimenggu", CITY)
