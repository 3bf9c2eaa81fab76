"""How an everyday query is read: which words carry meaning, what the statutes call them, which law
and which article it names. Standard library only, no I/O but reading the term tables once.

- Question and filler words (怎么办, 如何, 是否, 吗, 的 …) separate the query into pieces; they are
  never searched for.
- A piece that holds a term of the table (`data/terms.tsv`, plus any files a deployment names in
  NORMREG_SEARCH_TERMS) becomes a concept matched by any of the term's statutory wordings: 网购
  finds 网络交易 and 电子商务, 工钱 finds 劳动报酬. Abbreviations of law names (个保法, 刑诉法) are
  terms of the same table.
- What remains of a piece is searched as its overlapping bigrams, each one concept: a document need
  not hold every bigram of a long piece, most of them will do (see `minimum_should_match`).
- Article labels are normalised (第30条, 第 30 条 and 第三十条 are one label) and the text before a
  label is taken as the name of the law it belongs to.
- A law is named by its title or by its short title: `short_title` drops 中华人民共和国, brackets
  and the punctuation of 修正案 numbering, so 刑法修正案九, 《刑法修正案（九）》 and
  中华人民共和国刑法修正案（九） read alike.

>>> u = understand("单位不给加班费怎么办")
>>> [c.surfaces for c in u.concepts]
[('单位', '用人单位'), ('不给',), ('加班费', '延长工作时间')]
>>> understand("刑法第30条").article, understand("刑法第30条").law
('第三十条', '刑法')
>>> short_title("中华人民共和国刑法修正案（九）") == short_title("刑法修正案9")
True
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from normreg_search import analysis

TERMS_FILE = Path(__file__).with_name("data") / "terms.tsv"
TERMS_ENV = "NORMREG_SEARCH_TERMS"
# A wording so marked is the law a concept is about, not a wording to search for.
HOME = "="

# Words that ask rather than say. Longest first when matched; a word here is never searched for.
FILLERS = (
    "请问",
    "我想问",
    "想问一下",
    "想知道",
    "怎么办",
    "怎么样",
    "怎么处理",
    "怎么算",
    "怎么",
    "怎样",
    "如何",
    "是否",
    "是不是",
    "能不能",
    "可不可以",
    "可以吗",
    "能否",
    "有没有",
    "会不会",
    "要不要",
    "该不该",
    "为什么",
    "什么样",
    "什么",
    "哪些",
    "哪个",
    "哪里",
    # A limit asked for: 最长 or 最多 before the question word asks, the statutes say 不得超过.
    "最长多长时间",
    "最长是多久",
    "最长多久",
    "最多多久",
    "最长几",
    "最多几",
    "最少几",
    "最多多少",
    "最少多少",
    "最高多少",
    "最低多少",
    "多少钱",
    "多少",
    "多久",
    "多长时间",
    "几年",
    "几天",
    "规定",
    "法律规定",
    "有关规定",
    "相关规定",
    "依法",
    "应该",
    "应当怎么",
    "需要",
    "可以",
    "一下",
    "问题",
    "情况下",
    "情况",
    "的话",
    "我们",
    "我的",
    "他们",
    "别人",
    "自己",
    # Someone (有人在网上卖假药): who did it is not what is asked. 所有人, 持有人 and 占有人 are kept.
    "有人",
    # When it happens (正在服刑, 已经离婚, 一直拖欠): the statutes say what the state is, not when.
    "正在",
    "已经",
    "曾经",
    "一直",
    "刚刚",
    "了吗",
    "会被",
    "被人",
    "归谁",
    "给谁",
    "找谁",
    "算不算",
    "属不属于",
    "怎么判",
    # How a question asks for the consequence: 处罚 or 责任 here says nothing of the subject, and
    # matched the titles of 治安管理处罚法 and 行政处罚法 above the law the question is about.
    "怎么处罚",
    "如何处罚",
    "怎么罚",
    "罚多少",
    "怎么判刑",
    "判几年",
    "判多久",
    "会怎样",
    "有什么后果",
    "什么后果",
    "要负什么责任",
    "负什么责任",
    "要承担什么责任",
    "承担什么责任",
    "什么责任",
    "要负责任",
    "犯法吗",
    "违法吗",
    "合法吗",
    # How one asks for a remedy, not what it is about (维权 alone matched 合法权益 in most laws).
    "怎么维权",
    "如何维权",
    "怎么赔偿",
    "怎么赔",
    "谁来赔",
    "谁负责",
    # What a reader adds to a law's name when asking for its text.
    "全文",
    "原文",
    "条文",
    "最新版",
    "最新",
    "完整版",
    "修订版",
    "现行有效",
    "现行",
    "该怎么",
    "之后",
    "以后",
    "时候",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "了",
    "的",
    "我",
    "你",
    "他",
    "她",
    "谁",
)
# Words holding a one-character filler that must not be cut there.
PROTECTED = (
    "现行犯",
    "为了",
    "了解",
    "除了",
    "目的",
    "的确",
    "有的",
    "其他",
    "他人",
    "利他",
    "你我",
    "自我",
    "谁的",
    "所有人",
    "持有人",
    "占有人",
)
# Where, said before a place: not searched for, unless it begins one of these words.
AT = "在"
AT_WORDS = frozenset(("在职", "在押", "在校", "在逃", "在读", "在建", "在岗", "在编", "在籍", "在册", "在场", "在线"))
# A law's name ends with one of these; the text before an article label ending so names a law.
LAW_ENDINGS = ("法", "法典", "条例", "规定", "办法", "决定", "解释", "规则", "细则", "修正案", "宪法", "通则")
NATION = "中华人民共和国"

_DIGITS = "零一二三四五六七八九"
_CN_NUM = "零〇一二三四五六七八九十百千两"
_ARTICLE = re.compile(rf"第\s*([0-9]+|[{_CN_NUM}]+)\s*条(?:\s*之\s*([0-9]+|[{_CN_NUM}]+))?")
_AMENDMENT_NUMBER = re.compile(rf"修正案\s*[（(〔\[]?\s*(?:第)?\s*([0-9]+|[{_CN_NUM}]+)\s*[）)〕\]]?")
# An article number typed right after a law's name without 第 (刑法264条, 道路交通安全法 91条): after
# a name, and only there, a number and 条 are an article (elsewhere 两条 is two of something).
_BARE_ARTICLE = re.compile(
    rf"(?<=[法典例定则案])(\s*)([0-9]+|[{_CN_NUM}]+)\s*条(?!例)(?:\s*之\s*([0-9]+|[{_CN_NUM}]+))?"
)
# A year typed beside a law's name (劳动合同法2012, 2018年版公司法, 刑法 2020修正) says which text the
# reader has in mind, not a word of it: no article contains "2012". The page shows the version in force
# with its timeline, where the earlier texts are.
_YEAR = r"(?:19|20)[0-9]{2}\s*(?:年)?\s*(?:修正|修订|修改)?\s*(?:版|本)?"
_YEAR_AFTER = re.compile(rf"(?<=[法典例定则案])\s*[（(]?\s*{_YEAR}\s*[）)]?(?![0-9])")
_YEAR_BEFORE = re.compile(rf"(?<![0-9])[（(]?\s*{_YEAR}\s*[）)]?\s*(?=\S*?(?:法|条例))")
# A share, typed in digits (超速50%) or as the statutes write it (超过规定时速百分之五十).
# A piece naming an offence: two characters or more before 罪, other than the words where 罪 is not an
# offence's name (犯罪, 无罪, 定罪 ...).
_CRIME = re.compile(r"[^\W\d_]{2,}(?<![犯无有定认获死赔谢得怪治问判论])罪$")
CRIMINAL_LAW = "刑法"
_JAIL_TERM = re.compile(rf"坐(?:几|多少|多久|[0-9]+|[{_CN_NUM}]+)(?:个)?年(?:的)?牢")
_PERCENT = re.compile(rf"([0-9]{{1,4}})\s*[%％]|百分之([{_CN_NUM}]+)")
_BRACKETS = re.compile(r"[《》〈〉「」『』（）()〔〕\[\]【】“”\"'‘’\s·•、，,。.:：;；!！?？]")
_SEPARATORS = re.compile(r"[^\w]|_")


def chinese_number(n: int) -> str:
    """Article numbers as the statutes write them (1-9999).

    >>> [chinese_number(n) for n in (1, 10, 15, 30, 101, 110, 1000, 1205)]
    ['一', '十', '十五', '三十', '一百零一', '一百一十', '一千', '一千二百零五']
    """
    if n <= 0 or n >= 10000:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + unit
            zero = False
        else:
            zero = bool(out)
    return out


NUMERAL_MAX = 12


def arabic_number(text: str) -> int | None:
    """The value of a numeral written in Chinese or Arabic digits; None when it is not one.

    >>> [arabic_number(t) for t in ("三十", "十五", "一百零一", "两百", "12", "三十x")]
    [30, 15, 101, 200, 12, None]
    """
    if len(text) > NUMERAL_MAX:
        # No article, chapter or year is numbered so: 5,000 digits are no number to read (and past
        # 4,300 of them int() refuses them).
        return None
    if text.isdigit():
        return int(text)
    values = {c: i for i, c in enumerate(_DIGITS)} | {"〇": 0, "两": 2}
    units = {"十": 10, "百": 100, "千": 1000}
    total = digit = 0
    for char in text:
        if char in values:
            digit = values[char]
        elif char in units:
            total += (digit or 1) * units[char]
            digit = 0
        else:
            return None
    return total + digit


def article_label(number: str, sub: str | None = None) -> str:
    """第三十条 / 第十七条之一 from the numerals of a label in either script."""
    main = arabic_number(number)
    if main is None:
        return ""
    label = f"第{chinese_number(main)}条"
    if sub:
        extra = arabic_number(sub)
        if extra is not None:
            label += f"之{chinese_number(extra)}"
    return label


def normalise_labels(text: str) -> str:
    """Every article label in `text` in the statutes' form (第30条 -> 第三十条)."""
    return _ARTICLE.sub(lambda m: article_label(m.group(1), m.group(2)) or m.group(0), text)


def short_title(title: str) -> str:
    """A title as people shorten it: no 中华人民共和国, no brackets or punctuation, 修正案 numbered
    in Chinese numerals without brackets, letters folded.

    >>> short_title("《中华人民共和国民法典》")
    '民法典'
    >>> short_title("中华人民共和国刑法修正案（十一）")
    '刑法修正案十一'
    """
    text = analysis.fold(title)
    text = _AMENDMENT_NUMBER.sub(lambda m: "修正案" + _numeral(m.group(1)), text)
    text = text.replace(NATION, "")
    return _BRACKETS.sub("", text)


def _numeral(text: str) -> str:
    value = arabic_number(text)
    return chinese_number(value) if value is not None else text


@dataclass(frozen=True)
class Concept:
    """One thing the query asks about: found where any of its surfaces occurs (folded text)."""

    surfaces: tuple[str, ...]
    # True: from the term table; its surfaces are matched whole. False: one bigram or word.
    term: bool = False


@dataclass(frozen=True)
class Understanding:
    concepts: tuple[Concept, ...]
    # The article asked for (第三十条), or "".
    article: str = ""
    # The short title of the law the query names ("刑法"), or "".
    law: str = ""
    # Short titles to look up among the titles: the law named before an article label, else the
    # whole query without fillers (and what the term table says it abbreviates).
    titles: tuple[str, ...] = ()
    # The query between fillers, as typed (folded), without the law and article it names.
    pieces: tuple[str, ...] = ()

    @property
    def minimum_should_match(self) -> int:
        return minimum_should_match(len(self.concepts))


def minimum_should_match(n: int) -> int:
    """How many of n concepts a matching article must hold: all of one or two, 60% of more
    (rounded up). Long pieces cut into bigrams hold bigrams across word boundaries (不给加 -> 给加)
    that the statutes never contain; 60% leaves room for them."""
    return n if n <= 2 else math.ceil(n * 0.6)


@dataclass(frozen=True)
class Terms:
    """The term table: a surface people type -> the wordings the statutes use for it, and for a
    concept the law that is about it (`homes`: 正当防卫 -> 刑法), written `=刑法` among the wordings."""

    expansions: dict[str, tuple[str, ...]]
    homes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @functools.cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        keys = sorted(self.expansions, key=lambda k: (-len(k), k))
        return re.compile("|".join(re.escape(k) for k in keys)) if keys else None

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping table entries in `text`, longest first at each position."""
        if self._pattern is None:
            return []
        return [(m.start(), m.end(), m.group(0)) for m in self._pattern.finditer(text)]


def parse_terms(lines: Iterable[str]) -> dict[str, list[str]]:
    """`term<TAB>wording|wording  # why` lines; `#` starts a comment; a term may repeat."""
    table: dict[str, list[str]] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(r"\t+|\s{2,}", line, maxsplit=1)
        if len(parts) != 2:
            continue
        key = analysis.fold(parts[0].strip())
        wordings = [analysis.fold(w.strip()) for w in parts[1].split("|") if w.strip()]
        if key:
            known = table.setdefault(key, [])
            known.extend(w for w in wordings if w != key and w not in known)
    return table


@functools.cache
def load_terms(extra: str | None = None) -> Terms:
    """The shipped table and the files named in `extra` (os.pathsep-separated), later lines adding."""
    texts = [TERMS_FILE.read_text(encoding="utf-8")]
    for path in (extra or "").split(os.pathsep):
        if path.strip():
            texts.append(Path(path.strip()).read_text(encoding="utf-8"))
    table = parse_terms(line for text in texts for line in text.splitlines())
    expansions = {k: tuple(w for w in v if not w.startswith(HOME)) for k, v in table.items()}
    homes = {k: tuple(w[len(HOME) :] for w in v if w.startswith(HOME)) for k, v in table.items()}
    return Terms(expansions, {k: v for k, v in homes.items() if v})


def default_terms() -> Terms:
    return load_terms(os.environ.get(TERMS_ENV) or None)


_FILLER = re.compile("|".join(re.escape(f) for f in sorted((*FILLERS, *PROTECTED), key=lambda f: (-len(f), f))))
_PROTECTED = frozenset(PROTECTED)
# Fillers that ask which kind of a thing: the character after one is the thing (什么税, 哪些罪).
_WHAT_KIND = frozenset(("什么", "哪些", "哪个", "什么样"))


def _pieces(text: str, known: Container[str] = ()) -> list[str]:
    """The query cut at fillers, punctuation and spaces. A single CJK character left between
    fillers (有 of 年假有几天) is dropped: only a character typed on its own is searched alone, one
    the term table knows (枪 of 能买什么枪), or the kind of thing asked for (税 of 要交什么税, 罪 of
    犯了什么罪)."""
    out: list[str] = []
    for chunk in _SEPARATORS.split(text):
        cursor = 0
        parts: list[tuple[str, bool]] = []
        kind = False
        for match in _FILLER.finditer(chunk):
            if match.group(0) in _PROTECTED:
                continue
            if match.start() > cursor:
                parts.append((chunk[cursor : match.start()], kind))
            cursor = match.end()
            kind = match.group(0) in _WHAT_KIND
        if cursor < len(chunk):
            parts.append((chunk[cursor:], kind))
        out.extend(p for p, after_kind in parts if p == chunk or after_kind or not _lone_character(p) or p in known)
    return out


def _without_at(piece: str) -> str:
    """A piece without the 在 that opens it (在河里电鱼, 在网上散布): 在河 and 在网 are found in the
    statutes (在河道, 在网络上) but say nothing of what is asked, and outranked its words. Kept where
    在 begins a word the statutes use (在职, 在押, 在校)."""
    if piece.startswith(AT) and len(piece) > 2 and piece[:2] not in AT_WORDS:
        return piece[1:]
    return piece


def _lone_character(piece: str) -> bool:
    return len(piece) == 1 and analysis.is_cjk(piece)


def understand(text: str, terms: Terms | None = None, *, max_concepts: int = 24) -> Understanding:
    table = terms if terms is not None else default_terms()
    folded = normalise_labels(_BARE_ARTICLE.sub(_with_di, analysis.fold(text)))
    folded = _YEAR_BEFORE.sub("", _YEAR_AFTER.sub("", folded))
    # 坐几年牢, 坐三年牢: how long one is jailed is asked about 坐牢.
    folded = _JAIL_TERM.sub("坐牢", folded)
    # One concept, matched whole: cut into bigrams, 百分之五十 matched any 百分之五 of a fine.
    shares = [f"百分之{chinese_number(int(m[1])) if m[1] else m[2]}" for m in _PERCENT.finditer(folded)]
    folded = _PERCENT.sub(" ", folded)
    article = law = ""
    found = _ARTICLE.search(folded)
    if found:
        article = article_label(found.group(1), found.group(2))
        before = _pieces(folded[: found.start()], table.expansions)
        if before:
            law = _law_name(before[-1], table)
            if law:
                before = before[:-1]
        rest = before + _pieces(folded[found.end() :], table.expansions)
    else:
        rest = _pieces(folded, table.expansions)
    rest = [_without_at(piece) for piece in rest]
    concepts: list[Concept] = []
    seen: set[tuple[str, ...]] = set()

    def add(concept: Concept) -> None:
        if concept.surfaces not in seen and len(concepts) < max_concepts:
            seen.add(concept.surfaces)
            concepts.append(concept)

    if law:
        add(Concept((law,), term=True))
    for share in shares:
        add(Concept((share,), term=True))
    crimes = [piece for piece in rest if _CRIME.search(piece)]
    for piece in rest:
        cursor = 0
        # 寻衅滋事罪: the offence is searched as the statute writes it (有下列寻衅滋事行为之一), unless
        # a table term ends with the 罪 (帮信罪).
        whole_term = any(end == len(piece) and key.endswith("罪") for _, end, key in table.find(piece))
        read = piece[:-1] if piece in crimes and not whole_term else piece
        for start, end, key in table.find(read):
            _add_plain(read[cursor:start], add, read)
            add(Concept((key, *table.expansions[key]), term=True))
            cursor = end
        _add_plain(read[cursor:], add, read)
    if law:
        titles: tuple[str, ...] = (law,)
    else:
        whole = "".join(rest)
        # A piece that is a law's name, or a table term abbreviating one (the whole piece: 安全 in
        # 食品安全法 is not a law's name).
        named = [w for p in rest for w in (p, *table.expansions.get(p, ())) if w.endswith(LAW_ENDINGS) and len(w) > 2]
        titles = (short_title(whole), *(short_title(w) for w in (*table.expansions.get(whole, ()), *named)))
        # A concept typed as a piece of its own (正当防卫, 缓刑) is asked about in the law that is
        # about it: the passing mentions in other laws are shorter and outrank its articles.
        titles = (*titles, *(short_title(h) for p in rest for h in table.homes.get(p, ())))
        if crimes:
            # An offence named (诈骗罪, 寻衅滋事罪) is asked about in the criminal law, whose long
            # articles lose on length to the laws that mention the offence in passing.
            titles = (*titles, CRIMINAL_LAW)
    return Understanding(
        concepts=tuple(concepts),
        article=article,
        law=law,
        titles=tuple(t for t in dict.fromkeys(titles) if t),
        pieces=tuple(rest),
    )


def _with_di(match: re.Match[str]) -> str:
    sub = f"之{match.group(3)}" if match.group(3) else ""
    return f"{match.group(1)}第{match.group(2)}条{sub}"


def _add_plain(piece: str, add: Callable[[Concept], None], whole: str) -> None:
    """The bigrams and words of what a piece holds besides table terms; a single CJK character
    left over beside a term (后 of 离婚后) is not searched alone."""
    if piece != whole and _lone_character(piece):
        return
    for run in analysis.runs(piece):
        for token in analysis.run_tokens(run):
            add(Concept((token,)))


def _law_name(piece: str, terms: Terms) -> str:
    """The short title a piece names when it ends with a law's name or abbreviates one, else ""."""
    for wording in terms.expansions.get(piece, ()):
        if wording.endswith(LAW_ENDINGS):
            return short_title(wording)
    if any(piece.endswith(e) and len(piece) > len(e) for e in LAW_ENDINGS):
        return short_title(piece)
    return ""
