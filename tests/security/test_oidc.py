"""Bearer tokens from an OpenID provider, verified against its published keys over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import jwt
import pytest
from normreg_common.errors import Unauthenticated, Unavailable
from normreg_common.oidc import OidcConfig, OidcVerifier, principal_from_claims
from normreg_common.principal import Role
from normreg_common.settings import Settings

from tests.conftest import TEST_KEY
from tests.security.oidc_provider import Provider


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    p = Provider()
    p.add_key("k1")
    await p.start()
    yield p
    await p.stop()


def verifier(provider: Provider, **overrides: object) -> OidcVerifier:
    config = OidcConfig(issuer=provider.issuer, audience="normreg", jwks_min_refresh_s=0)
    return OidcVerifier(OidcConfig(**{**config.__dict__, **overrides}))  # type: ignore[arg-type]


async def test_a_provider_token_names_the_subject_roles_and_organisation(provider: Provider) -> None:
    token = provider.token("k1", roles=["drafter", "reviewer"], org="市城管局")
    principal = await verifier(provider).verify(token)
    assert principal.subject == "alice"
    assert principal.roles == {Role.DRAFTER, Role.REVIEWER}
    assert principal.org == "市城管局"


async def test_es256_tokens_are_accepted(provider: Provider) -> None:
    provider.add_key("ec1", "ES256")
    principal = await verifier(provider).verify(provider.token("ec1", roles=["registrar"]))
    assert principal.roles == {Role.REGISTRAR}


async def test_an_hs256_token_is_refused_even_when_signed_with_the_development_key(provider: Provider) -> None:
    token = jwt.encode(
        {
            "iss": provider.issuer,
            "aud": "normreg",
            "sub": "mallory",
            "exp": 2_000_000_000,
            "iat": 1,
            "roles": ["admin"],
        },
        TEST_KEY,
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(Unauthenticated, match="algorithm 'HS256' is not accepted"):
        await verifier(provider).verify(token)


async def test_a_token_from_another_issuer_is_refused_without_asking_the_provider(provider: Provider) -> None:
    token = provider.token("k1", issuer="https://idp.elsewhere.example", roles=["admin"])
    with pytest.raises(Unauthenticated, match="issued by"):
        await verifier(provider).verify(token)
    assert provider.requests == []


async def test_a_token_signed_by_another_providers_key_is_refused(provider: Provider) -> None:
    # Same issuer name and key id, but the key is not the provider's.
    impostor = Provider()
    impostor.issuer = provider.issuer
    impostor.add_key("k1")
    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        await verifier(provider).verify(impostor.token("k1", roles=["admin"]))


async def test_a_token_for_another_audience_is_refused(provider: Provider) -> None:
    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        await verifier(provider).verify(provider.token("k1", audience="another-app"))


async def test_an_expired_token_is_refused(provider: Provider) -> None:
    with pytest.raises(Unauthenticated, match="expired"):
        await verifier(provider, leeway_s=0).verify(provider.token("k1", ttl_s=-1))


async def test_a_rotated_key_is_fetched_without_a_restart(provider: Provider) -> None:
    v = verifier(provider)
    assert (await v.verify(provider.token("k1", sub="before"))).subject == "before"
    # The provider rotates: a new key signs new tokens, the old one is withdrawn.
    provider.add_key("k2")
    provider.publish_only("k2")
    assert (await v.verify(provider.token("k2", sub="after"))).subject == "after"
    with pytest.raises(Unauthenticated, match="does not publish"):
        await v.verify(provider.token("k1", sub="stale", jti="x"))


async def test_unknown_key_ids_do_not_make_us_hammer_the_provider(provider: Provider) -> None:
    v = verifier(provider, jwks_min_refresh_s=3600)
    await v.verify(provider.token("k1"))
    fetched = len(provider.requests)
    provider.add_key("nobody-publishes-this", publish=False)
    for n in range(20):
        with pytest.raises(Unauthenticated):
            await v.verify(provider.token("nobody-publishes-this", jti=str(n)))
    assert len(provider.requests) == fetched


async def test_an_unreachable_provider_is_unavailable_not_internal(provider: Provider) -> None:
    provider.down = True
    with pytest.raises(Unavailable):
        await verifier(provider).verify(provider.token("k1"))


async def test_keys_fetched_before_keep_working_while_the_provider_is_down(provider: Provider) -> None:
    v = verifier(provider, jwks_max_age_s=0)
    await v.verify(provider.token("k1", jti="1"))
    provider.down = True
    assert (await v.verify(provider.token("k1", jti="2"))).subject == "alice"


def test_roles_and_organisation_come_from_configurable_claims() -> None:
    config = OidcConfig(
        issuer="x",
        audience="normreg",
        roles_claim="realm_access.roles",
        org_claim="organisation",
        subject_claim="email",
    )
    claims = {
        "email": "li@sfj.gov",
        "realm_access": {"roles": ["reviewer", "offline_access"]},
        "organisation": "市司法局",
        "exp": 2_000_000_000,
    }
    principal = principal_from_claims(claims, config)
    assert (principal.subject, principal.roles, principal.org) == ("li@sfj.gov", {Role.REVIEWER}, "市司法局")


def test_roles_and_organisation_can_come_from_prefixed_scopes() -> None:
    config = OidcConfig(
        issuer="x", audience="normreg", roles_claim="scp", role_prefix="normreg:", org_claim="scp", org_prefix="org:"
    )
    principal = principal_from_claims(
        {"sub": "svc", "scp": "openid normreg:registrar registrar org:zfb", "exp": 2_000_000_000}, config
    )
    assert (principal.roles, principal.org) == ({Role.REGISTRAR}, "zfb")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "a", "roles": "drafter", "org": ["a", "b"]},
        {"sub": "a", "roles": [1, 2]},
        {"sub": "a", "roles": {"drafter": True}},
        {"sub": "", "roles": ["drafter"]},
        {"roles": ["drafter"]},
        {"sub": 7, "roles": ["drafter"]},
        {"sub": "a", "org": None, "roles": ["drafter"]},
        {"sub": "a\u200b", "roles": ["drafter"]},
    ],
)
def test_malformed_claims_are_unauthenticated(claims: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        principal_from_claims({"exp": 2_000_000_000, **claims}, OidcConfig(issuer="x", audience="normreg"))


def test_oidc_settings_need_an_audience() -> None:
    with pytest.raises(ValueError, match="NORMREG_OIDC_AUDIENCE"):
        Settings(oidc_issuer="https://idp.example")
    settings = Settings(oidc_issuer="https://idp.example", oidc_audience="normreg", jwt_key=TEST_KEY)
    assert isinstance(settings.authenticator(), OidcVerifier)


async def test_the_cli_does_not_mint_development_tokens_under_single_sign_on(tmp_path: object) -> None:
    import io

    from normreg_cli.main import run_async

    settings = Settings(oidc_issuer="https://sso.example", oidc_audience="normreg", jwt_key=TEST_KEY)
    err = io.StringIO()
    code = await run_async(["--as", "registrar:reg", "list"], io.StringIO(), err, settings=settings, env={})
    assert code == 2
    assert "--token" in err.getvalue() and "NORMREG_OIDC_ISSUER" in err.getvalue()


async def test_a_withdrawn_key_stops_its_tokens_at_the_next_refresh_of_the_keys(provider: Provider) -> None:
    v = verifier(provider, jwks_max_age_s=0)
    token = provider.token("k1", sub="remembered")
    assert (await v.verify(token)).subject == "remembered"
    provider.add_key("k2")
    provider.publish_only("k2")
    with pytest.raises(Unauthenticated, match="does not publish"):
        await v.verify(token)


async def test_a_token_seen_before_does_not_make_us_ask_the_provider_again_while_the_keys_are_fresh(
    provider: Provider,
) -> None:
    v = verifier(provider, jwks_max_age_s=3600)
    token = provider.token("k1")
    await v.verify(token)
    fetched = len(provider.requests)
    for _ in range(5):
        await v.verify(token)
    assert len(provider.requests) == fetched
