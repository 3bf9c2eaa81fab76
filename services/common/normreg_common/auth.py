"""Bearer tokens: HS256-signed JWTs carrying subject, roles and organisation."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

import jwt

from normreg_common.claims import claims_of
from normreg_common.errors import Unauthenticated
from normreg_common.files import write_new_private
from normreg_common.principal import PUBLIC, Principal, Role

ISSUER = "normreg"
VERIFIED_CACHE_SIZE = 1024
ALGORITHM = "HS256"

Metadata = tuple[tuple[str, str | bytes], ...] | None


class Authenticator(Protocol):
    """Turns a call's metadata into the caller: the public without a bearer token, UNAUTHENTICATED
    for a token that does not verify."""

    async def authenticate(self, metadata: Metadata) -> Principal: ...


def bearer_token(metadata: Metadata) -> str | None:
    """The token of `authorization: Bearer <token>`; None without that header."""
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
            return token.strip()
    return None


class TokenCodec:
    def __init__(self, key: str) -> None:
        if len(key) < 32:
            raise ValueError("the token signing key must be at least 32 characters")
        self._key = key
        # A client sends the same token on every call: remember who it names until it expires.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def issue(self, subject: str, roles: list[str], org: str = "", *, ttl: dt.timedelta | None = None) -> str:
        now = dt.datetime.now(dt.UTC)
        unknown = set(roles) - {r.value for r in Role}
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "roles": sorted(roles),
            "org": org,
            "iat": now,
            "exp": now + (ttl or dt.timedelta(hours=12)),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires = known
            if time.time() < expires:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, expires = self._decode(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            decoded = jwt.decode(
                token, self._key, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub"]}
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from None
        claims = claims_of(decoded)
        expires = float(claims.exp)
        # The same clock as the cache's, so a remembered token and a fresh one expire alike.
        if expires <= time.time():
            raise Unauthenticated("invalid bearer token: Signature has expired")
        return claims.principal(), expires

    def principal_from_metadata(self, metadata: Metadata) -> Principal:
        token = bearer_token(metadata)
        return PUBLIC if token is None else self.verify(token)

    async def authenticate(self, metadata: Metadata) -> Principal:
        return self.principal_from_metadata(metadata)


def load_or_create_key(path: Path) -> str:
    """Development convenience: a random key kept under var/ so tokens survive restarts.

    Created 0600 in one step: there is no moment when another user could read it."""
    if not path.exists():
        write_new_private(path, secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()
