"""What the public may ask, and how a query string is read. Standard library only.

A query is a list of clauses separated by white space; a clause in double quotes ("..." or “...”)
is a phrase. Every clause must match:
- a phrase: its tokens adjacent, in the title or the body;
- otherwise: each of its bigrams and words somewhere in the title or the body, and each single CJK
  character anywhere in the text. Documents where the clause occurs verbatim rank higher, and a
  title equal to the whole query ranks first.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field

from normreg_search import analysis
from normreg_search.model import PublicVersion

MAX_CLAUSES = 16
MAX_TOKENS = 128
_CLAUSES = re.compile(r'"([^"]*)"?|“([^”]*)”?|(\S+)')


@dataclass(frozen=True)
class Clause:
    # Tokens of the bigram stream in position order: what must be adjacent for a phrase, and what
    # ranks higher when adjacent for the other clauses. A one-character CJK run at either end is
    # left out (it goes to required_chars): in the text that character may end or start a longer
    # run, where it is part of a bigram, not a token of its own.
    tokens: tuple[str, ...]
    # Tokens that must occur in the title or the body (bigrams and words); unquoted clauses only.
    required: tuple[str, ...]
    # Single CJK characters that must occur somewhere (the unigram stream).
    required_chars: tuple[str, ...]
    phrase: bool
    # Folded strings to highlight: the clause's text, then its runs.
    surfaces: tuple[str, ...]


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    clauses: tuple[Clause, ...]
    # analysis.title_key of the whole query, to rank an exact title first.
    key: str

    @property
    def empty(self) -> bool:
        """No text at all: every document matches."""
        return not self.text.strip()

    @property
    def matchable(self) -> bool:
        """False when the text has nothing to search for (only punctuation): nothing matches."""
        return bool(self.clauses)

    @property
    def boost_phrases(self) -> tuple[tuple[str, ...], ...]:
        return tuple(c.tokens for c in self.clauses if not c.phrase and len(c.tokens) >= 2)


def parse_query(text: str) -> ParsedQuery:
    clauses: list[Clause] = []
    budget = MAX_TOKENS
    for match in _CLAUSES.finditer(text):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        raw = quoted if quoted is not None else match.group(3)
        clause = _clause(raw, phrase=quoted is not None)
        if clause is None or len(clause.tokens) > budget:
            continue
        budget -= len(clause.tokens)
        clauses.append(clause)
        if len(clauses) == MAX_CLAUSES:
            break
    key = analysis.title_key(text.replace('"', " ").replace("“", " ").replace("”", " "))
    return ParsedQuery(text=text, clauses=tuple(clauses), key=key)


def _clause(raw: str, *, phrase: bool) -> Clause | None:
    runs = list(analysis.runs(raw))
    if not runs:
        return None
    single = [run.cjk and len(run.text) == 1 for run in runs]
    first = 1 if single[0] else 0
    last = len(runs) - 1 if single[-1] and len(runs) > 1 else len(runs)
    tokens = [token for run in runs[first:last] for token in analysis.run_tokens(run)]
    chars = [run.text for run, one in zip(runs, single, strict=True) if one]
    if phrase:
        required: list[str] = []
        chars = [run.text for run in runs[:first] + runs[last:]]
    else:
        required = [
            token for run, one in zip(runs, single, strict=True) if not one for token in analysis.run_tokens(run)
        ]
    # The clause as typed marks best where it occurs verbatim; its runs mark the rest.
    surfaces = [analysis.fold(raw).strip()] if len(runs) > 1 else []
    surfaces.extend(run.text for run in runs)
    return Clause(
        tokens=tuple(tokens),
        required=tuple(dict.fromkeys(required)),
        required_chars=tuple(dict.fromkeys(chars)),
        phrase=phrase,
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

    @property
    def parsed(self) -> ParsedQuery:
        return parse_query(self.text)


FACET_STATES = "states"
FACET_KINDS = "kinds"
FACET_ISSUING_BODIES = "issuing_bodies"
FACET_YEARS = "years"


@dataclass(frozen=True)
class Hit:
    version: PublicVersion
    score: float


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[Hit, ...]
    total: int
    # Facet name -> [(value, count)], counts descending then value. A facet counts the documents
    # matching the query and every filter except its own dimension, so a user sees what the other
    # values of a selected dimension would give.
    facets: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
