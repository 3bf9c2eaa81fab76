"""A minimal OpenID provider over real HTTP for the verifier's tests: discovery, a JWKS that the
test can rotate, and tokens signed with its keys. Hydra itself is exercised in tests/e2e."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa


class Provider:
    def __init__(self) -> None:
        self.issuer = ""
        self.requests: list[str] = []
        self.down = False
        self._private: dict[str, tuple[str, Any]] = {}
        self._published: list[str] = []
        self._runner: web.AppRunner | None = None

    def add_key(self, kid: str, algorithm: str = "RS256", *, publish: bool = True) -> None:
        key: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        self._private[kid] = (algorithm, key)
        if publish:
            self._published.append(kid)

    def publish_only(self, *kids: str) -> None:
        self._published = list(kids)

    def token(self, kid: str, *, issuer: str | None = None, audience: str = "normreg", ttl_s: int = 600,
              **claims: Any) -> str:  # fmt: skip
        algorithm, key = self._private[kid]
        now = dt.datetime.now(dt.UTC)
        payload = {
            "iss": issuer if issuer is not None else self.issuer,
            "aud": audience,
            "sub": "alice",
            "iat": now,
            "exp": now + dt.timedelta(seconds=ttl_s),
            **claims,
        }
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})

    def _jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self._published:
            algorithm, key = self._private[kid]
            algo = jwt.get_algorithm_by_name(algorithm)
            public = json.loads(algo.to_jwk(key.public_key()))
            keys.append({**public, "kid": kid, "use": "sig", "alg": algorithm})
        return {"keys": keys}

    async def start(self) -> None:
        async def discovery(request: web.Request) -> web.Response:
            return self._answer(request, {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/.well-known/jwks.json"})

        async def jwks(request: web.Request) -> web.Response:
            return self._answer(request, self._jwks())

        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/.well-known/jwks.json", jwks)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.issuer = f"http://127.0.0.1:{port}"

    def _answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        self.requests.append(request.path)
        if self.down:
            return web.Response(status=503)
        return web.json_response(body)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
