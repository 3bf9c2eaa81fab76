"""What the public may ask, and how a query string is read. Standard library only.

A clause in double quotes ("..." or “...”) is a phrase: its tokens must be adjacent, in the title or
in one article. The rest of the query is read by `understanding`: fillers dropped, table terms
expanded to their statutory wordings, article labels normalised, the rest cut into bigrams. Each of
those is a term; an article matches when it holds at least `minimum_should_match` of them (all of
one or two, 60% of more), and articles rank by BM25 over every term, so an article holding more of the
query ranks higher. A document ranks by its best article, plus its title: a title that is the query
(or the law the query names, in full or short form) ranks first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from normreg_search import analysis, understanding
from normreg_search.model import PublicVersion

MAX_CLAUSES = 16
MAX_TOKENS = 128
MAX_TERMS = 24
# The second search of a query that found nothing (relaxed: any one term suffices) asks for this many
# of the query's terms at most, the rarest in the index. Any one of a long query's common words
# (关于, 实施, 人民, 管理) matches most of the index; that search then cost many times the first and
# grew with the corpus and with the query's length, while the rare words say what it is about.
RELAXED_TERMS = 8
# A term found in more articles than this says little about any of them (人民, 规定, 应当): the
# embedded index leaves it out of the query as read, and the relaxed query leaves it out too, unless
# the query has nothing rarer. So the articles the relaxed query matches are bounded by
# RELAXED_TERMS * COMMON_ARTICLES whatever the size of the index.
COMMON_ARTICLES = 2_000
# Within a page, a version ranks by its score plus BREADTH_WEIGHT * ln(the number of its articles that
# match): a law holding the query in many articles is about it, one that mentions it once is not (and
# gains nothing over a title that holds the query). A page, not the whole index: Elasticsearch as we
# run it has no script engine to add a logarithm inside the query, and the page is where the reader
# looks (the law is nearly always on it: recall@10 0.97 on the judged set).
# Without it 嫖娼 found 妇女权益保障法 (one article) above 治安管理处罚法, and a question about a
# child 未成年人保护法 above the family law. Chosen on the judged and held-out query sets: 4-8 alike.
BREADTH_WEIGHT = 6.0
# The page those orderings see: the first RANK_WINDOW hits, whatever page the caller asked for, so
# the same query puts the same law first at any page size (the portal's 20 and an API client's 5
# alike) and a page never repeats or skips what the one before showed. Past it, the backend's order.
RANK_WINDOW = 20
# A law against a thing is about it as much as a law named for it: 家庭暴力 -> 反家庭暴力法 as
# 社会保险 -> 社会保险法.
AGAINST = "反"
# An unquoted clause of at least this many tokens (seven CJK characters) reads as a run pasted from a
# law: an article holding all of it verbatim ranks above articles that only share its words.
VERBATIM_TOKENS = 6
_CLAUSES = re.compile(r'"([^"]*)"?|“([^”]*)”?')


class Field(enum.StrEnum):
    TEXT = "text"  # the title and the article's text, as bigrams and words
    CHARS = "chars"  # single CJK characters
    LABEL = "label"  # the article's label, one token (第三十条)


@dataclass(frozen=True)
class Clause:
    """A quoted phrase."""

    # Tokens of the bigram stream in position order, to be adjacent. A one-character CJK run at
    # either end is left out (it goes to required_chars): in the text that character may end or
    # start a longer run, where it is part of a bigram, not a token of its own.
    tokens: tuple[str, ...]
    # Single CJK characters that must occur somewhere (the unigram stream).
    required_chars: tuple[str, ...]
    # Folded strings to highlight.
    surfaces: tuple[str, ...]
    phrase: bool = True


@dataclass(frozen=True)
class Term:
    """One thing asked about, matched where any of its alternatives occurs (each a token sequence
    that must be adjacent)."""

    alternatives: tuple[tuple[str, ...], ...]
    field: Field = Field.TEXT


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    clauses: tuple[Clause, ...]
    terms: tuple[Term, ...]
    minimum_should_match: int
    # The unquoted pieces as typed (between fillers): ranked higher where they occur verbatim in an
    # article (those of two tokens or more) or in a title.
    boost_phrases: tuple[tuple[str, ...], ...]
    title_phrases: tuple[tuple[str, ...], ...]
    # The article asked for, as its label (第三十条), or "".
    article: str
    # Keys of titles that rank first: the whole query as a title, and the short titles it names.
    key: str
    short_keys: tuple[str, ...]
    surfaces: tuple[str, ...] = field(default=())
    # Clauses as typed (folded), long enough to read as pasted from a law (VERBATIM_TOKENS): an
    # article holding one's tokens adjacent gets a constant that no sum of shared common bigrams
    # outweighs, and within a page one holding it character for character, punctuation included,
    # comes before one holding only its tokens.
    verbatim: tuple[str, ...] = field(default=())
    # The statutory wordings a table term was read as (孩子 -> 未成年人), each with the short key of
    # the law it would be the subject of (未成年人 -> 未成年人法). A title ranks higher for holding
    # what was typed; for holding an expansion only where the law is about exactly that (社保 ->
    # 社会保险 -> 社会保险法), not where it is a word of a longer subject (未成年人保护法, which
    # otherwise came first for every question about a child).
    subjects: tuple[tuple[tuple[str, ...], str], ...] = field(default=())

    @property
    def verbatim_tokens(self) -> tuple[tuple[str, ...], ...]:
        return tuple(dict.fromkeys(surface_tokens(v) for v in self.verbatim))

    # Asked again with minimum_should_match 1 because the query as read found nothing.
    relaxed: bool = False

    @property
    def empty(self) -> bool:
        """No text at all: every document matches."""
        return not self.text.strip()

    @property
    def matchable(self) -> bool:
        """False when the text has nothing to search for (only punctuation or fillers)."""
        return bool(self.clauses or self.terms)

    @property
    def title_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.key, *self.short_keys) if k)


def short_key(title: str) -> str:
    """One token standing for a title's short form (understanding.short_title).

    >>> short_key("中华人民共和国刑法") == short_key("《刑法》")
    True
    """
    short = understanding.short_title(title)
    if not short:
        return ""
    return "s" + hashlib.sha1(short.encode(), usedforsecurity=False).hexdigest()[:20]


def surface_tokens(surface: str) -> tuple[str, ...]:
    return tuple(analysis.bigram_tokens(surface))


def parse_query(text: str, terms: understanding.Terms | None = None) -> ParsedQuery:
    clauses: list[Clause] = []
    budget = MAX_TOKENS
    for match in _CLAUSES.finditer(text):
        raw = match.group(1) if match.group(1) is not None else match.group(2)
        clause = _phrase(raw)
        if clause is None or len(clause.tokens) > budget:
            continue
        budget -= len(clause.tokens)
        clauses.append(clause)
        if len(clauses) == MAX_CLAUSES:
            break
    loose = _CLAUSES.sub(" ", text)
    read = understanding.understand(loose, terms, max_concepts=MAX_TERMS)
    found: list[Term] = []
    subjects: list[tuple[tuple[str, ...], str]] = []
    surfaces: list[str] = [s for c in clauses for s in c.surfaces]
    for concept in read.concepts:
        alternatives = tuple(dict.fromkeys(t for s in concept.surfaces if (t := surface_tokens(s))))
        if not alternatives:
            continue
        if concept.term:
            subjects += [
                (tokens, key)
                for s in concept.surfaces[1:]
                if len(tokens := surface_tokens(s)) > 1 and not s.endswith(understanding.LAW_ENDINGS)
                for key in (short_key(s + "法"), short_key(f"{AGAINST}{s}法"))
                if key
            ]
        single = alternatives[0]
        if len(alternatives) == 1 and len(single) == 1 and len(single[0]) == 1 and analysis.is_cjk(single[0]):
            found.append(Term(alternatives, Field.CHARS))
        else:
            found.append(Term(alternatives))
        if concept.term or not (len(concept.surfaces[0]) == 2 and analysis.is_cjk(concept.surfaces[0][0])):
            # Table terms, words, numbers and single characters are marked as such; bigrams are
            # marked through the piece they come from.
            surfaces.extend(concept.surfaces)
    if read.article:
        found.append(Term(((read.article,),), Field.LABEL))
        surfaces.append(read.article)
    pieces = tuple(dict.fromkeys(tokens for piece in read.pieces if (tokens := surface_tokens(piece))))
    # Each clause as typed (fillers and all) ranks higher where it occurs verbatim: a sentence
    # pasted from a law, then the pieces between its fillers.
    clauses_typed = [tokens for clause in loose.split() if len(tokens := surface_tokens(clause)) >= 2]
    boosts = tuple(dict.fromkeys([*clauses_typed, *(tokens for tokens in pieces if len(tokens) >= 2)]))
    surfaces.extend(read.pieces)
    stripped = text.replace('"', " ").replace("“", " ").replace("”", " ")
    return ParsedQuery(
        text=text,
        clauses=tuple(clauses),
        terms=tuple(found),
        minimum_should_match=understanding.minimum_should_match(len(found)),
        boost_phrases=boosts,
        title_phrases=pieces,
        article=read.article,
        key=analysis.title_key(stripped),
        short_keys=tuple(dict.fromkeys(k for t in read.titles if (k := short_key(t)))),
        surfaces=tuple(dict.fromkeys(s for s in surfaces if s)),
        verbatim=tuple(
            dict.fromkeys(
                analysis.fold(clause) for clause in loose.split() if len(surface_tokens(clause)) >= VERBATIM_TOKENS
            )
        ),
        subjects=tuple(dict.fromkeys(subjects)),
    )


@functools.lru_cache(maxsize=512)
def _parsed(text: str, relaxed: bool) -> ParsedQuery:
    parsed = parse_query(text)
    if not relaxed:
        return parsed
    return dataclasses.replace(parsed, minimum_should_match=min(1, parsed.minimum_should_match), relaxed=True)


def typed_title_phrases(parsed: ParsedQuery) -> list[tuple[str, ...]]:
    """What ranks a title higher wherever it holds it: a quoted phrase, a piece of the query as typed,
    a table term as typed (its expansions count only as `subjects`). Single shared bigrams of a
    longer piece do not count: long queries would otherwise favour titles made of common words."""
    phrases = [c.tokens for c in parsed.clauses if c.tokens]
    phrases += list(parsed.title_phrases)
    phrases += [
        term.alternatives[0] for term in parsed.terms if term.field is Field.TEXT and len(term.alternatives[0]) > 1
    ]
    return list(dict.fromkeys(phrases))


def term_frequency(term: Term, frequencies: Mapping[str, int]) -> int:
    """How many articles hold the term at most (an alternative: its rarest token's count; a token
    not in `frequencies` counts 0)."""
    return sum(min((frequencies.get(t, 0) for t in alt), default=0) for alt in term.alternatives)


def relaxed_tokens(parsed: ParsedQuery) -> tuple[str, ...]:
    """The tokens whose frequencies `rarest` weighs: those of the text terms and of the pieces."""
    tokens = [t for term in parsed.terms if term.field is Field.TEXT for alt in term.alternatives for t in alt]
    tokens += [t for piece in parsed.title_phrases for t in piece]
    return tuple(sorted(set(tokens)))


def rarest(parsed: ParsedQuery, frequencies: Mapping[str, int], limit: int = RELAXED_TERMS) -> ParsedQuery:
    """The relaxed query bounded by its informative terms, whatever its length and the index's size:
    of its text terms and its pieces as typed (each a phrase, rare as a whole: a sentence pasted from
    a law still finds that law), the `limit` rarest by `frequencies` (the index's counts of articles
    per token) of those found in COMMON_ARTICLES articles at most (the rarest one when none is), one
    found nowhere only where nothing rarer is found at all; any one of them suffices. A version then
    matches by an article holding one of them or a title holding one of those pieces, and ranks by
    them. Quoted phrases (still required), single characters and the article asked for stay as they
    are. Both indexes ask this query, each with its own counts.

    >>> q = dataclasses.replace(parse_query("人民政府关于营业执照的实施办法"), relaxed=True)
    >>> counts = dict(人民=900, 民政=500, 政府=800, 府关=40, 关于=950, 于营=3, 营业=30, 业执=20, 执照=25)
    >>> counts |= dict(实施=700, 施办=300, 办法=600)
    >>> relaxed = rarest(q, counts, limit=3)
    >>> [t.alternatives for t in relaxed.terms][:2]
    [(('府关',),), (('营业', '业执', '执照'),)]
    >>> relaxed.terms[2].alternatives == relaxed.title_phrases[:1] == q.title_phrases[:1]
    True
    """
    if not parsed.relaxed:
        return parsed
    pieces = [Term((tokens,)) for tokens in parsed.title_phrases if len(tokens) > 2]
    candidates = list(dict.fromkeys([*(t for t in parsed.terms if t.field is Field.TEXT), *pieces]))
    counts = {term: term_frequency(term, frequencies) for term in candidates}
    ranked = sorted(candidates, key=lambda t: (counts[t] == 0, counts[t]))
    chosen = set(([t for t in ranked if counts[t] <= COMMON_ARTICLES] or ranked[:1])[:limit])
    if len(chosen) == len(candidates):
        return parsed
    terms = [t for t in parsed.terms if t.field is not Field.TEXT or t in chosen]
    terms += [t for t in pieces if t in chosen and t not in terms]
    kept = {t.alternatives[0] for t in chosen}
    return dataclasses.replace(
        parsed,
        terms=tuple(terms),
        boost_phrases=tuple(p for p in parsed.boost_phrases if p in kept),
        title_phrases=tuple(p for p in parsed.title_phrases if p in kept),
    )


def _phrase(raw: str) -> Clause | None:
    runs = list(analysis.runs(raw))
    if not runs:
        return None
    single = [run.cjk and len(run.text) == 1 for run in runs]
    first = 1 if single[0] else 0
    last = len(runs) - 1 if single[-1] and len(runs) > 1 else len(runs)
    tokens = [token for run in runs[first:last] for token in analysis.run_tokens(run)]
    chars = [run.text for run in runs[:first] + runs[last:]]
    # The clause as typed marks best where it occurs verbatim; its runs mark the rest.
    surfaces = [analysis.fold(raw).strip()] if len(runs) > 1 else []
    surfaces.extend(run.text for run in runs)
    return Clause(
        tokens=tuple(tokens),
        required_chars=tuple(dict.fromkeys(chars)),
        surfaces=tuple(dict.fromkeys(surfaces)),
    )


class Sort(enum.StrEnum):
    RELEVANCE = "relevance"
    PROMULGATION_DATE_DESC = "promulgation_date_desc"
    EFFECTIVE_DATE_DESC = "effective_date_desc"


@dataclass(frozen=True)
class DateRange:
    start: dt.date | None = None  # inclusive
    end: dt.date | None = None  # inclusive

    @property
    def open(self) -> bool:
        return self.start is None and self.end is None


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    # Empty: IN_FORCE only (unless valid_on is set, which overrides states).
    states: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    issuing_bodies: frozenset[str] = frozenset()
    promulgation: DateRange = DateRange()
    effective: DateRange = DateRange()
    valid_on: dt.date | None = None
    uniform_number: str = ""
    sort: Sort = Sort.RELEVANCE
    offset: int = 0
    limit: int = 20

    # Any term suffices (minimum_should_match 1), of the rarest (see `rarest`): what the service asks
    # when the query as read found nothing, so a query the corpus can answer at all never comes back
    # empty.
    relaxed: bool = False

    @property
    def parsed(self) -> ParsedQuery:
        return _parsed(self.text, self.relaxed)


FACET_STATES = "states"
FACET_KINDS = "kinds"
FACET_ISSUING_BODIES = "issuing_bodies"
FACET_YEARS = "years"


@dataclass(frozen=True)
class Hit:
    version: PublicVersion
    score: float
    # Positions in version.articles of its best-matching articles, best first (empty: not known).
    articles: tuple[int, ...] = ()
    # How many of its articles match the query (0: matched by its title alone, or not known).
    matched: int = 0


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    # Facet name -> [(value, count)], counts descending then value. A facet counts the documents
    # matching the query and every filter except its own dimension, so a user sees what the other
    # values of a selected dimension would give.
    facets: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    # How long the backend ran this search, its wait for a turn apart: what it spent of the budget.
    ran_s: float = field(default=0.0, compare=False)
