"""The seeded corpus derived from the real laws: realistic, reproducible, and read back by the
importer exactly as generated."""

from __future__ import annotations

from pathlib import Path

import pytest
from normreg_cli.corpus import count_documents, read_corpus
from normreg_registry.domain.numbers import UniformNumber

from bench.synthetic import Generator, chinese_number, write_laws_db


@pytest.fixture(scope="module")
def generator(corpus_path: Path) -> Generator:
    return Generator(list(read_corpus(corpus_path)), seed=5)


def test_chinese_numerals_as_article_labels_write_them() -> None:
    cases = {
        1: "一",
        10: "十",
        11: "十一",
        20: "二十",
        105: "一百零五",
        110: "一百一十",
        1001: "一千零一",
        2030: "二千零三十",
    }
    assert {n: chinese_number(n) for n in cases} == cases


def test_the_same_seed_gives_the_same_documents(corpus_path: Path, generator: Generator) -> None:
    again = Generator(list(read_corpus(corpus_path)), seed=5)
    other = Generator(list(read_corpus(corpus_path)), seed=6)
    first = list(generator.documents(200))
    assert first == list(again.documents(200))
    assert first != list(other.documents(200))
    assert len({d.request_id for d in first}) == 200


def test_documents_look_like_a_provinces_normative_documents(generator: Generator) -> None:
    docs = list(generator.documents(3000))
    assert len(generator.issuing_bodies) >= 300
    assert len({d.issuing_body for d in docs}) >= 300
    assert {d.kind for d in docs} == {"NORMATIVE_DOCUMENT", "GOVERNMENT_RULE", "LOCAL_REGULATION"}
    numbers = [v.uniform_number for d in docs for v in d.versions if v.uniform_number]
    assert len(numbers) == len(set(numbers)), "a number is never given twice"
    for text in numbers:
        assert str(UniformNumber.parse(text)) == text
    assert all(v.uniform_number for d in docs if d.kind == "NORMATIVE_DOCUMENT" for v in d.versions)
    several = [d for d in docs if len(d.versions) > 1]
    assert 0.1 < len(several) / len(docs) < 0.35
    for d in several:
        assert all(v.state == "AMENDED" for v in d.versions[:-1])
        dates = [v.promulgation_date for v in d.versions]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
    repealed = [d for d in docs if d.versions[-1].state == "REPEALED"]
    assert 0.03 < len(repealed) / len(docs) < 0.15
    for d in docs:
        for v in d.versions:
            assert any("\u4e00" <= c <= "\u9fff" for c in v.title)
            assert v.articles and v.articles[0][0] == "第一条"
            assert [label for label, _ in v.articles] == [
                f"第{chinese_number(k)}条" for k in range(1, len(v.articles) + 1)
            ]
            assert v.body.startswith("第一条 ")
            assert "本法" not in v.body


def test_a_written_corpus_is_read_back_as_generated(tmp_path: Path, generator: Generator) -> None:
    path = tmp_path / "synthetic.db"
    assert write_laws_db(generator.documents(300), path) == 300
    assert count_documents(path) == 300
    back = sorted(read_corpus(path), key=lambda d: d.request_id)
    assert back == sorted(generator.documents(300), key=lambda d: d.request_id)
