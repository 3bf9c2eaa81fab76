"""Bearer tokens from an OpenID Connect provider: discovery, signing keys fetched and cached, a new
key picked up when a token names it (rotation without a restart), RS256/ES256 only, iss/aud/exp
checked, roles and organisation read from configurable claims.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt

from normreg_common.auth import VERIFIED_CACHE_SIZE, Metadata, bearer_token
from normreg_common.claims import claims_of
from normreg_common.errors import Unauthenticated, Unavailable
from normreg_common.principal import PUBLIC, Principal, Role

log = logging.getLogger(__name__)

# Asymmetric only: a provider's tokens are checked with its public keys, and no key we hold can mint
# them. HS256 (a shared secret) and "none" are refused in this mode.
ALGORITHMS = ("RS256", "ES256")
FETCH_TIMEOUT_S = 10.0
MAX_DOCUMENT_BYTES = 1 << 20


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    roles_claim: str = "roles"
    role_prefix: str = ""
    org_claim: str = "org"
    org_prefix: str = ""
    subject_claim: str = "sub"
    jwks_max_age_s: float = 300.0
    jwks_min_refresh_s: float = 10.0
    leeway_s: float = 30.0


_ABSENT = object()


def claim(claims: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """`realm_access.roles` -> claims["realm_access"]["roles"]; a claim named with a dot wins."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return default
        value = value[part]
    return value


def _strings(value: Any, what: str) -> list[str]:
    """A list of strings, or one space-separated string (the OAuth `scope` form)."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise Unauthenticated(f"invalid bearer token: claim {what} must be a string or a list of strings")


def principal_from_claims(claims: Mapping[str, Any], config: OidcConfig) -> Principal:
    """The caller named by a provider's token, through the same claims schema as our own tokens."""
    subject = claim(claims, config.subject_claim)
    known = {r.value for r in Role}
    # A provider's role list names roles of many applications: ours are those we know, after the prefix.
    roles = sorted(
        {
            v[len(config.role_prefix) :]
            for v in _strings(claim(claims, config.roles_claim), config.roles_claim)
            if v.startswith(config.role_prefix) and v[len(config.role_prefix) :] in known
        }
    )
    org_value = claim(claims, config.org_claim, _ABSENT)
    if org_value is None:
        orgs: list[str | None] = [None]  # present but null: the schema refuses it rather than guess
    elif org_value is _ABSENT:
        orgs = []
    elif config.org_prefix == "" and isinstance(org_value, str):
        orgs = [org_value]  # a plain string claim is one organisation, spaces included
    else:
        orgs = [
            *sorted(
                {
                    v[len(config.org_prefix) :]
                    for v in _strings(org_value, config.org_claim)
                    if v.startswith(config.org_prefix) and v[len(config.org_prefix) :]
                }
            )
        ]
    if len(orgs) > 1:
        raise Unauthenticated(f"invalid bearer token: claim {config.org_claim} names more than one organisation")
    return claims_of(
        {"sub": subject, "roles": roles, "org": orgs[0] if orgs else "", "exp": claims.get("exp")}
    ).principal()


class OidcVerifier:
    def __init__(self, config: OidcConfig, *, ca_file: Path | None = None) -> None:
        self.config = config
        self._issuer = config.issuer.rstrip("/")
        self._ssl = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._jwks_uri = ""
        self._lock = asyncio.Lock()
        # token -> (who, expiry, the key set it was checked against): a token is believed without a
        # second check only while that key set is current, so a withdrawn key stops its tokens at
        # the next refresh of the keys (jwks_max_age_s at the latest).
        self._verified: OrderedDict[str, tuple[Principal, float, int]] = OrderedDict()
        self._generation = 0

    async def authenticate(self, metadata: Metadata) -> Principal:
        token = bearer_token(metadata)
        return PUBLIC if token is None else await self.verify(token)

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            principal, expires, generation = known
            fresh = time.monotonic() - self._fetched_at < self.config.jwks_max_age_s
            if time.time() < expires and generation == self._generation and fresh:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
        principal, expires = await self._decode(token)
        self._verified[token] = (principal, expires, self._generation)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return principal

    async def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(
                f"invalid bearer token: algorithm {algorithm!r} is not accepted ({', '.join(ALGORITHMS)})"
            )
        # Before any key lookup: a token of another issuer never makes us call the provider.
        if str(unverified.get("iss", "")).rstrip("/") != self._issuer:
            raise Unauthenticated(f"invalid bearer token: issued by {unverified.get('iss')!r}, not {self._issuer!r}")
        key = await self._key(str(header.get("kid", "")), algorithm)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=unverified["iss"],
                leeway=self.config.leeway_s,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid bearer token: {exc}") from None
        # Remember the token no longer than it is valid, leeway included.
        return principal_from_claims(claims, self.config), float(claims["exp"]) + self.config.leeway_s

    async def _key(self, kid: str, algorithm: str) -> jwt.PyJWK:
        now = time.monotonic()
        stale = now - self._fetched_at >= self.config.jwks_max_age_s
        unknown = kid not in self._keys and now - self._fetched_at >= self.config.jwks_min_refresh_s
        if stale or unknown:
            async with self._lock:
                # Another call may have fetched while this one waited.
                now = time.monotonic()
                if now - self._fetched_at >= self.config.jwks_max_age_s or (
                    kid not in self._keys and now - self._fetched_at >= self.config.jwks_min_refresh_s
                ):
                    await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(f"invalid bearer token: signed with key {kid!r}, which the provider does not publish")
        if key.algorithm_name != algorithm:
            raise Unauthenticated(f"invalid bearer token: key {kid!r} is for {key.algorithm_name}, not {algorithm}")
        return key

    async def _refresh(self) -> None:
        try:
            if not self._jwks_uri:
                discovery = await self._get_json(f"{self._issuer}/.well-known/openid-configuration")
                if str(discovery.get("issuer", "")).rstrip("/") != self._issuer:
                    raise ValueError(f"the discovery document names issuer {discovery.get('issuer')!r}")
                self._jwks_uri = str(discovery["jwks_uri"])
            keys = self._usable_keys(await self._get_json(self._jwks_uri))
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as exc:
            self._fetched_at = time.monotonic()  # do not hammer a provider that is down
            if self._keys:
                log.warning(
                    "OpenID provider %s: keys not refreshed (%s); using the ones fetched before", self._issuer, exc
                )
                return
            raise Unavailable(f"the identity provider {self._issuer} cannot be reached: {exc}") from None
        if set(keys) != set(self._keys) or any(keys[k].key != self._keys[k].key for k in keys):
            self._generation += 1
        self._keys = keys
        self._fetched_at = time.monotonic()
        log.info("OpenID provider %s: %d signing keys (%s)", self._issuer, len(keys), ", ".join(sorted(keys)))

    @staticmethod
    def _usable_keys(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
        keys: dict[str, jwt.PyJWK] = {}
        for data in jwks.get("keys", []):
            if not isinstance(data, dict) or data.get("use", "sig") != "sig" or not data.get("kid"):
                continue
            try:
                key = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key type or curve we do not use
            if key.algorithm_name in ALGORITHMS:
                keys[str(data["kid"])] = key
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, ssl=self._ssl if url.startswith("https:") else False) as response,
        ):
            if response.status != 200:
                raise ValueError(f"GET {url}: HTTP {response.status}")
            # read(n) returns what has arrived, not n bytes: collect every chunk, up to the limit.
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise ValueError(f"GET {url}: larger than {MAX_DOCUMENT_BYTES} bytes")
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError(f"GET {url}: not a JSON object")
            return document
