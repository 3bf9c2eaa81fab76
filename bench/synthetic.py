"""A seeded corpus of local normative documents derived from the real national laws, at any size.

The real corpus (378 laws, `make corpus`) is too small to show how the registry and search behave at
the scale of a province or the country. This derives documents from it the way local rule-makers do:
a province, a city or one of their departments issues implementing measures, notices and rules on
the subject of a national law, in its own words and under its own uniform number. Every document is
a `CorpusLaw`, so `normreg import` and the tests take it exactly like the real corpus.

- Issuing bodies: 8 provinces and 24 cities, each with its government, general office, standing
  committee of the people's congress and 13 departments: 512 bodies.
- Kinds: mostly normative documents (规范性文件), with government rules and local regulations.
- Numbers in the real format, one series per prefix and year, never reused: 赤政规〔2020〕3号,
  浙教规〔2019〕12号; rules and regulations carry none, as in practice (they are numbered by 令/公告).
- Articles: a run of a real law's articles, renumbered 第一条…, with 本法 → 本办法 and the like.
- One document in five has two or three versions (earlier ones amended); about one in twelve is
  repealed.

The same seed and size give the same documents, so an interrupted import resumes by request id.

    python -m bench.synthetic --size 10000 --seed 1   # prints a summary
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from normreg_cli.corpus import CorpusLaw, CorpusVersion, read_corpus

SOURCE = "synthetic"
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}

# (province, abbreviation, ((city, abbreviation), ...)): real places and their usual abbreviations.
PLACES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("内蒙古自治区", "内", (("赤峰市", "赤"), ("呼和浩特市", "呼"), ("包头市", "包"))),
    ("浙江省", "浙", (("杭州市", "杭"), ("宁波市", "甬"), ("温州市", "温"))),
    ("广东省", "粤", (("广州市", "穗"), ("深圳市", "深"), ("佛山市", "佛"))),
    ("四川省", "川", (("成都市", "成"), ("绵阳市", "绵"), ("宜宾市", "宜"))),
    ("江苏省", "苏", (("南京市", "宁"), ("苏州市", "苏市"), ("无锡市", "锡"))),
    ("湖北省", "鄂", (("武汉市", "武"), ("宜昌市", "宜市"), ("襄阳市", "襄"))),
    ("山东省", "鲁", (("济南市", "济"), ("青岛市", "青"), ("烟台市", "烟"))),
    ("云南省", "云", (("昆明市", "昆"), ("大理白族自治州", "大"), ("曲靖市", "曲"))),
)

# (department at province level, at city level, number word)
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("教育厅", "教育局", "教"),
    ("财政厅", "财政局", "财"),
    ("公安厅", "公安局", "公"),
    ("自然资源厅", "自然资源局", "自然资"),
    ("生态环境厅", "生态环境局", "环"),
    ("住房和城乡建设厅", "住房和城乡建设局", "建"),
    ("交通运输厅", "交通运输局", "交"),
    ("农业农村厅", "农业农村局", "农"),
    ("商务厅", "商务局", "商"),
    ("文化和旅游厅", "文化和旅游局", "文旅"),
    ("卫生健康委员会", "卫生健康委员会", "卫健"),
    ("市场监督管理局", "市场监督管理局", "市监"),
    ("司法厅", "司法局", "司"),
)


@dataclass(frozen=True)
class Body:
    name: str
    # The prefix of its normative documents' numbers ("" for a body whose acts carry none).
    prefix: str
    kinds: tuple[str, ...]
    level: str  # province | city


def bodies() -> list[Body]:
    out: list[Body] = []
    for province, p_abbr, cities in PLACES:
        places = [(province, p_abbr, "province")] + [(city, abbr, "city") for city, abbr in cities]
        for place, abbr, level in places:
            out.append(Body(f"{place}人民政府", f"{abbr}政规", ("NORMATIVE_DOCUMENT", "GOVERNMENT_RULE"), level))
            office = "人民政府办公厅" if level == "province" else "人民政府办公室"
            out.append(Body(f"{place}{office}", f"{abbr}政办规", ("NORMATIVE_DOCUMENT",), level))
            out.append(Body(f"{place}人民代表大会常务委员会", "", ("LOCAL_REGULATION",), level))
            for at_province, at_city, word in DEPARTMENTS:
                dept = at_province if level == "province" else at_city
                out.append(Body(f"{place}{dept}", f"{abbr}{word}规", ("NORMATIVE_DOCUMENT",), level))
    return out


NUMERALS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..9999 in Chinese numerals as article labels write them: 十一, 二十, 一百零五."""
    if not 0 < n < 10_000:
        raise ValueError(n)
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    out = ""
    zero = False
    for value, unit in units:
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if digit == 1 and unit == "十" and not out else NUMERALS[digit]) + unit
    return out


# What a local document calls itself, by kind: (form of the title, how its text refers to itself).
FORMS = {
    "NORMATIVE_DOCUMENT": (
        ("实施办法", "本办法"),
        ("管理规定", "本规定"),
        ("实施细则", "本细则"),
        ("若干措施", "本措施"),
    ),
    "GOVERNMENT_RULE": (("办法", "本办法"), ("规定", "本规定")),
    "LOCAL_REGULATION": (("条例", "本条例"), ("实施办法", "本办法")),
}
SELF_REFERENCES = ("本法", "本条例", "本规定", "本办法", "本决定")


def subject_of(title: str) -> str:
    """道路交通安全 from 中华人民共和国道路交通安全法."""
    s = title.removeprefix("中华人民共和国").removeprefix("全国人民代表大会常务委员会关于")
    for suffix in ("实施条例", "条例", "法", "规定", "办法", "决定"):
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            return s[: -len(suffix)]
    return s


class Generator:
    """Documents derived from `laws` (the real corpus), reproducibly from `seed`."""

    def __init__(self, laws: Sequence[CorpusLaw], seed: int = 1) -> None:
        self._laws = [law for law in laws if law.versions[-1].articles]
        if not self._laws:
            raise ValueError("the source corpus has no law with articles")
        self._seed = seed
        self._bodies = bodies()
        self._sequences: dict[tuple[str, int], int] = {}

    @property
    def issuing_bodies(self) -> list[Body]:
        return list(self._bodies)

    def documents(self, n: int) -> Iterator[CorpusLaw]:
        rng = random.Random(self._seed)
        self._sequences.clear()
        for i in range(n):
            yield self._document(rng, i)

    def _number(self, prefix: str, year: int) -> str:
        if not prefix:
            return ""
        seq = self._sequences.get((prefix, year), 0) + 1
        self._sequences[(prefix, year)] = seq
        return f"{prefix}〔{year}〕{seq}号"

    def _document(self, rng: random.Random, i: int) -> CorpusLaw:
        body = rng.choice(self._bodies)
        kind = body.kinds[0] if len(body.kinds) == 1 or rng.random() < 0.8 else body.kinds[1]
        law = rng.choice(self._laws)
        source = law.versions[-1]
        form, self_ref = rng.choice(FORMS[kind])
        place = body.name
        subject = subject_of(source.title)
        if kind == "NORMATIVE_DOCUMENT" and rng.random() < 0.5:
            title = f"{place}关于贯彻实施《{source.title}》的{form}"
        elif kind == "LOCAL_REGULATION":
            title = f"{place.removesuffix('人民代表大会常务委员会')}{subject}{form}"
        elif kind == "GOVERNMENT_RULE":
            title = f"{place.removesuffix('人民政府')}{subject}管理{form}"
        else:
            title = f"{place}关于{subject}管理的{form}"
        n_versions = 1 if rng.random() < 0.8 else rng.choice((2, 2, 3))
        repealed = rng.random() < 0.08
        year = rng.randint(1998, 2024 - 2 * n_versions)
        start = rng.randrange(len(source.articles))
        length = rng.randint(4, 30)
        versions: list[CorpusVersion] = []
        for v in range(n_versions):
            promulgated = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
            effective = promulgated + dt.timedelta(days=rng.choice((0, 15, 30, 30, 60)))
            articles = self._articles(source.articles, start, length + v, self_ref, place)
            last = v == n_versions - 1
            state = ("REPEALED" if repealed else "IN_FORCE") if last else "AMENDED"
            number = self._number(body.prefix, year)
            versions.append(
                CorpusVersion(
                    title=title if v == 0 else f"{title}（{year}年修订）",
                    body="\n".join(f"{label} {text}" for label, text in articles),
                    articles=articles,
                    state=state,
                    promulgation_date=promulgated,
                    effective_date=effective,
                    source_id=f"{SOURCE}-{self._seed}-{i}-{v + 1}",
                    source_status="现行有效"
                    if state == "IN_FORCE"
                    else "已废止"
                    if state == "REPEALED"
                    else "已被修改",
                    uniform_number=number,
                )
            )
            year += rng.randint(1, 2)
        return CorpusLaw(
            request_id=f"{SOURCE}:{self._seed}:{i}", kind=kind, issuing_body=body.name, versions=tuple(versions)
        )

    @staticmethod
    def _articles(
        source: Sequence[tuple[str, str]], start: int, length: int, self_ref: str, place: str
    ) -> tuple[tuple[str, str], ...]:
        picked = [source[(start + k) % len(source)][1] for k in range(min(length, len(source)))]
        out = []
        for k, text in enumerate(picked, start=1):
            for ref in SELF_REFERENCES:
                text = text.replace(ref, self_ref)
            out.append((f"第{chinese_number(k)}条", text.replace("国务院", f"{place}")))
        return tuple(out)


LAWS_SCHEMA = """
CREATE TABLE laws (
    law_id TEXT PRIMARY KEY, law_name TEXT, doc_type TEXT, level TEXT, issuing_body TEXT,
    publish_date TEXT, effective_date TEXT, version_date TEXT, status TEXT, law_department TEXT,
    document TEXT, uniform_number TEXT
);
CREATE INDEX laws_document ON laws (document);
CREATE TABLE articles (
    id INTEGER PRIMARY KEY, law_id TEXT, chapter TEXT, section TEXT, article_no TEXT, article_text TEXT
);
CREATE INDEX articles_law ON articles (law_id);
"""
DOC_TYPES = {"NORMATIVE_DOCUMENT": "规范性文件", "GOVERNMENT_RULE": "地方政府规章", "LOCAL_REGULATION": "地方性法规"}


def write_laws_db(documents: Iterator[CorpusLaw], path: Path) -> int:
    """Writes the documents in the real corpus's own format (laws.db, plus a `uniform_number` column),
    so `normreg import --path` reads them like the national laws. Returns how many were written."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    try:
        conn.executescript(LAWS_SCHEMA)
        n = 0
        for n, law in enumerate(documents, start=1):
            conn.executemany(
                "INSERT INTO laws VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                [
                    (
                        v.source_id,
                        v.title,
                        DOC_TYPES[law.kind],
                        DOC_TYPES[law.kind],
                        law.issuing_body,
                        v.promulgation_date.isoformat(),
                        v.effective_date.isoformat() if v.effective_date else None,
                        v.promulgation_date.isoformat(),
                        v.source_status,
                        law.request_id,
                        v.uniform_number,
                    )
                    for v in law.versions
                ],
            )
            conn.executemany(
                "INSERT INTO articles (law_id, chapter, section, article_no, article_text) VALUES (?, '', '', ?, ?)",
                [(v.source_id, label, text) for v in law.versions for label, text in v.articles],
            )
            if n % 10_000 == 0:
                conn.commit()
        conn.commit()
        return n
    finally:
        conn.close()


def generate(size: int, seed: int = 1, corpus: Path | str | None = None) -> Iterator[CorpusLaw]:
    return Generator(list(read_corpus(corpus)), seed).documents(size)


def size_of(text: str) -> int:
    return SIZES.get(text.lower()) or int(text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="10k", help="10k, 100k, 1m or a number")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", default=None, help="laws.db (default: var/corpus/laws.db)")
    parser.add_argument("--out", default=None, help="write the documents to this file in laws.db's format")
    args = parser.parse_args()
    if args.out:
        n = write_laws_db(generate(size_of(args.size), args.seed, args.corpus), Path(args.out))
        print(f"{n} documents written to {args.out}")
        return
    docs = versions = articles = chars = repealed = 0
    kinds: dict[str, int] = {}
    issuers: set[str] = set()
    for law in generate(size_of(args.size), args.seed, args.corpus):
        docs += 1
        versions += len(law.versions)
        articles += sum(len(v.articles) for v in law.versions)
        chars += sum(len(v.body) + len(v.title) for v in law.versions)
        repealed += law.versions[-1].state == "REPEALED"
        kinds[law.kind] = kinds.get(law.kind, 0) + 1
        issuers.add(law.issuing_body)
    print(
        f"{docs} documents, {versions} versions, {articles} articles, {chars / 1e6:.1f} M characters, "
        f"{repealed} repealed, {len(issuers)} issuing bodies, kinds {kinds}"
    )


if __name__ == "__main__":
    main()
