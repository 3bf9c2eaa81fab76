"""Bearer tokens: signed, expiring, and never trusted past their expiry even when remembered."""

from __future__ import annotations

import datetime as dt

import jwt
import pytest
from normreg_common import auth
from normreg_common.auth import TokenCodec
from normreg_common.errors import Unauthenticated
from normreg_common.principal import PUBLIC, Role

from tests.conftest import TEST_KEY


def test_a_token_names_its_subject_roles_and_organisation() -> None:
    codec = TokenCodec(TEST_KEY)
    principal = codec.verify(codec.issue("alice", ["drafter", "reviewer"], "市司法局"))
    assert principal.subject == "alice"
    assert principal.roles == frozenset({Role.DRAFTER, Role.REVIEWER})
    assert principal.org == "市司法局"


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = TokenCodec("another-key-that-is-long-enough-0123456789abc").issue("mallory", ["admin"])
    with pytest.raises(Unauthenticated):
        TokenCodec(TEST_KEY).verify(token)


def test_an_expired_token_is_refused() -> None:
    codec = TokenCodec(TEST_KEY)
    with pytest.raises(Unauthenticated):
        codec.verify(codec.issue("alice", ["drafter"], ttl=dt.timedelta(seconds=-1)))


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(TEST_KEY)
    token = codec.issue("alice", ["drafter"], ttl=dt.timedelta(minutes=5))
    assert codec.verify(token).subject == "alice"
    later = auth.time.time() + 301
    monkeypatch.setattr(auth.time, "time", lambda: later)
    with pytest.raises(Unauthenticated):
        codec.verify(token)


def test_no_authorization_metadata_is_the_public_and_a_malformed_one_is_refused() -> None:
    codec = TokenCodec(TEST_KEY)
    assert codec.principal_from_metadata((("x-other", "1"),)) is PUBLIC
    with pytest.raises(Unauthenticated):
        codec.principal_from_metadata((("authorization", "Basic abc"),))


def test_a_short_signing_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        TokenCodec("short")


def _signed(claims: dict[str, object]) -> str:
    now = dt.datetime.now(dt.UTC)
    base: dict[str, object] = {"iss": auth.ISSUER, "sub": "alice", "iat": now, "exp": now + dt.timedelta(hours=1)}
    return jwt.encode({**base, **claims}, TEST_KEY, algorithm=auth.ALGORITHM)


@pytest.mark.parametrize(
    "claims",
    [
        {"org": None},
        {"org": 7},
        {"roles": None},
        {"roles": 3},
        {"roles": "drafter"},
        {"roles": ["drafter", None]},
        {"roles": ["pope"]},
        {"sub": 42},
        {"sub": ""},
        {"sub": "alice\u200b"},
        {"org": "市城管局\u202e"},
        {"org": ["a"]},
    ],
)
def test_claims_that_do_not_fit_the_schema_are_unauthenticated(claims: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        TokenCodec(TEST_KEY).verify(_signed(claims))


def test_a_token_without_org_or_roles_is_a_subject_of_no_organisation() -> None:
    principal = TokenCodec(TEST_KEY).verify(_signed({}))
    assert principal.org == "" and principal.roles == frozenset()
