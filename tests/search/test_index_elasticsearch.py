"""Elasticsearch against the same index contract. Needs a real node (NORMREG_ELASTICSEARCH_URL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch
from normreg_common.inbox import INBOX_SCHEMA
from normreg_common.sqlite import Database
from normreg_search.budget import SearchTooLong
from normreg_search.index.elasticsearch import BACKLOG_CHANGES, BACKLOG_REFRESH_INTERVAL, ElasticsearchIndex, Refresh
from normreg_search.index.port import SearchIndex
from normreg_search.index.sqlite_fts import META_SCHEMA
from normreg_search.query import RELAXED_TERMS, SearchQuery

from tests.search.contract import ALL, COMMON, COMMON_QUERY, RULE_A, RULE_C, IndexContract
from tests.search.helpers import change

pytestmark = pytest.mark.elasticsearch


@contextlib.asynccontextmanager
async def opened_index(
    url: str, tmp_path: Path, *, refresh: Refresh = "wait_for", backlog: int = BACKLOG_CHANGES
) -> AsyncIterator[ElasticsearchIndex]:
    """An index under an alias of its own (tests share the node, never an index), dropped afterwards."""
    db = Database(tmp_path / "search.db", INBOX_SCHEMA + META_SCHEMA)
    await db.open()
    index = ElasticsearchIndex(
        url,
        db,
        alias=f"normreg-test-{uuid.uuid4().hex[:10]}",
        refresh=refresh,
        refresh_interval="100ms",
        backlog=backlog,
    )
    try:
        await index.open()
    except BaseException:
        await index.close()
        await db.close()
        raise
    try:
        yield index
    finally:
        await index.drop_everything()
        await index.close()
        await db.close()


class TestElasticsearchIndex(IndexContract):
    @pytest.fixture
    async def index(self, elasticsearch_url: str, tmp_path: Path) -> AsyncIterator[SearchIndex]:
        async with opened_index(elasticsearch_url, tmp_path) as opened:
            yield opened


async def test_the_alias_points_at_a_versioned_index_and_moves_on_rebuild(
    elasticsearch_url: str, tmp_path: Path
) -> None:
    async with opened_index(elasticsearch_url, tmp_path) as index:
        assert await index.current_index() == f"{index.alias}-v1"
        build = await index.begin_rebuild()
        await build.apply([change(v) for v in ALL])
        await build.switch()
        assert await index.current_index() == f"{index.alias}-v2"
        assert not await index.client.indices.exists(index=f"{index.alias}-v1")
        # Opening again (another instance, a restart) keeps the alias where it is.
        await index.open()
        assert await index.current_index() == f"{index.alias}-v2"


async def test_a_stale_write_is_a_version_conflict_not_an_error(elasticsearch_url: str, tmp_path: Path) -> None:
    async with opened_index(elasticsearch_url, tmp_path) as index:
        assert await index.apply([change(RULE_A, 5)]) == 1
        assert await index.apply([change(RULE_A, 5), change(RULE_A, 3)]) == 0
        stored = await index.client.get(index=index.alias, id=RULE_A.name)
        assert stored["_version"] == 5
        # The token streams are indexed but not stored.
        assert "body_tokens" not in stored["_source"]


async def _refresh_interval(index: ElasticsearchIndex) -> str:
    found = await index.client.indices.get_settings(index=index.alias, name="index.refresh_interval")
    [settings] = found.body.values()
    return str(settings["settings"]["index"]["refresh_interval"])


async def test_a_backlog_refreshes_less_often_until_it_is_applied(elasticsearch_url: str, tmp_path: Path) -> None:
    # As the service runs it: no refresh per write, so a backlog may relax the interval.
    async with opened_index(elasticsearch_url, tmp_path, refresh=False, backlog=3) as index:
        await index.apply([change(v) for v in ALL[:2]])
        assert await _refresh_interval(index) == "100ms"
        await index.apply([change(v) for v in ALL])
        assert await _refresh_interval(index) == BACKLOG_REFRESH_INTERVAL
        # Put back once no backlog batch has come for a while (pytest-timeout bounds the wait).
        while await _refresh_interval(index) != "100ms":  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        # Put back with a refresh: every version of the backlog is searchable at once.
        states = frozenset(v.state for v in ALL if v.state != "PUBLIC_COMMENT")
        searchable = [v for v in ALL if v.state in states]
        assert (await index.search(SearchQuery(states=states, limit=50))).total == len(searchable) > 0

        # A writer that stopped mid-backlog left the backlog's interval: opening puts it back.
        await index.client.indices.put_settings(
            index=index.alias, settings={"refresh_interval": BACKLOG_REFRESH_INTERVAL}
        )
        await index.open()
        assert await _refresh_interval(index) == "100ms"


async def test_an_answer_elasticsearch_timed_out_on_is_refused_not_shown_in_part(
    elasticsearch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[dict[str, Any], str]] = []
    async with opened_index(elasticsearch_url, tmp_path) as index:
        real_options = index.client.options

        def options(**kwargs: Any) -> AsyncElasticsearch:
            bounded = real_options(**kwargs)
            real_search = bounded.search

            async def search(**request: Any) -> Any:
                sent.append((kwargs, request["timeout"]))
                response = await real_search(**request)
                # What Elasticsearch says when it stopped collecting at the request's timeout.
                response.body["timed_out"] = True
                return response

            monkeypatch.setattr(bounded, "search", search)
            return bounded

        await index.apply([change(v) for v in ALL])
        query = SearchQuery(text="备案", limit=100)
        monkeypatch.setattr(index.client, "options", options)
        with pytest.raises(SearchTooLong):
            await index.search(query, deadline=time.monotonic() + 30)
        # The budget went to Elasticsearch (which took the request) and to the client, without retries.
        ((bounds, timeout),) = sent
        assert bounds["max_retries"] == 0 and bounds["retry_on_timeout"] is False
        assert 0 < bounds["request_timeout"] <= 30
        assert timeout.endswith("ms") and 0 < int(timeout.removesuffix("ms")) <= 30_000
        monkeypatch.undo()
        assert (await index.search(query, deadline=time.monotonic() + 30)).total > 0
        # An answer that cannot come in time is given up at once, never retried, and never an error
        # of the service: the same refusal.
        with pytest.raises(SearchTooLong):
            await index.search(query, deadline=time.monotonic() + 0.001)


async def test_the_relaxed_search_of_a_query_of_many_common_terms_matches_only_its_rarest_few(
    elasticsearch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[dict[str, Any]] = []
    async with opened_index(elasticsearch_url, tmp_path) as index:
        real_search = index.client.search

        async def search(**request: Any) -> Any:
            sent.append(request)
            return await real_search(**request)

        await index.apply([change(v) for v in [*ALL, *COMMON]])
        monkeypatch.setattr(index.client, "search", search)
        found = await index.search(SearchQuery(text=COMMON_QUERY, relaxed=True))
    ((request),) = sent
    # The article query's terms (its `must`; the `should` only ranks).
    (text,) = request["query"]["bool"]["must"]
    nested = text["bool"]["must"][0]["bool"]["should"][0]["nested"]["query"]["bool"]["must"]
    # A phrase as sent: "articles.body": "..." or, weighed, "articles.body": {"query": "...", ...}.
    body = r'"articles\.body": (?:\{"query": )?"([^"]+)"'
    phrases = set(re.findall(body, json.dumps(nested, ensure_ascii=False)))
    assert len(phrases) <= RELAXED_TERMS
    # The rare words are asked for, the commonest (行政机关, in every COMMON version) are not.
    assert {"征收", "增值 值税"} <= phrases
    assert not {"行政", "政机", "机关"} & phrases
    assert found.hits[0].version.name == RULE_C.name
