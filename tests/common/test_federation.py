"""Cross-jurisdiction events are believed only when signed by the jurisdiction they claim."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from normreg_common.events import CloudEvent
from normreg_common.federation import Untrusted, public_key_text, sign, verify

CHIFENG = Ed25519PrivateKey.generate()
WUHAI = Ed25519PrivateKey.generate()
KEYS = [public_key_text(CHIFENG)]


def event(**data: object) -> CloudEvent:
    return CloudEvent(
        source="normreg.registry",
        type="normreg.registry.v1.filing_recorded",
        subject="documents/a1",
        time=dt.datetime(2026, 3, 12, tzinfo=dt.UTC),
        sequence=7,
        data={"details": {"recipient": "内蒙古自治区人民政府", **data}},
    )


def test_an_event_signed_by_its_jurisdiction_is_believed_after_a_round_trip() -> None:
    signed = sign(event(), "chifeng", CHIFENG)
    verify(CloudEvent.from_bytes(signed.to_bytes()), "chifeng", KEYS)


def test_an_unsigned_event_is_not_believed() -> None:
    with pytest.raises(Untrusted) as err:
        verify(event(), "chifeng", KEYS)
    assert err.value.reason == "UNSIGNED"


def test_another_jurisdiction_cannot_write_on_a_citys_stream() -> None:
    with pytest.raises(Untrusted) as err:
        verify(sign(event(), "wuhai", WUHAI), "chifeng", KEYS)
    assert err.value.reason == "WRONG_JURISDICTION"
    # Claiming to be chifeng does not help without chifeng's key.
    with pytest.raises(Untrusted) as forged:
        verify(sign(event(), "chifeng", WUHAI), "chifeng", KEYS)
    assert forged.value.reason == "BAD_SIGNATURE"


def test_a_jurisdiction_the_profile_lists_no_key_for_is_not_believed() -> None:
    with pytest.raises(Untrusted) as err:
        verify(sign(event(), "chifeng", CHIFENG), "chifeng", [])
    assert err.value.reason == "UNKNOWN_JURISDICTION"


def test_a_malformed_signature_is_refused_with_its_reason() -> None:
    bad = sign(event(), "chifeng", CHIFENG).model_copy(update={"jurisdictionsig": "not base64!"})
    with pytest.raises(Untrusted) as err:
        verify(bad, "chifeng", KEYS)
    assert err.value.reason == "MALFORMED_SIGNATURE"


def test_a_rotated_key_list_still_believes_the_old_key_while_it_is_listed() -> None:
    new = Ed25519PrivateKey.generate()
    verify(sign(event(), "chifeng", CHIFENG), "chifeng", [public_key_text(new), *KEYS])


@given(st.text(min_size=1, max_size=30), st.integers(min_value=1, max_value=10**6))
def test_any_change_to_a_signed_event_breaks_its_signature(outcome: str, sequence: int) -> None:
    signed = sign(event(outcome="ACCEPTED"), "chifeng", CHIFENG)
    # The recipient is dropped too, so the data always differs from what was signed.
    changed = signed.model_copy(update={"data": {"details": {"outcome": outcome}}, "sequence": sequence})
    with pytest.raises(Untrusted) as err:
        verify(changed, "chifeng", KEYS)
    assert err.value.reason == "BAD_SIGNATURE"


def test_the_signature_covers_the_envelope_and_the_datas_bytes_not_the_hop_attributes() -> None:
    signed = sign(event(outcome="ACCEPTED"), "chifeng", CHIFENG)
    # A relay may add or change trace context and a witness's checkpoint: still the same event.
    verify(signed.model_copy(update={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}), "chifeng", KEYS)
    # An attribute a newer sender adds, unknown to this reader, does not break the check either.
    raw = signed.to_bytes().replace(b'{"specversion"', b'{"newattribute":"x","specversion"', 1)
    verify(CloudEvent.from_bytes(raw), "chifeng", KEYS)
    for change in (
        {"subject": "documents/other"},
        {"type": "normreg.registry.v1.repealed"},
        {"sequence": 8},
        {"dataschema": "type.googleapis.com/normreg.events.v1.Other"},
        {"id": "another"},
    ):
        with pytest.raises(Untrusted) as err:
            verify(signed.model_copy(update=change), "chifeng", KEYS)
        assert err.value.reason == "BAD_SIGNATURE", change
