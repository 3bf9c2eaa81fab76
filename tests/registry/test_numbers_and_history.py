"""Uniform numbers round-trip; the history chain detects any change to the past."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st
from normreg_registry.domain.filing_report import FilingReport
from normreg_registry.domain.history import GENESIS, HistoryEntry, verify_chain
from normreg_registry.domain.numbers import UniformNumber

prefixes = st.text(
    alphabet=st.characters(whitelist_categories=("Lo",), blacklist_characters="〔〕【】（）"), min_size=1, max_size=6
)


@given(prefix=prefixes, year=st.integers(1900, 2999), sequence=st.integers(1, 999_999))
def test_uniform_numbers_round_trip(prefix: str, year: int, sequence: int) -> None:
    number = UniformNumber(prefix, year, sequence)
    assert UniformNumber.parse(str(number)) == number


@pytest.mark.parametrize("text", ["赤政规2020〕3号", "赤政规〔20〕3号", "赤政规〔2020〕0号", "〔2020〕3号", ""])
def test_malformed_uniform_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        UniformNumber.parse(text)


def _chain(n: int) -> list[HistoryEntry]:
    entries = []
    previous = GENESIS
    for i in range(1, n + 1):
        entry = HistoryEntry("documents/a", i, 1, "x", "alice", f"2026-01-0{i}", "", "DRAFTING", "", previous).sealed()
        entries.append(entry)
        previous = entry.hash
    return entries


def test_an_intact_history_verifies() -> None:
    assert verify_chain("documents/a", _chain(5)) == []


@pytest.mark.parametrize("field", ["actor", "reason", "to_state", "time"])
def test_any_change_to_a_past_entry_is_detected(field: str) -> None:
    entries = _chain(5)
    entries[2] = dataclasses.replace(entries[2], **{field: "tampered"})
    problems = verify_chain("documents/a", entries)
    assert problems == ["documents/a: entry 3 was altered (hash mismatch)"]


def test_a_removed_entry_is_detected() -> None:
    entries = _chain(5)
    del entries[1]
    problems = verify_chain("documents/a", entries)
    assert any("missing" in p for p in problems)
    assert any("does not link" in p for p in problems)


def test_a_resealed_rewrite_still_breaks_the_link_to_the_next_entry() -> None:
    entries = _chain(4)
    entries[1] = dataclasses.replace(entries[1], actor="mallory").sealed()
    assert verify_chain("documents/a", entries) == ["documents/a: entry 3 does not link to the entry before it"]


def test_filing_report_rates_follow_their_definitions() -> None:
    def promulgated(doc: str, body: str = "赤峰市人民政府") -> tuple[str, str, int, dict[str, object]]:
        data = {"filing_required": True, "promulgation_date": "2026-01-10", "issuing_body": body}
        return ("promulgated", doc, 1, data)

    def filed(doc: str, on_time: bool, complete: bool) -> tuple[str, str, int, dict[str, object]]:
        return ("filing_recorded", doc, 1, {"on_time": on_time, "complete": complete, "refiling": False})

    events = [
        promulgated("documents/a"),
        promulgated("documents/b"),
        promulgated("documents/c"),
        promulgated("documents/d"),
        filed("documents/a", True, True),
        filed("documents/b", False, True),
        filed("documents/c", True, False),
        ("filing_reviewed", "documents/b", 1, {"outcome": "CORRECTION_REQUIRED"}),
    ]
    [row] = FilingReport.from_events(events).rows
    assert (row.required, row.filed, row.filed_on_time, row.filed_complete) == (4, 3, 2, 1)
    assert row.filing_rate == pytest.approx(3 / 4)
    assert row.timeliness_rate == pytest.approx(2 / 3)
    assert row.conformity_rate == pytest.approx(1 / 3)
