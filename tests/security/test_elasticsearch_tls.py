"""The search index reaches Elasticsearch over HTTPS with a private CA and an API key or a
password, from the settings the search service reads; without the CA or with a wrong key it
gets nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AuthenticationException
from elasticsearch import ConnectionError as EsConnectionError
from normreg_common.devca import DevCA
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.settings import Settings
from normreg_common.sqlite import Database
from normreg_common.tls import ServerTls, http_server_ssl_context
from normreg_search.bootstrap import index_from_settings
from normreg_search.index.sqlite_fts import META_SCHEMA

from tests.search.contract import RULE_A
from tests.search.helpers import change
from tests.security.es_gateway import Gateway

pytestmark = pytest.mark.elasticsearch

API_KEY = "bm9ybXJlZzp0ZXN0LWFwaS1rZXk="
USER, PASSWORD = "normreg-search", "a-long-enough-password"


@pytest.fixture
async def gateway(elasticsearch_url: str, tmp_path: Path) -> AsyncIterator[tuple[Gateway, DevCA]]:
    ca = DevCA(tmp_path / "ca")
    issued = ca.issue("elasticsearch")
    context = http_server_ssl_context(ServerTls(issued.cert_file, issued.key_file))
    g = Gateway(elasticsearch_url, context, api_key=API_KEY, username=USER, password=PASSWORD)
    await g.start()
    yield g, ca
    await g.stop()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "search.db", INBOX_SCHEMA + META_SCHEMA)
    await database.open()
    yield database
    await database.close()


def settings(gateway: Gateway, **security: Any) -> Settings:
    return Settings(
        elasticsearch_url=gateway.url,
        elasticsearch_index_prefix=f"normreg-test-tls-{uuid.uuid4().hex[:8]}",
        **security,
    )


@pytest.mark.parametrize(
    "credentials",
    [{"elasticsearch_api_key": API_KEY}, {"elasticsearch_username": USER, "elasticsearch_password": PASSWORD}],
    ids=["api key", "basic auth"],
)
async def test_the_index_works_over_https_with_credentials(
    gateway: tuple[Gateway, DevCA], db: Database, credentials: dict[str, str]
) -> None:
    g, ca = gateway
    index = index_from_settings(settings(g, elasticsearch_ca_file=str(ca.cert_file), **credentials), db)
    try:
        await index.open()
        await index.apply([change(RULE_A)])
        assert (await index.get(RULE_A.name)) == RULE_A
    finally:
        await index.drop_everything()  # type: ignore[attr-defined]
        await index.close()
    assert g.forwarded > 0 and g.refused == 0


async def test_the_private_ca_may_be_the_one_of_our_own_ports(gateway: tuple[Gateway, DevCA], db: Database) -> None:
    g, ca = gateway
    index = index_from_settings(settings(g, tls_ca_file=str(ca.cert_file), elasticsearch_api_key=API_KEY), db)
    try:
        await index.open()
    finally:
        await index.drop_everything()  # type: ignore[attr-defined]
        await index.close()


async def test_a_wrong_api_key_is_refused(gateway: tuple[Gateway, DevCA], db: Database) -> None:
    g, ca = gateway
    index = index_from_settings(
        settings(g, elasticsearch_ca_file=str(ca.cert_file), elasticsearch_api_key="bm90OnRoZS1rZXk="), db
    )
    try:
        with pytest.raises(AuthenticationException):
            await index.open()
    finally:
        await index.close()
    assert g.refused > 0 and g.forwarded == 0


async def test_a_client_without_the_ca_is_refused(gateway: tuple[Gateway, DevCA], db: Database) -> None:
    g, _ = gateway
    index = index_from_settings(settings(g, elasticsearch_api_key=API_KEY), db)
    try:
        with pytest.raises(EsConnectionError, match=r"(?i)certificate"):
            await index.open()
    finally:
        await index.close()
    assert g.forwarded == 0
