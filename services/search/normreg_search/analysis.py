"""Chinese text analysis shared by both index backends, so they see the same tokens and rank alike.

The Elasticsearch we can run has no CJK, ICU or smartcn analysis (its distribution has no
analysis-common module either: not even the `whitespace` tokenizer for a custom analyzer, only the
prebuilt `whitespace` analyzer), and SQLite has none either. So the analysis happens here and both
backends index the resulting whitespace-separated tokens as they are (ES: the prebuilt `whitespace`
analyzer; FTS5: the `ascii` tokenizer).

- Text is folded first: full-width ASCII to ASCII, capitals to lower case. Folding maps one
  character to one character, so offsets in folded text are offsets in the original (snippets rely
  on it), and tokens need no lower-casing by the backend.
- A run of CJK characters of length >= 2 becomes its overlapping bigrams, a run of one character
  stays that character. Runs of letters or digits become one token each. Anything else separates.
- Every CJK character also goes, alone, into a separate unigram stream, so one-character queries
  (税) match wherever the character occurs.

>>> bigram_stream("《中华人民共和国》第三十条")
'中华 华人 人民 民共 共和 和国 第三 三十 十条'
>>> bigram_stream("GB/T 7714-2015，自2020年3月起施行")
'gb t 7714 2015 自 2020 年 3 月起 起施 施行'
>>> unigram_stream("备案 2020年")
'备 案 年'
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

# The analysis the embedded index's token streams were made with. Any change to what this module
# (or index.port.article_rows) makes of a text must change it: the embedded index takes rows out by
# making their streams again, so it re-tokenises a generation made by another (test_analysis.py
# pins the streams of a sample to this number).
VERSION = 1

# Han (with extensions and compatibility ideographs), the ideographic zero, kana and hangul: scripts
# written without spaces, analysed as character n-grams.
_CJK = "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

# Longer letter/digit runs are cut, identically for both backends (ES's tokenizer stops at 255).
MAX_WORD = 64

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}  # full-width ASCII
_FOLD.update({code: code + 32 for code in range(ord("A"), ord("Z") + 1)})
_FOLD.update({code + 0xFEE0: code + 32 for code in range(ord("A"), ord("Z") + 1)})
# Latin, Greek and Cyrillic capitals whose lower case is one character.
_FOLD.update(
    {code: ord(low) for code in range(0xC0, 0x530) if (low := chr(code).lower()) != chr(code) and len(low) == 1}
)
_FOLD[0x3000] = 0x20  # ideographic space
_FOLD_CHARS = {chr(code): chr(folded) for code, folded in _FOLD.items()}
_FOLDABLE = re.compile("[" + re.escape("".join(_FOLD_CHARS)) + "]")


# Bounded: texts are up to a few hundred thousand characters.
@functools.lru_cache(maxsize=1024)
def fold(text: str) -> str:
    """Case and width folding that keeps every character at its offset.

    A regular expression finds the few characters to fold (str.translate with a dict looks up every
    character: 4x slower on Chinese text), and the results are cached: snippets fold the same
    articles of the same laws for query after query.
    """
    return _FOLDABLE.sub(lambda m: _FOLD_CHARS[m.group()], text)


@dataclass(frozen=True)
class Run:
    text: str  # folded
    start: int
    cjk: bool


def runs(text: str) -> Iterator[Run]:
    for match in _RUNS.finditer(fold(text)):
        cjk = match.group(1) is not None
        yield Run(match.group(0) if cjk else match.group(0)[:MAX_WORD], match.start(), cjk)


def run_tokens(run: Run) -> list[str]:
    """The tokens one run contributes to the bigram stream, in position order."""
    text = run.text
    if not run.cjk or len(text) == 1:
        return [text]
    return [text[i : i + 2] for i in range(len(text) - 1)]


# The tokens of every run in one pass of the regular expression engine (indexing a million documents
# spends its time here otherwise): at a CJK character, the bigram it starts, or the character alone
# when its run is one character long (the last character of a longer run starts nothing); at a
# letter or digit, the first MAX_WORD characters of its run, the whole run consumed. The same tokens
# as runs() and run_tokens() (tests/search/test_analysis.py checks both on any text).
_TOKENS = re.compile(
    rf"(?=([{_CJK}][{_CJK}]|(?<![{_CJK}])[{_CJK}](?![{_CJK}])|[^\W_{_CJK}]{{1,{MAX_WORD}}}))"
    rf"(?:[{_CJK}]|[^\W_{_CJK}]+)"
)


def _fold_tokens(tokens: str) -> str:
    """Folding after tokenising: every folded character is of the same class (CJK, letter or digit,
    separator) as the one it replaces, so runs are cut alike; tokens hold few characters to fold.
    Not cached: documents are indexed once, and fold()'s cache is the snippets'."""
    return _FOLDABLE.sub(lambda m: _FOLD_CHARS[m.group()], tokens)


def bigram_tokens(text: str) -> list[str]:
    tokens: list[str] = _TOKENS.findall(text)
    return _fold_tokens("\n".join(tokens)).split("\n") if tokens else []


def bigram_stream(text: str) -> str:
    """What the title and body fields index: adjacent tokens sit at adjacent positions."""
    return _fold_tokens(" ".join(_TOKENS.findall(text)))


def unigram_stream(text: str) -> str:
    return " ".join(_CJK_CHAR.findall(text))


def title_key(text: str) -> str:
    """One token standing for a whole title (or a whole query), to rank an exact title match first.

    >>> title_key("中华人民共和国 刑法") == title_key("中华人民共和国刑法")
    True
    """
    joined = "".join(run.text for run in runs(text))
    if not joined:
        return ""
    return "k" + hashlib.sha1(joined.encode(), usedforsecurity=False).hexdigest()[:20]


def is_cjk(char: str) -> bool:
    return bool(_CJK_CHAR.fullmatch(char))
