"""Single sign-on against a real OpenID provider: Ory Hydra, started by deploy/local/infra-up.sh over
HTTPS with a private CA. Tokens come from Hydra (client credentials: each person here is an OAuth
client whose granted scopes carry a role and an organisation), a document goes through its whole
lifecycle on them, a rotated signing key keeps working without a restart, and tokens of any other
issuer are UNAUTHENTICATED."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.parse
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock
from normreg_common.principal import Role
from normreg_common.settings import Settings

from tests.conftest import TEST_KEY
from tests.e2e.flows import full_lifecycle_reaches_public_search
from tests.harness import System, error_reason
from tests.infra_servers import Hydra

ROLE_SCOPE = "normreg:"
ORG_SCOPE = "org:"
TIMEOUT_S = 30


class HydraClients:
    """OAuth clients in Hydra, one per person, and the tokens they get by client credentials."""

    def __init__(self, hydra: Hydra, audience: str) -> None:
        self.hydra = hydra
        self.audience = audience
        self._ssl = ssl.create_default_context(cafile=str(hydra.ca_file))
        self._run = uuid.uuid4().hex[:8]
        self._clients: dict[str, dict[str, Any]] = {}

    def _call(self, method: str, url: str, body: bytes, content_type: str) -> Any:
        request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})  # noqa: S310
        with urllib.request.urlopen(request, context=self._ssl, timeout=TIMEOUT_S) as response:  # noqa: S310
            return json.loads(response.read() or b"null")

    def admin(self, method: str, path: str, body: Any) -> Any:
        return self._call(method, self.hydra.admin_url + path, json.dumps(body).encode(), "application/json")

    def token(self, subject: str, roles: tuple[str, ...], org: str) -> str:
        client_id = f"{subject}.{self._run}"
        scopes = [ROLE_SCOPE + r for r in roles] + ([ORG_SCOPE + org] if org else [])
        client = self._clients.get(client_id)
        if client is None:
            client = {
                "client_id": client_id,
                "client_secret": uuid.uuid4().hex + uuid.uuid4().hex,
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_post",
                "audience": [self.audience],
                "scope": " ".join(ROLE_SCOPE + r.value for r in Role),
            }
            self._clients[client_id] = client
            self.admin("POST", "/admin/clients", client)
        allowed = client["scope"].split()
        if not set(scopes) <= set(allowed):
            # The same person in another organisation: the client may now ask for that one too.
            client["scope"] = " ".join(dict.fromkeys([*allowed, *scopes]))
            self.admin("PUT", f"/admin/clients/{client_id}", client)
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client["client_secret"],
                "scope": " ".join(scopes),
                "audience": self.audience,
            }
        ).encode()
        reply = self._call("POST", self.hydra.issuer + "/oauth2/token", form, "application/x-www-form-urlencoded")
        return str(reply["access_token"])

    def rotate(self, algorithm: str) -> str:
        """A new signing key for access tokens; Hydra signs with the newest from now on."""
        keys = self.admin("POST", "/admin/keys/hydra.jwt.access-token", {"alg": algorithm, "use": "sig"})
        return str(keys["keys"][0]["kid"])


class HydraSystem(System):
    def __init__(self, data_dir: Path, clock: FakeClock, hydra: Hydra) -> None:
        audience = f"normreg-{uuid.uuid4().hex[:8]}"
        oidc = {
            "oidc_issuer": hydra.issuer,
            "oidc_audience": audience,
            "oidc_roles_claim": "scp",
            "oidc_role_prefix": ROLE_SCOPE,
            "oidc_org_claim": "scp",
            "oidc_org_prefix": ORG_SCOPE,
            "oidc_ca_file": str(hydra.ca_file),
            # A token signed by a key we have not seen makes us fetch the keys at once; production
            # keeps a minimum interval against floods of made-up key ids.
            "oidc_jwks_min_refresh_s": 0.0,
        }
        settings = Settings(data_dir=data_dir, jwt_key=TEST_KEY, **oidc)
        super().__init__(data_dir, clock, settings=oidc, authenticator=settings.authenticator())
        self.hydra = HydraClients(hydra, audience)

    def token(self, subject: str, *roles: str, org: str = "") -> str:
        return self.hydra.token(subject, roles, org)


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock, hydra: Hydra) -> AsyncIterator[HydraSystem]:
    s = HydraSystem(tmp_path, clock, hydra)
    await s.start()
    yield s
    await s.stop()


def header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


async def create(s: HydraSystem, token: str, title: str) -> Any:
    stub = s.stub("registry", token)
    return await stub.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title=title,
            body="第一条 测试。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )


async def test_a_document_goes_through_its_lifecycle_on_tokens_from_the_provider(system: HydraSystem) -> None:
    token = system.token("zhang", "drafter", org="市城管局")
    assert header(token)["alg"] in ("RS256", "ES256")
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == system.hydra.hydra.issuer
    await full_lifecycle_reaches_public_search(system)


async def test_a_rotated_signing_key_keeps_working_without_a_restart(system: HydraSystem) -> None:
    before = system.token("zhang", "drafter", org="市城管局")
    first = await create(system, before, "轮换前")
    new_kid = system.hydra.rotate("ES256")
    after = system.token("zhang", "drafter", org="市城管局")
    assert header(after) == {**header(after), "kid": new_kid, "alg": "ES256"}
    assert header(after)["kid"] != header(before)["kid"]
    second = await create(system, after, "轮换后")
    # Tokens signed before the rotation stay valid until they expire.
    third = await create(system, before, "轮换前的令牌")
    assert len({first.name, second.name, third.name}) == 3
    system.hydra.rotate("RS256")  # leave the provider signing RS256 for the other tests


async def refused(system: HydraSystem, token: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(system, token, "不应创建")
    return err.value


async def test_a_token_from_another_issuer_is_unauthenticated(system: HydraSystem) -> None:
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = header(system.token("zhang", "drafter", org="市城管局"))
    claims = {
        "iss": "https://idp.another-city.example",
        "aud": [system.hydra.audience],
        "sub": "zhang",
        "scp": ["normreg:admin", "org:市城管局"],
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    # Even naming the provider's current key id.
    forged = jwt.encode(claims, key, algorithm="RS256", headers={"kid": genuine["kid"]})
    error = await refused(system, forged)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_reason(error) == "INVALID_TOKEN"
    assert "issued by" in (error.details() or "")


async def test_our_issuer_name_on_a_key_the_provider_never_published_is_unauthenticated(system: HydraSystem) -> None:
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    genuine = header(system.token("zhang", "drafter", org="市城管局"))
    claims = {
        "iss": system.hydra.hydra.issuer,
        "aud": [system.hydra.audience],
        "sub": "zhang",
        "scp": ["normreg:admin"],
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
    }
    for kid in (genuine["kid"], "made-up"):
        error = await refused(system, jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_development_key_is_not_accepted_in_single_sign_on_mode(system: HydraSystem) -> None:
    error = await refused(system, system.codec.issue("zhang", ["admin"], "市城管局"))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "HS256" in (error.details() or "")


async def test_a_provider_token_for_another_audience_is_unauthenticated(system: HydraSystem, hydra: Hydra) -> None:
    other = HydraClients(hydra, audience="another-application")
    error = await refused(system, other.token("zhang", ("drafter",), "市城管局"))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
