"""A deployment's own signing key and the keys it believes for other jurisdictions, from settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common.eventlog.factory import event_log_from_settings
from normreg_common.eventlog.port import Record
from normreg_common.events import CloudEvent
from normreg_common.federation import parse_keys, private_key_text, public_key_text, sign, verify
from normreg_common.settings import Settings
from pydantic import ValidationError

from tests.common.test_eventlog_contract import Positions, collect
from tests.common.test_federation import event

CHIFENG = Ed25519PrivateKey.generate()
WUHAI = Ed25519PrivateKey.generate()
ROTATED = Ed25519PrivateKey.generate()


def test_keys_of_several_jurisdictions_parse_with_rotation() -> None:
    text = f"chifeng={public_key_text(CHIFENG)} {public_key_text(ROTATED)}, wuhai={public_key_text(WUHAI)}"
    assert parse_keys(text) == (
        ("chifeng", (public_key_text(CHIFENG), public_key_text(ROTATED))),
        ("wuhai", (public_key_text(WUHAI),)),
    )
    assert parse_keys("") == ()


@pytest.mark.parametrize("bad", ["chifeng", "=abc", "chifeng=", "chifeng=not-base64!", "chifeng=QUJD"])
def test_a_malformed_key_list_is_refused_when_the_service_starts(bad: str) -> None:
    with pytest.raises(ValueError, match=r"chifeng|jurisdiction"):
        parse_keys(bad)
    with pytest.raises(ValidationError):
        Settings(federation_keys=bad)


def test_the_profile_gains_the_configured_keys_and_verifies_with_them(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, profile="neimenggu", federation_keys=f"chifeng={public_key_text(CHIFENG)}")
    profile = settings.jurisdiction_profile()
    assert profile.name == "neimenggu" and profile.keys_of("chifeng") == (public_key_text(CHIFENG),)
    assert profile.keys_of("wuhai") == ()
    signed = CloudEvent.from_bytes(sign(event(), "chifeng", CHIFENG).to_bytes())
    verify(signed, "chifeng", profile.keys_of("chifeng"))


def test_the_signing_key_is_the_configured_one_or_a_kept_development_key(tmp_path: Path) -> None:
    configured = Settings(data_dir=tmp_path, federation_key=private_key_text(CHIFENG)).federation_signer()
    assert public_key_text(configured) == public_key_text(CHIFENG)
    first = Settings(data_dir=tmp_path / "dev").federation_signer()
    again = Settings(data_dir=tmp_path / "dev").federation_signer()
    assert public_key_text(first) == public_key_text(again)
    assert (tmp_path / "dev" / "federation.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValidationError):
        Settings(federation_key="c2hvcnQ=")


async def test_deployments_sharing_one_embedded_log_file_keep_apart_by_topic_prefix(tmp_path: Path) -> None:
    shared = str(tmp_path / "federation" / "eventlog.db")
    (tmp_path / "federation").mkdir()
    city = Settings(data_dir=tmp_path / "chifeng", event_log_file=shared, topic_prefix="chifeng.")
    province = Settings(data_dir=tmp_path / "neimenggu", event_log_file=shared, kafka_topic_prefix="neimenggu.")
    assert (city.topics_prefix, province.topics_prefix) == ("chifeng.", "neimenggu.")
    own, theirs = event_log_from_settings(city, "registry"), event_log_from_settings(province, "registry")
    # The province reads the city's stream under the city's prefix.
    watching = event_log_from_settings(province, "filing", topic_prefix=city.topics_prefix)
    for log in (own, theirs, watching):
        await log.start()
    try:
        await own.publish([Record("normreg.documents", "documents/a", b"city")])
        await theirs.publish([Record("normreg.documents", "documents/b", b"province")])
        for log, expected in ((watching, [b"city"]), (theirs, [b"province"])):
            consumer = log.consumer(["normreg.documents"], "g", Positions().load)
            await consumer.start()
            try:
                assert [d.value for d in await collect(consumer, 1)] == expected
            finally:
                await consumer.close()
    finally:
        for log in (own, theirs, watching):
            await log.close()
