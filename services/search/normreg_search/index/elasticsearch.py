"""Elasticsearch behind the search index port (AsyncElasticsearch, ES 9).

- An index template gives every physical index `{prefix}-v{n}` the same settings and mappings; the
  alias `{prefix}` (default `normreg-documents`) points at the live one. A rebuild fills `v{n+1}`
  and moves the alias in one `_aliases` call, so searches never see an empty index.
- The analysis is ours (`analysis.py`): the token fields use the prebuilt `whitespace` analyzer,
  the one piece of text analysis a distribution without the analysis-common module still has
  (its `whitespace` tokenizer cannot be used in a custom analyzer there). Tokens arrive lower-cased.
- Each version is one document, `_id` = its name, written with `version_type=external` and
  `version` = the event's sequence: an older or repeated write gets 409, which means "already
  applied". A version that stops being public is overwritten by a tombstone, never deleted (delete
  tombstones expire after `index.gc_deletes` and a late older event could then revive it).
- `refresh` is passed on every write: tests use "wait_for", the service leaves it to the interval.
- While the consumer is behind (a batch of `backlog` changes or more: a bulk import, a replay), the
  live index refreshes every BACKLOG_REFRESH_INTERVAL instead of every `refresh_interval`: each
  refresh makes a segment that merges then rewrite, the cost Elasticsearch's own advice for bulk
  loads is about. The interval is put back once no such batch has come for BACKLOG_IDLE_S, and by
  `open()` after a crash. Versions written meanwhile are searchable within that interval, never
  later; a write with `refresh="wait_for"` (tests) keeps the interval as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import json
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, cast

from elastic_transport import AiohttpHttpNode, ConnectionTimeout, HttpHeaders, TransportError
from elastic_transport._node import NodeApiResponse
from elastic_transport.client_utils import DEFAULT, DefaultType
from elasticsearch import ApiError, AsyncElasticsearch, BadRequestError, NotFoundError
from normreg_common.sqlite import Database

from normreg_search import analysis
from normreg_search.budget import SearchTooLong
from normreg_search.index.port import (
    IndexBuild,
    OnCommit,
    SearchIndex,
    article_rows,
    decode_version,
    effective_states,
    encode_version,
    highest_counts,
    latest_per_version,
)
from normreg_search.model import CommentCount, PublicVersion, VersionChange, Visibility
from normreg_search.query import (
    FACET_ISSUING_BODIES,
    FACET_KINDS,
    FACET_STATES,
    FACET_YEARS,
    Field,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    Sort,
    Term,
    rarest,
    relaxed_tokens,
    short_key,
    typed_title_phrases,
)
from normreg_search.query import Hit as SearchHit

log = logging.getLogger(__name__)

DEFAULT_ALIAS = "normreg-documents"
Refresh = Literal["wait_for"] | bool

TITLE_BOOST = 6.0
CHARS_BOOST = 0.3
LABEL_BOOST = 2.0
# A title that is the query, or the law it names, ranks first (as in the embedded index).
TITLE_KEY_BONUS = 1000.0
# An article holding a long typed clause verbatim (ParsedQuery.verbatim): above any sum of shared
# bigrams, below a title the query names.
VERBATIM_BONUS = 500.0
# Nested documents per version; ES refuses more than index.mapping.nested_objects.limit (10,000).
MAX_ARTICLES = 9_000
MAX_FACET_VALUES = 50
# Bulk requests are split near this many bytes of JSON; gzip brings them to about a quarter. The
# estimate runs about a third above the JSON sent (~2.2 MB a request, ~0.5 MB gzipped). Not larger:
# the client hands aiohttp each body as one bytes object, and above 1 MiB on the wire aiohttp warns
# that it blocks the event loop while sending (a 10 MB estimate sent ~1.8 MB gzipped and did).
BULK_BYTES = 3_000_000
# A batch this large says the consumer is behind (it polls up to 500 records at a time).
BACKLOG_CHANGES = 200
BACKLOG_REFRESH_INTERVAL = "30s"
BACKLOG_IDLE_S = 1.0
TOKEN_FIELDS = ["title_tokens", "articles"]

_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date", "format": "strict_date"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    # The token streams are indexed, not kept: the public view lives in `payload`.
    "_source": {"excludes": TOKEN_FIELDS},
    "properties": {
        "name": _KEYWORD,
        "document": _KEYWORD,
        "version_number": {"type": "integer"},
        "sequence": {"type": "long"},
        "visibility": _KEYWORD,
        "state": _KEYWORD,
        "kind": _KEYWORD,
        "issuing_body": _KEYWORD,
        "uniform_number": _KEYWORD,
        "promulgation_date": _DATE,
        "effective_date": _DATE,
        "valid_from": _DATE,
        "valid_to": _DATE,
        "year": _KEYWORD,
        "comment_start": _DATE,
        "comment_end": _DATE,
        "title_tokens": {"type": "text", "analyzer": "whitespace"},
        # One nested document per article, scored on its own (BM25 per article), the version scoring
        # as its best article, as in the embedded index.
        "articles": {
            "type": "nested",
            "properties": {
                "label": _KEYWORD,
                "body": {"type": "text", "analyzer": "whitespace"},
                "chars": {"type": "text", "analyzer": "whitespace", "index_options": "freqs"},
            },
        },
        "key": _KEYWORD,
        "short": _KEYWORD,
        "payload": {"type": "object", "enabled": False},
    },
}


def _settings(shards: int, replicas: int, refresh_interval: str) -> dict[str, Any]:
    return {
        "number_of_shards": shards,
        "number_of_replicas": replicas,
        # Set explicitly: with the default, an index nobody searched for 30 s stops refreshing.
        "refresh_interval": refresh_interval,
    }


class IndexWriteError(RuntimeError):
    """A bulk item was refused for what it holds (a 4xx other than a version conflict): the record is
    set aside as a dead letter and the others go on."""


class IndexBusy(IndexWriteError):
    """A bulk item failed because the node is busy or failing (429, 5xx): the batch is retried."""


def _document(change: VersionChange) -> dict[str, Any]:
    v = change.version
    doc: dict[str, Any] = {
        "name": change.name,
        "document": change.document,
        "version_number": int(change.name.rsplit("/", 1)[1]),
        "sequence": change.sequence,
        "visibility": change.visibility.value,
    }
    if v is None:
        return doc
    doc.update(
        state=v.state,
        kind=v.kind,
        issuing_body=v.issuing_body,
        uniform_number=v.uniform_number,
        promulgation_date=_iso(v.promulgation_date),
        effective_date=_iso(v.effective_date),
        valid_from=_iso(v.valid_from),
        valid_to=_iso(v.valid_to),
        year=str(v.year) if v.year else None,
        comment_start=_iso(v.comment_start),
        comment_end=_iso(v.comment_end),
        payload=encode_version(v),
    )
    if change.visibility is Visibility.SEARCHABLE:
        title = analysis.bigram_stream(v.title)
        doc.update(
            title_tokens=title,
            articles=[
                {
                    "label": label,
                    "body": analysis.bigram_stream(text),
                    "chars": analysis.unigram_stream(chars),
                }
                for label, text, chars in article_rows(v, MAX_ARTICLES)
            ],
            key=analysis.title_key(v.title),
            short=short_key(v.title),
        )
    return doc


# Request bodies from this size on (a bulk's: up to BULK_BYTES) go compressed.
COMPRESS_FROM_BYTES = 64 * 1024
# zlib's fastest level: over a loopback or a data centre's network the time to compress is what
# counts, and level 1 still shrinks a bulk of token streams about threefold.
COMPRESS_LEVEL = 1


class CompressingNode(AiohttpHttpNode):
    """The client's connection, sending a large body gzip-compressed, at level 1, on a worker thread.
    The client's own `http_compress` compresses every body at level 9 on the event loop: during a
    100k import that was 41 % of the search service's CPU, and each bulk held the loop (and every
    search waiting on it) while it ran."""

    async def perform_request(  # type: ignore[override]
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: DefaultType | float | None = DEFAULT,
    ) -> NodeApiResponse:
        if body is not None and len(body) >= COMPRESS_FROM_BYTES:
            body = await asyncio.to_thread(gzip.compress, body, COMPRESS_LEVEL)
            headers = HttpHeaders(headers or {})
            headers["content-encoding"] = "gzip"
        return await super().perform_request(method, target, body, headers, request_timeout)


def _bulk_body(index: str, chunk: Sequence[tuple[VersionChange, dict[str, Any]]]) -> bytes:
    """The NDJSON of one bulk request, written off the event loop (the client would write it on it)."""
    lines: list[str] = []
    for change, document in chunk:
        action = {"_index": index, "_id": change.name, "version": change.sequence, "version_type": "external"}
        lines.append(json.dumps({"index": action}, ensure_ascii=False, separators=(",", ":")))
        lines.append(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
    lines.append("")
    return "\n".join(lines).encode("utf-8")


def _chunks(changes: Sequence[VersionChange]) -> Iterator[list[tuple[VersionChange, dict[str, Any]]]]:
    """Bulk requests of at most about BULK_BYTES each (one document may exceed it alone)."""
    chunk: list[tuple[VersionChange, dict[str, Any]]] = []
    size = 0
    for change in changes:
        document = _document(change)
        estimate = 1_000 + 3 * sum(len(v) for v in document.values() if isinstance(v, str))
        # The token streams of the articles (UTF-8: three bytes a character).
        estimate += 3 * sum(len(text) + 40 for a in document.get("articles", ()) for text in a.values())
        if change.version is not None:
            estimate += 6 * len(change.version.body)  # the body and the articles, in the payload
        if chunk and size + estimate > BULK_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append((change, document))
        size += estimate
    if chunk:
        yield chunk


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _phrase(tokens: tuple[str, ...]) -> dict[str, Any]:
    return {"match_phrase": {"articles.body": " ".join(tokens)}}


def _phrase_once(tokens: tuple[str, ...]) -> dict[str, Any]:
    """A phrase that scores as one thing, as bm25 scores a phrase in the embedded index. Lucene adds
    up the weights of a phrase's tokens, so 未成年人 (three bigrams) outweighed 子女 (one) threefold
    as readings of the same 孩子, and a law using the longer wording came first for it."""
    return {"match_phrase": {"articles.body": {"query": " ".join(tokens), "boost": 1.0 / len(tokens)}}}


def _title_phrase(tokens: tuple[str, ...], boost: float = 1.0) -> dict[str, Any]:
    return {"match_phrase": {"title_tokens": {"query": " ".join(tokens), "boost": boost}}}


def term_query(term: Term) -> dict[str, Any]:
    if term.field is Field.CHARS:
        return {"match": {"articles.chars": {"query": term.alternatives[0][0], "boost": CHARS_BOOST}}}
    if term.field is Field.LABEL:
        # An article by its label, or a text citing it.
        label = term.alternatives[0][0]
        return {
            "bool": {
                "should": [
                    {"term": {"articles.label": {"value": label, "boost": LABEL_BOOST}}},
                    _phrase(tuple(analysis.bigram_tokens(label))),
                ]
            }
        }
    alternatives = [_phrase_once(tokens) for tokens in term.alternatives]
    return alternatives[0] if len(alternatives) == 1 else {"bool": {"should": alternatives}}


def article_query(parsed: ParsedQuery) -> dict[str, Any]:
    """An article's query: every quoted phrase, `minimum_should_match` of the terms; the verbatim
    pieces only score. The same reading as the embedded index's MATCH."""
    must: list[dict[str, Any]] = []
    for clause in parsed.clauses:
        if clause.tokens:
            must.append(_phrase(clause.tokens))
        if clause.required_chars:
            chars = " ".join(clause.required_chars)
            must.append({"match": {"articles.chars": {"query": chars, "operator": "and", "boost": CHARS_BOOST}}})
    should: list[dict[str, Any]] = []
    if parsed.terms:
        must.append(
            {
                "bool": {
                    "should": [term_query(term) for term in parsed.terms],
                    "minimum_should_match": parsed.minimum_should_match,
                }
            }
        )
        should = [_phrase_once(tokens) for tokens in parsed.boost_phrases]
        should += [
            {"constant_score": {"filter": _phrase(tokens), "boost": VERBATIM_BONUS}}
            for tokens in parsed.verbatim_tokens
        ]
    return {"bool": {"must": must, "should": should}}


def title_scores(parsed: ParsedQuery) -> list[dict[str, Any]]:
    """What of the query a title holds (query.typed_title_phrases), or a term's expansion in the
    title of the law that is about exactly it (ParsedQuery.subjects), as in the embedded index."""
    scores = [_title_phrase(tokens, TITLE_BOOST) for tokens in typed_title_phrases(parsed)]
    scores += [
        {"bool": {"must": [_title_phrase(tokens, TITLE_BOOST)], "filter": [{"term": {"short": key}}]}}
        for tokens, key in parsed.subjects
    ]
    return scores


def text_query(parsed: ParsedQuery) -> dict[str, Any]:
    """A version matches by an article, by a title holding every piece of the query (any, when
    relaxed), or by its title's key; it scores as its best article, plus its title's match, plus a
    constant when its title is the query or the law the query names."""
    keys: list[dict[str, Any]] = []
    if parsed.key:
        keys.append({"term": {"key": parsed.key}})
    if parsed.short_keys:
        keys.append({"terms": {"short": list(parsed.short_keys)}})
    matches: list[dict[str, Any]] = [
        {
            "nested": {
                "path": "articles",
                "score_mode": "max",
                "query": article_query(parsed),
                # The best articles' positions, for the snippets: no source, no highlighting.
                "inner_hits": {"name": "articles", "size": 2, "_source": False},
            }
        }
    ]
    if keys:
        matches.append({"constant_score": {"filter": {"bool": {"should": keys}}, "boost": TITLE_KEY_BONUS}})
    if parsed.key:
        # The title typed in full ranks above the laws the query names by short title.
        matches.append({"constant_score": {"filter": {"term": {"key": parsed.key}}, "boost": TITLE_KEY_BONUS}})
    pieces = [_title_phrase(tokens) for tokens in parsed.title_phrases]
    pieces += [_title_phrase(c.tokens) for c in parsed.clauses if c.tokens]
    if pieces:
        held = {"bool": {"should": pieces, "minimum_should_match": 1 if parsed.relaxed else len(pieces)}}
        matches.append({"constant_score": {"filter": held, "boost": 0.0}})
    return {
        "bool": {"must": [{"bool": {"should": matches, "minimum_should_match": 1}}], "should": title_scores(parsed)}
    }


def _range(field: str, start: dt.date | None, end: dt.date | None) -> list[dict[str, Any]]:
    bounds = {}
    if start is not None:
        bounds["gte"] = start.isoformat()
    if end is not None:
        bounds["lte"] = end.isoformat()
    return [{"range": {field: bounds}}] if bounds else []


def _filters(query: SearchQuery) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(filters every facet shares, {facet dimension: its filter})."""
    common: list[dict[str, Any]] = [{"term": {"visibility": Visibility.SEARCHABLE.value}}]
    if query.valid_on is not None:
        day = query.valid_on.isoformat()
        common.append({"range": {"valid_from": {"lte": day}}})
        common.append(
            {
                "bool": {
                    "should": [
                        {"range": {"valid_to": {"gt": day}}},
                        {"bool": {"must_not": {"exists": {"field": "valid_to"}}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    common += _range("promulgation_date", query.promulgation.start, query.promulgation.end)
    common += _range("effective_date", query.effective.start, query.effective.end)
    if query.uniform_number:
        common.append({"term": {"uniform_number": query.uniform_number}})
    dims: dict[str, dict[str, Any]] = {}
    states = effective_states(query)
    if states is not None:
        dims[FACET_STATES] = {"terms": {"state": sorted(states)}}
    if query.kinds:
        dims[FACET_KINDS] = {"terms": {"kind": sorted(query.kinds)}}
    if query.issuing_bodies:
        dims[FACET_ISSUING_BODIES] = {"terms": {"issuing_body": sorted(query.issuing_bodies)}}
    return common, dims


_FACET_FIELDS = {
    FACET_STATES: "state",
    FACET_KINDS: "kind",
    FACET_ISSUING_BODIES: "issuing_body",
    FACET_YEARS: "year",
}


def _sort(query: SearchQuery, parsed: ParsedQuery) -> list[Any]:
    by_date = {
        Sort.PROMULGATION_DATE_DESC: "promulgation_date",
        Sort.EFFECTIVE_DATE_DESC: "effective_date",
    }.get(query.sort)
    if by_date is None and parsed.empty:
        by_date = "promulgation_date"
    if by_date is None:
        return ["_score", {"name": "asc"}]
    return [{by_date: {"order": "desc", "missing": "_last"}}, {"name": "asc"}]


def _best_articles(hit: dict[str, Any]) -> tuple[int, ...]:
    inner = hit.get("inner_hits", {}).get("articles", {}).get("hits", {}).get("hits", [])
    return tuple(int(h["_nested"]["offset"]) for h in inner if "_nested" in h)


def _matched_articles(hit: dict[str, Any]) -> int:
    """How many articles matched: the inner hits' total (they return the best two)."""
    total = hit.get("inner_hits", {}).get("articles", {}).get("hits", {}).get("total", {})
    return int(total.get("value", 0)) if isinstance(total, dict) else int(total or 0)


class ElasticsearchIndex(SearchIndex):
    def __init__(
        self,
        url: str,
        db: Database,
        *,
        alias: str = DEFAULT_ALIAS,
        refresh: Refresh = False,
        shards: int = 1,
        replicas: int = 0,
        refresh_interval: str = "1s",
        request_timeout: float = 30.0,
        connection: Mapping[str, Any] | None = None,
        backlog: int = BACKLOG_CHANGES,
    ) -> None:
        """`db` is search.db, where the consumer keeps its positions (written after each bulk).

        `refresh="wait_for"` makes a write return once searches see it, which takes up to
        `refresh_interval`; tests shorten the interval rather than force refreshes.
        """
        # Compressed large requests (CompressingNode): token streams compress about threefold, and
        # aiohttp warns about (and would write in one go) request bodies above 1 MiB. Answers come
        # compressed too, as with the client's own `http_compress`, which is off: it would compress
        # every request again, at level 9, on the event loop.
        # `connection`: the cluster's CA and our credentials (api_key or basic_auth), from settings.
        self._client = AsyncElasticsearch(
            url,
            node_class=CompressingNode,
            headers={"accept-encoding": "gzip"},
            request_timeout=request_timeout,
            retry_on_timeout=True,
            **(connection or {}),
        )
        self._db = db
        self.alias = alias
        self._refresh = refresh
        self._shards = shards
        self._replicas = replicas
        self._refresh_interval = refresh_interval
        self._backlog = backlog
        # Set while the live index refreshes at the backlog's interval: the task that puts it back.
        self._relaxed: asyncio.Task[None] | None = None
        self._last_backlog = 0.0

    @property
    def client(self) -> AsyncElasticsearch:
        return self._client

    # ---- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        await self._client.indices.put_index_template(
            name=f"{self.alias}-template",
            index_patterns=[f"{self.alias}-v*"],
            template={
                "settings": _settings(self._shards, self._replicas, self._refresh_interval),
                "mappings": MAPPINGS,
            },
            priority=100,
            meta={"managed_by": "normreg-search"},
        )
        if not await self._client.indices.exists(index=self.comments_index):
            with contextlib.suppress(BadRequestError):  # another instance created it first
                await self._client.indices.create(
                    index=self.comments_index,
                    settings=_settings(self._shards, self._replicas, self._refresh_interval),
                    mappings={"dynamic": "strict", "properties": {"count": {"type": "integer"}}},
                )
        if await self._client.indices.exists_alias(name=self.alias):
            # A writer that stopped during a backlog may have left the backlog's interval.
            await self._put_refresh_interval(self._refresh_interval)
            # An index made by an earlier layout gets the new fields (its versions get articles when
            # they are next written, or at once with `normreg reindex`).
            await self._client.indices.put_mapping(
                index=self.alias, properties={k: MAPPINGS["properties"][k] for k in ("articles", "short")}
            )
            return
        first = f"{self.alias}-v{await self._next_generation()}"
        try:
            await self._client.indices.create(index=first, aliases={self.alias: {"is_write_index": True}})
        except BadRequestError as exc:
            # Another instance created it first.
            if exc.error != "resource_already_exists_exception":
                raise
            await self._client.indices.put_alias(index=first, name=self.alias, is_write_index=True)

    async def open_for_reading(self) -> None:
        # The writing process made the template, the alias and its indices; reads go through the alias.
        return None

    async def close(self) -> None:
        if self._relaxed is not None:
            self._relaxed.cancel()
            with contextlib.suppress(asyncio.CancelledError, TransportError, ApiError):
                await self._relaxed
            with contextlib.suppress(TransportError, ApiError):
                await self._restore_refresh()
        await self._client.close()

    async def refresh(self) -> None:
        await self._client.indices.refresh(index=self.alias)

    async def drop_everything(self) -> None:
        """Delete the physical indices, alias and template (test clean-up)."""
        for name in [*await self._physical_indices(), self.comments_index]:
            await self._client.indices.delete(index=name, ignore_unavailable=True)
        with contextlib.suppress(NotFoundError):
            await self._client.indices.delete_index_template(name=f"{self.alias}-template")

    async def _physical_indices(self) -> list[str]:
        found = await self._client.indices.get(index=f"{self.alias}-v*", allow_no_indices=True, expand_wildcards="all")
        return sorted(found.body, key=self._generation_of)

    def _generation_of(self, index: str) -> int:
        suffix = index.removeprefix(f"{self.alias}-v")
        return int(suffix) if suffix.isdigit() else 0

    async def _next_generation(self) -> int:
        existing = [self._generation_of(i) for i in await self._physical_indices()]
        return max(existing, default=0) + 1

    async def current_index(self) -> str:
        found = await self._client.indices.get_alias(name=self.alias)
        return str(next(iter(found.body)))

    # ---- writes ------------------------------------------------------------------------------------

    async def apply(
        self,
        changes: Sequence[VersionChange],
        *,
        comments: Sequence[CommentCount] = (),
        on_commit: OnCommit | None = None,
    ) -> int:
        if self._refresh is False and len(changes) >= self._backlog:
            await self._relax_refresh()
        applied = await self._bulk(self.alias, changes, self._refresh)
        await self._count_comments(comments)
        if on_commit is not None:
            await self._db.transaction(on_commit)
        return applied

    async def _relax_refresh(self) -> None:
        self._last_backlog = time.monotonic()
        if self._relaxed is not None and not self._relaxed.done():
            return
        await self._put_refresh_interval(BACKLOG_REFRESH_INTERVAL)
        self._relaxed = asyncio.create_task(self._restore_when_caught_up())

    async def _restore_when_caught_up(self) -> None:
        # A deadline each backlog batch moves on, not an event to wait for.
        while (idle := time.monotonic() - self._last_backlog) < BACKLOG_IDLE_S:  # noqa: ASYNC110
            await asyncio.sleep(BACKLOG_IDLE_S - idle)
        try:
            await self._restore_refresh()
        except (TransportError, ApiError):
            # Put back by the next backlog's end, or by open(); the backlog's interval bounds how
            # stale searches are meanwhile.
            log.warning("could not put back the refresh interval of %s", self.alias, exc_info=True)

    async def _restore_refresh(self) -> None:
        # Refreshed first: once the interval reads as put back, the whole backlog is searchable (what
        # is written between the two is within one short interval of it).
        await self._client.indices.refresh(index=self.alias)
        await self._put_refresh_interval(self._refresh_interval)

    async def _put_refresh_interval(self, interval: str) -> None:
        await self._client.indices.put_settings(index=self.alias, settings={"refresh_interval": interval})

    async def _bulk(self, index: str, changes: Sequence[VersionChange], refresh: Refresh) -> int:
        applied = 0
        # Tokenising a long law takes a while: off the event loop, which goes on serving searches.
        # So is writing its requests (the client passes bytes through as they are).
        bodies = await asyncio.to_thread(
            lambda: [_bulk_body(index, chunk) for chunk in _chunks(latest_per_version(changes))]
        )
        for body in bodies:
            # Typed as the actions, but bytes are sent as they are (NdjsonSerializer).
            response = await self._client.bulk(operations=cast(Any, body), refresh=refresh)
            for item in response["items"]:
                result = item["index"]
                status = int(result.get("status", 0))
                if status in (200, 201):
                    applied += 1
                elif status != 409:  # 409: this or a newer sequence is already there
                    error = IndexBusy if status == 429 or status >= 500 else IndexWriteError
                    raise error(f"indexing {result.get('_id')} failed ({status}): {result.get('error')}")
        return applied

    @property
    def comments_index(self) -> str:
        # Beside the versions' physical indices (not matched by their template, untouched by a
        # rebuild): counts come from the registry's comment events, which a rebuild need not replay.
        return f"{self.alias}-comments"

    async def _count_comments(self, comments: Sequence[CommentCount]) -> None:
        counts = highest_counts(comments)
        if not counts:
            return
        operations: list[dict[str, Any]] = []
        for name, count in counts.items():
            # External version = the count: a lower or repeated count gets 409, so the highest stays.
            operations.append(
                {"index": {"_index": self.comments_index, "_id": name, "version": count, "version_type": "external"}}
            )
            operations.append({"count": count})
        response = await self._client.bulk(operations=operations, refresh=self._refresh)
        for item in response["items"]:
            result = item["index"]
            status = int(result.get("status", 0))
            if status not in (200, 201, 409):
                error = IndexBusy if status == 429 or status >= 500 else IndexWriteError
                raise error(f"counting comments of {result.get('_id')} failed ({status}): {result.get('error')}")

    # ---- reads -------------------------------------------------------------------------------------

    async def comment_counts(self, names: Sequence[str]) -> dict[str, int]:
        if not names:
            return {}
        found = await self._client.mget(index=self.comments_index, ids=list(names))
        return {d["_id"]: int(d["_source"]["count"]) for d in found["docs"] if d.get("found")}

    async def get(self, name: str) -> PublicVersion | None:
        try:
            found = await self._client.get(index=self.alias, id=name, source_includes=["visibility", "payload"])
        except NotFoundError:
            return None
        source = found["_source"]
        if source.get("visibility") == Visibility.HIDDEN.value or "payload" not in source:
            return None
        return decode_version(source["payload"])

    async def _select(self, query: dict[str, Any], sort: list[Any], size: int = 1000) -> list[PublicVersion]:
        response = await self._client.search(
            index=self.alias, query=query, sort=sort, size=size, source_includes=["payload"]
        )
        return [decode_version(h["_source"]["payload"]) for h in response["hits"]["hits"]]

    async def versions_of(self, document: str) -> list[PublicVersion]:
        return await self._select(
            {
                "bool": {
                    "filter": [{"term": {"document": document}}],
                    "must_not": [{"term": {"visibility": Visibility.HIDDEN.value}}],
                }
            },
            [{"version_number": "asc"}],
        )

    async def by_uniform_number(self, number: str) -> list[PublicVersion]:
        return await self._select(
            {
                "bool": {
                    "filter": [
                        {"term": {"uniform_number": number}},
                        {"term": {"visibility": Visibility.SEARCHABLE.value}},
                    ]
                }
            },
            [{"name": "asc"}],
            size=100,
        )

    async def search(
        self, query: SearchQuery, *, deadline: float | None = None, budget_s: float | None = None
    ) -> SearchResult:
        parsed = query.parsed
        if not parsed.empty and not parsed.matchable:
            return SearchResult(hits=(), total=0, facets={})
        common, dims = _filters(query)
        text = {"match_all": {}} if parsed.empty else text_query(parsed)
        aggs: dict[str, Any] = {}
        for facet, field in _FACET_FIELDS.items():
            others = [f for d, f in dims.items() if d != facet]
            aggs[facet] = {
                "filter": {"bool": {"filter": others}},
                "aggs": {"values": {"terms": {"field": field, "size": MAX_FACET_VALUES}}},
            }
        request: dict[str, Any] = {
            "query": {"bool": {"must": [text], "filter": common}},
            "post_filter": {"bool": {"filter": list(dims.values())}},
            "aggs": aggs,
            "sort": _sort(query, parsed),
            "from_": query.offset,
            "size": query.limit,
            "track_total_hits": True,
            "track_scores": True,
            "source_includes": ["payload"],
        }
        client = self._client
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise SearchTooLong()
        bounds = [b for b in (left, budget_s) if b is not None]
        if bounds:
            # Elasticsearch stops collecting at `timeout` (counted from when the search runs) and
            # says so (timed_out). The client waits for the answer as long as its caller does, else
            # twice the budget (the search may wait in the cluster's queue), once and without
            # retrying.
            request["timeout"] = f"{max(1, int(min(bounds) * 1000))}ms"
            wait = left if left is not None else 2 * min(bounds)
            client = client.options(request_timeout=wait, retry_on_timeout=False, max_retries=0)
        try:
            if parsed.relaxed:
                # As the embedded index asks it: the rarest of the query's terms, by Elasticsearch's
                # own counts of articles per token.
                parsed = rarest(parsed, await self._frequencies(client, relaxed_tokens(parsed)))
                request["query"]["bool"]["must"] = [text_query(parsed)]
            response = await client.search(index=self.alias, **request)
        except ConnectionTimeout:
            raise SearchTooLong() from None
        if response.body.get("timed_out"):
            # What was collected until then are the hits and counts of a part of the index: a page,
            # a total and facets that would change with the load. Refused, as the embedded index
            # refuses, rather than shown as if whole.
            raise SearchTooLong()
        hits = tuple(
            SearchHit(
                decode_version(h["_source"]["payload"]),
                float(h.get("_score") or 0.0),
                _best_articles(h),
                _matched_articles(h),
            )
            for h in response["hits"]["hits"]
        )
        aggregations = response["aggregations"]
        facets = {
            facet: tuple(
                sorted(
                    ((str(b["key"]), int(b["doc_count"])) for b in aggregations[facet]["values"]["buckets"]),
                    key=lambda kc: (-kc[1], kc[0]),
                )
            )
            for facet in _FACET_FIELDS
        }
        return SearchResult(
            hits=hits,
            total=int(response["hits"]["total"]["value"]),
            facets=facets,
            # The cluster's own count (`took`): a wait in the client's or the network's queue is not
            # the search's running.
            ran_s=float(response.body.get("took", 0)) / 1000,
        )

    async def _frequencies(self, client: AsyncElasticsearch, tokens: Sequence[str]) -> dict[str, int]:
        """How many articles hold each token: the term statistics of an artificial document (read
        from the terms dictionary, whatever the token's count; of the shard the document would go
        to, which is the whole index with one primary)."""
        if not tokens:
            return {}
        response = await client.termvectors(
            index=self.alias,
            doc={"articles": [{"body": " ".join(tokens)}]},
            fields=["articles.body"],
            term_statistics=True,
            field_statistics=False,
            positions=False,
            offsets=False,
            payloads=False,
        )
        terms = response.body.get("term_vectors", {}).get("articles.body", {}).get("terms", {})
        return {str(token): int(stats.get("doc_freq", 0)) for token, stats in terms.items()}

    async def open_consultations(self, day: dt.date, offset: int, limit: int) -> tuple[list[PublicVersion], int]:
        iso = day.isoformat()
        response = await self._client.search(
            index=self.alias,
            query={
                "bool": {
                    "filter": [
                        {"term": {"visibility": Visibility.CONSULTATION.value}},
                        {"range": {"comment_start": {"lte": iso}}},
                        {"range": {"comment_end": {"gte": iso}}},
                    ]
                }
            },
            sort=[{"comment_end": "asc"}, {"name": "asc"}],
            from_=offset,
            size=limit,
            track_total_hits=True,
            source_includes=["payload"],
        )
        found = [decode_version(h["_source"]["payload"]) for h in response["hits"]["hits"]]
        return found, int(response["hits"]["total"]["value"])

    async def entries(self) -> dict[str, tuple[int, PublicVersion | None]]:
        out: dict[str, tuple[int, PublicVersion | None]] = {}
        response = await self._client.search(
            index=self.alias, query={"match_all": {}}, size=10_000, sort=[{"name": "asc"}], version=True
        )
        for hit in response["hits"]["hits"]:
            payload = hit["_source"].get("payload")
            out[hit["_id"]] = (int(hit["_version"]), decode_version(payload) if payload else None)
        return out

    # ---- rebuild -------------------------------------------------------------------------------------

    async def begin_rebuild(self) -> IndexBuild:
        target = f"{self.alias}-v{await self._next_generation()}"
        await self._client.indices.create(index=target)
        return _ElasticsearchBuild(self, target)

    async def _fill(self, index: str, changes: Sequence[VersionChange]) -> int:
        return await self._bulk(index, changes, False)

    async def _switch(self, target: str) -> None:
        await self._client.indices.refresh(index=target)
        current = await self.current_index()
        await self._client.indices.update_aliases(
            actions=[
                {"remove": {"index": current, "alias": self.alias}},
                {"add": {"index": target, "alias": self.alias, "is_write_index": True}},
            ]
        )
        await self._client.indices.delete(index=current, ignore_unavailable=True)

    async def _delete(self, index: str) -> None:
        await self._client.indices.delete(index=index, ignore_unavailable=True)


class _ElasticsearchBuild(IndexBuild):
    def __init__(self, index: ElasticsearchIndex, target: str) -> None:
        self._index = index
        self.target = target

    async def apply(self, changes: Sequence[VersionChange]) -> int:
        return await self._index._fill(self.target, changes)

    async def switch(self) -> None:
        await self._index._switch(self.target)

    async def abort(self) -> None:
        await self._index._delete(self.target)
