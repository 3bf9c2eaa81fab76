"""Who the client speaks as: a bearer token given, a development identity minted locally, or the public.

`--as ROLE[,ROLE]:SUBJECT[@ORG]` signs a token with the local development key (NORMREG_JWT_KEY, else
data_dir/dev-jwt.key), which only a server started from the same settings accepts. It is for
development and demonstrations; real callers get their token from whoever runs the servers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from normreg_common.principal import Role
from normreg_common.settings import Settings

from normreg_cli.argtypes import travels_in_a_header
from normreg_cli.command import UsageError

TOKEN_ENV = "NORMREG_TOKEN"  # noqa: S105 - the name of the variable, not a secret
AS_FORMAT = "ROLE[,ROLE]:SUBJECT[@ORG]"
ROLES = [role.value for role in Role]


@dataclass(frozen=True)
class DevIdentity:
    roles: tuple[str, ...]
    subject: str
    org: str = ""


def parse_as(spec: str) -> DevIdentity:
    """`drafter:alice@市司法局` -> roles (drafter,), subject alice, org 市司法局."""
    roles_text, colon, who = spec.partition(":")
    subject, _, org = who.partition("@")
    roles = tuple(r.strip() for r in roles_text.split(",") if r.strip())
    if not colon or not roles or not subject.strip():
        raise UsageError(f"--as {spec!r}: expected {AS_FORMAT}, e.g. drafter:alice@市司法局 or registrar:reg")
    return DevIdentity(roles=roles, subject=subject.strip(), org=org.strip())


def mint(settings: Settings, identity: DevIdentity, *, ttl: dt.timedelta | None = None) -> str:
    """A development token signed with the local key."""
    if not identity.subject.strip():
        raise UsageError("a token needs a subject")
    unknown = sorted(set(identity.roles) - set(ROLES))
    if unknown:
        raise UsageError(f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    return settings.token_codec().issue(identity.subject, list(identity.roles), identity.org, ttl=ttl)


def resolve_token(token: str | None, as_spec: str | None, env: Mapping[str, str], settings: Settings) -> str | None:
    """--token, else --as, else $NORMREG_TOKEN, else None (the public)."""
    if token and as_spec:
        raise UsageError("give either --token or --as, not both")
    if token:
        return token.strip()
    if as_spec:
        if settings.oidc_issuer:
            raise UsageError(
                f"--as signs development tokens, which the services refuse under single sign-on "
                f"(NORMREG_OIDC_ISSUER={settings.oidc_issuer}): pass a token from that provider with --token "
                f"or {TOKEN_ENV}"
            )
        return mint(settings, parse_as(as_spec))
    from_env = env.get(TOKEN_ENV, "").strip()
    if not travels_in_a_header(from_env):
        raise UsageError(f"{TOKEN_ENV} holds characters no token has (a JWT: letters, digits, -_.)")
    return from_env or None
