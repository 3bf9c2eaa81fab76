"""The use cases of the public search, on the index port: search with snippets, read one public
version, list open consultations. No protobuf here; the servicer converts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from normreg_common.clock import Clock
from normreg_common.errors import NotFound
from normreg_common.profile import JurisdictionProfile

from normreg_search import analysis, budget
from normreg_search.index.port import SearchIndex
from normreg_search.model import PublicVersion, Visibility
from normreg_search.query import (
    BREADTH_WEIGHT,
    RANK_WINDOW,
    Hit,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    Sort,
    short_key,
)
from normreg_search.snippets import Snippet, snippets

# Fewer versions than a page of results: the question as read found too little (see `search`).
FEW = 10


@dataclass(frozen=True)
class FoundVersion:
    version: PublicVersion
    score: float
    snippets: tuple[Snippet, ...]


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[FoundVersion, ...]
    total: int
    facets: dict[str, tuple[tuple[str, int], ...]]


def about_first(hits: list[Hit]) -> list[Hit]:
    """Within a page, a version whose articles keep returning to the query before one that mentions
    it once: its score plus BREADTH_WEIGHT * ln(articles matched) (query.BREADTH_WEIGHT says why)."""
    scored = [replace(h, score=h.score + BREADTH_WEIGHT * math.log(max(1, h.matched))) for h in hits]
    return sorted(scored, key=lambda h: -h.score)


def law_before_its_amending_acts(hits: list[Hit], parsed: ParsedQuery) -> list[Hit]:
    """An amending act (刑法修正案（八）) repeats the words it put into a law; the reader wants the
    law as amended. Within a page, a law found below an act that amended it moves up just above
    that act, unless the query names the act itself."""
    out = list(hits)
    for hit in hits:
        amended = {e.note for e in hit.version.timeline if e.event == "amends"}
        named = short_key(hit.version.title) in parsed.short_keys or analysis.title_key(hit.version.title) == parsed.key
        if not amended or named:
            continue
        position = out.index(hit)
        for later in out[position + 1 :]:
            if later.version.title in amended:
                out.remove(later)
                out.insert(position, later)
                break
    return out


def verbatim_first(hits: list[Hit], parsed: ParsedQuery) -> list[Hit]:
    """A sentence pasted from a law is found by its tokens, which ignore punctuation: 主持。 and 主持，
    read alike. Within a page, a version holding a pasted clause character for character comes
    before one holding only its tokens; the laws the query names keep their place above both."""
    if not parsed.verbatim:
        return hits

    def order(hit: Hit) -> int:
        v = hit.version
        if short_key(v.title) in parsed.short_keys or analysis.title_key(v.title) == parsed.key:
            return 0
        texts = [v.title, *(a.text for a in v.articles)] if v.articles else [v.title, v.body]
        return 1 if any(clause in analysis.fold(text) for text in texts for clause in parsed.verbatim) else 2

    return sorted(hits, key=order)


class PublicSearch:
    def __init__(
        self,
        index: SearchIndex,
        clock: Clock,
        profile: JurisdictionProfile,
        *,
        time_budget_s: float = budget.DEFAULT_BUDGET_S,
    ) -> None:
        """`time_budget_s`: how long one search may run before it is stopped (SearchTooLong)."""
        self._index = index
        self._clock = clock
        self._profile = profile
        self._budget_s = time_budget_s

    def today(self) -> dt.date:
        return self._profile.local_date(self._clock.now())

    async def search(self, query: SearchQuery, *, remaining_s: float | None = None) -> SearchPage:
        """`remaining_s`: what is left of the caller's own deadline; the search ends by then too.
        Raises budget.SearchTooLong when it is stopped."""
        deadline = budget.deadline(remaining_s)
        asked = query
        ranked = query.sort is Sort.RELEVANCE and not query.parsed.empty and query.offset < RANK_WINDOW
        if ranked:
            # The whole window from its start, ordered below, then the page cut from it.
            asked = dataclasses.replace(query, offset=0, limit=max(RANK_WINDOW, query.offset + query.limit))
        result: SearchResult = await self._index.search(asked, deadline=deadline, budget_s=self._budget_s)
        after: list[Hit] = []
        if ranked and query.parsed.minimum_should_match > 1 and 0 < result.total < FEW:
            # A whole question cut into bigrams holds some the statutes never say (对政府采购结果有异议
            # -> 果有, 有异), so the law it is about may hold too few of them to be found. Less than a
            # page found: the versions holding its rarest words follow, never before what it found.
            more = await self._relaxed(asked, result, deadline)
            if more is not None:
                seen = {h.version.name for h in result.hits}
                after = [h for h in more.hits if h.version.name not in seen][: RANK_WINDOW - result.total]
                result = replace(result, total=result.total + len(after))
        if not result.total and query.parsed.minimum_should_match > 1:
            # Nothing holds enough of the query: rank whatever holds any of it rather than nothing.
            more = await self._relaxed(asked, result, deadline)
            if more is not None:
                result = more
                asked = replace(asked, relaxed=True)
        parsed = asked.parsed
        found = list(result.hits)
        if ranked:
            window = law_before_its_amending_acts(verbatim_first(about_first(found[:RANK_WINDOW]), parsed), parsed)
            found = (window + found[RANK_WINDOW:] + after)[query.offset : query.offset + query.limit]
        hits = tuple(FoundVersion(h.version, h.score, tuple(snippets(h.version, parsed, h.articles))) for h in found)
        return SearchPage(hits=hits, total=result.total, facets=result.facets)

    async def _relaxed(self, asked: SearchQuery, first: SearchResult, deadline: float | None) -> SearchResult | None:
        """The query again with any of its rarest terms enough, in what the first search left of the
        budget: it is one search to the caller. The budget counts running, not the wait for a turn,
        so the answer to a query is the same on a busy service as on an idle one (the caller's
        deadline bounds the waits). None when the budget runs out: any one of many common words
        matches a large part of the index, so this second search may cost many times the first and
        grows with the corpus. It is a courtesy; the answer to the query as read stands."""
        left = self._budget_s - first.ran_s
        if left <= 0:
            return None
        try:
            return await self._index.search(replace(asked, relaxed=True), deadline=deadline, budget_s=left)
        except budget.SearchTooLong:
            return None

    async def version(self, name: str) -> PublicVersion:
        found = await self._index.get(name)
        if found is None or not self._public_today(found):
            raise NotFound(name)
        return (await self._with_comment_counts([found]))[0]

    async def document(self, document: str, valid_on: dt.date | None = None) -> PublicVersion:
        """The version valid today; else the newest promulgated one; else a draft open for comment.

        With `valid_on`, the version valid that day, or NotFound.
        """
        versions = await self._index.versions_of(document)
        if valid_on is not None:
            valid = [v for v in versions if v.valid_on(valid_on)]
            if not valid:
                raise NotFound(f"{document} on {valid_on.isoformat()}")
            return max(valid, key=lambda v: (v.state == "IN_FORCE", v.valid_from or dt.date.min, v.name))
        chosen = self.pick(versions)
        if chosen is None:
            raise NotFound(document)
        return (await self._with_comment_counts([chosen]))[0]

    async def public_versions(self, document: str) -> list[PublicVersion]:
        """Every version of `document` the public may see today, oldest first."""
        versions = await self._index.versions_of(document)
        return sorted((v for v in versions if self._public_today(v)), key=lambda v: v.version_number)

    async def by_uniform_number(self, number: str) -> PublicVersion:
        chosen = self.pick(await self._index.by_uniform_number(number))
        if chosen is None:
            raise NotFound(f"uniform number {number}")
        return chosen

    def pick(self, versions: list[PublicVersion]) -> PublicVersion | None:
        today = self.today()
        searchable = [v for v in versions if v.visibility is Visibility.SEARCHABLE]
        valid = [v for v in searchable if v.valid_on(today)]
        if valid:
            return max(valid, key=lambda v: (v.state == "IN_FORCE", v.valid_from or dt.date.min, v.name))
        if searchable:
            return max(searchable, key=lambda v: (v.promulgation_date or dt.date.min, v.version_number, v.name))
        open_ = [v for v in versions if v.open_for_comment(today)]
        return max(open_, key=lambda v: v.version_number) if open_ else None

    async def consultations(self, offset: int, limit: int) -> tuple[list[PublicVersion], int]:
        found, total = await self._index.open_consultations(self.today(), offset, limit)
        return await self._with_comment_counts(found), total

    async def _with_comment_counts(self, versions: Sequence[PublicVersion]) -> list[PublicVersion]:
        """Drafts open for comment with the count of comments received; other versions as they are."""
        drafts = [v.name for v in versions if v.visibility is Visibility.CONSULTATION]
        counts = await self._index.comment_counts(drafts) if drafts else {}
        return [replace(v, comment_count=counts[v.name]) if v.name in counts else v for v in versions]

    def _public_today(self, version: PublicVersion) -> bool:
        if version.visibility is Visibility.SEARCHABLE:
            return True
        return version.open_for_comment(self.today())
