"""The projection from registry events to the public index: what is public, what never is, and
that order and duplicates do not matter."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path

import cramjam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg.events.v1.document_events_pb2 import DocumentAmended
from normreg_common import event_data, packing
from normreg_common.event_data import TYPE_URL_PREFIX, UnreadableData
from normreg_common.events import CloudEvent
from normreg_common.principal import Principal, Role
from normreg_common.sqlite import Database
from normreg_registry.application.events import to_records
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_search.index.port import encode_version
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import Article, TimelineEvent, Visibility
from normreg_search.projection import project

from tests.search.helpers import SHANGHAI, T0, comment_event, lifecycle, registry_event

D = dt.date


def _inflated(value: object) -> object:
    if isinstance(value, bytes):
        with contextlib.suppress(cramjam.DecompressionError):
            return bytes(packing.unpack_text(value)).decode()
    return value


def view_of(event: CloudEvent):  # type: ignore[no-untyped-def]
    change = project(event, SHANGHAI)
    assert change is not None
    return change.version


@pytest.mark.parametrize("legacy", [False, True], ids=["published", "legacy-snapshot"])
def test_no_internal_field_reaches_the_public_view(legacy: bool) -> None:
    for event in lifecycle(legacy=legacy):
        change = project(event, SHANGHAI)
        assert change is not None
        if change.version is not None:
            assert "SECRET" not in json.dumps(encode_version(change.version), ensure_ascii=False)


async def test_no_internal_field_reaches_the_index_files(tmp_path: Path) -> None:
    db = Database(tmp_path / "search.db", META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    changes = [c for e in lifecycle() if (c := project(e, SHANGHAI)) is not None]
    await index.apply(changes)
    await db.close()
    conn = sqlite3.connect(tmp_path / "search.db")
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    # The public views are kept packed: read them unpacked, or a secret in one would go unseen.
    dumped = " ".join(
        str(_inflated(value))
        for table in tables
        for row in conn.execute(f"SELECT * FROM {table}")  # noqa: S608
        for value in row
    )
    conn.close()
    assert "法治政府" in dumped
    assert "SECRET" not in dumped


@pytest.mark.parametrize("legacy", [False, True], ids=["published", "legacy-snapshot"])
def test_a_version_in_force_shows_its_public_fields(legacy: bool) -> None:
    events = lifecycle("rule1", legacy=legacy)
    v1 = view_of(events[9])  # version 1, amended by version 2
    assert v1.name == "documents/rule1/versions/1"
    assert v1.document == "documents/rule1"
    assert (v1.title, v1.kind, v1.state, v1.issuing_body) == (
        "赤峰市法治政府建设办法",
        "GOVERNMENT_RULE",
        "AMENDED",
        "赤峰市人民政府",
    )
    assert v1.uniform_number == "赤政规〔2024〕1号"
    assert (v1.promulgation_date, v1.effective_date) == (D(2024, 1, 10), D(2024, 2, 10))
    assert v1.articles == (
        Article("第一条", "为了推进法治政府建设，制定本办法。"),
        Article("第二条", "旧条款只在第一版中出现。"),
    )
    assert v1.amended_by == "documents/rule1/versions/2"
    assert [e.event for e in v1.timeline] == ["promulgated", "in_force", "amended"]
    assert (v1.valid_from, v1.valid_to) == (D(2024, 2, 10), D(2025, 6, 1))
    v2 = view_of(events[11])
    assert (v2.state, v2.amends, v2.repealed_by) == ("REPEALED", "documents/rule1/versions/1", "赤政规〔2026〕2号")
    assert v2.timeline[-1] == TimelineEvent("2026-02-01", "repealed", "清理废止", "赤政规〔2026〕2号")
    assert (v2.valid_from, v2.valid_to) == (D(2025, 6, 1), D(2026, 2, 1))


@pytest.mark.parametrize(
    ("state", "visibility"),
    [
        ("DRAFTING", Visibility.HIDDEN),
        ("LEGALITY_REVIEW", Visibility.HIDDEN),
        ("AWAITING_DELIBERATION", Visibility.HIDDEN),
        ("ADOPTED", Visibility.HIDDEN),
        ("REJECTED", Visibility.HIDDEN),
        ("WITHDRAWN", Visibility.HIDDEN),
        ("PUBLIC_COMMENT", Visibility.CONSULTATION),
        ("PROMULGATED", Visibility.SEARCHABLE),
        ("IN_FORCE", Visibility.SEARCHABLE),
        ("AMENDED", Visibility.SEARCHABLE),
        ("REPEALED", Visibility.SEARCHABLE),
        ("DECLARED_INVALID", Visibility.SEARCHABLE),
        ("EXPIRED", Visibility.SEARCHABLE),
    ],
)
def test_which_states_are_public(state: str, visibility: Visibility) -> None:
    promulgated = state in {"PROMULGATED", "IN_FORCE", "AMENDED", "REPEALED", "DECLARED_INVALID", "EXPIRED"}
    event = registry_event(
        "x",
        1,
        1,
        state,
        comment_window=("2026-03-01", "2026-03-31"),
        promulgation_date="2024-01-10" if promulgated else "",
    )
    change = project(event, SHANGHAI)
    assert change is not None
    assert change.visibility is visibility
    assert (change.version is None) == (visibility is Visibility.HIDDEN)


def test_a_draft_open_for_comment_carries_its_window_and_no_promulgation() -> None:
    draft = view_of(registry_event("x", 1, 2, "PUBLIC_COMMENT", comment_window=("2026-03-01", "2026-03-31")))
    assert (draft.comment_start, draft.comment_end) == (D(2026, 3, 1), D(2026, 3, 31))
    assert (draft.uniform_number, draft.promulgation_date, draft.valid_from) == ("", None, None)


def test_events_that_are_not_about_a_document_version_are_ignored() -> None:
    event = registry_event("x", 1, 1, "IN_FORCE", promulgation_date="2024-01-10")
    assert project(event.model_copy(update={"type": "normreg.review.v1.review_approved"}), SHANGHAI) is None
    assert project(comment_event("x", 1, 3), SHANGHAI) is None


# A registry document event always carries its version: one without (or with a version of another
# document) is unreadable and set aside as a dead letter, where it used to be skipped unseen.
@pytest.mark.parametrize("legacy", [False, True], ids=["published", "legacy-snapshot"])
def test_a_document_event_without_its_version_is_unreadable(legacy: bool) -> None:
    event = registry_event("x", 1, 1, "IN_FORCE", action="entered_into_force", legacy=legacy)
    without_version = {k: v for k, v in event.data.items() if k != "version"}
    with pytest.raises(UnreadableData):
        project(event.model_copy(update={"data": without_version}), SHANGHAI)
    other = registry_event("y", 1, 1, "IN_FORCE", action="entered_into_force", legacy=legacy)
    foreign = event.data | {"version": other.data["version"]}
    with pytest.raises(UnreadableData):
        project(event.model_copy(update={"data": foreign}), SHANGHAI)


def test_an_event_naming_another_schema_is_unreadable() -> None:
    event = registry_event("x", 1, 1, "IN_FORCE", action="entered_into_force")
    with pytest.raises(UnreadableData):
        project(
            event.model_copy(update={"dataschema": "type.googleapis.com/normreg.events.v1.ReviewDecided"}), SHANGHAI
        )
    with pytest.raises(UnreadableData):
        project(event.model_copy(update={"dataschema": event_data.dataschema(DocumentAmended)}), SHANGHAI)


def test_a_type_added_later_still_updates_the_view_from_its_common_part() -> None:
    event = registry_event("x", 1, 1, "IN_FORCE", action="entered_into_force", promulgation_date="2024-01-10")
    later = event.model_copy(
        update={
            "type": "normreg.registry.v1.filing_outcome_received",
            "dataschema": TYPE_URL_PREFIX + "normreg.events.v1.DocumentFilingOutcomeReceived",
        }
    )
    assert view_of(later) == view_of(event)


@pytest.mark.parametrize("index", range(len(lifecycle())))
def test_a_legacy_snapshot_reads_as_its_published_message(index: int) -> None:
    """An event log written before the messages were published replays to the same index."""
    assert project(lifecycle(legacy=True)[index], SHANGHAI) == project(lifecycle()[index], SHANGHAI)


class TestValidityInterval:
    def test_an_amended_version_ends_when_its_successor_takes_effect(self) -> None:
        v = view_of(
            registry_event(
                "x",
                1,
                3,
                "AMENDED",
                promulgation_date="2020-01-01",
                effective_date="2020-02-01",
                timeline=[("2023-05-01", "amended", "", "documents/x/versions/2")],
            )
        )
        assert (v.valid_from, v.valid_to) == (D(2020, 2, 1), D(2023, 5, 1))

    def test_a_version_in_force_with_a_validity_period_ends_after_its_last_day(self) -> None:
        v = view_of(
            registry_event(
                "x", 1, 3, "IN_FORCE", promulgation_date="2024-01-01", effective_date="2024-02-01",
                validity_end="2029-01-31",
            )
        )  # fmt: skip
        assert (v.valid_from, v.valid_to) == (D(2024, 2, 1), D(2029, 2, 1))

    def test_an_ended_version_without_a_dated_ending_ends_when_its_state_changed(self) -> None:
        repealed_at = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)  # 2 March in Chifeng
        v = view_of(registry_event("x", 1, 1, "REPEALED", promulgation_date="2001-01-01", updated_at=repealed_at))
        assert (v.valid_from, v.valid_to) == (D(2001, 1, 1), D(2026, 3, 2))

    def test_a_version_is_never_valid_before_it_was_promulgated(self) -> None:
        v = view_of(registry_event("x", 2, 1, "IN_FORCE", promulgation_date="2020-10-17", effective_date="1985-04-01"))
        assert v.valid_from == D(2020, 10, 17)

    def test_an_interval_that_would_end_before_it_starts_is_empty(self) -> None:
        v = view_of(
            registry_event(
                "x", 1, 2, "AMENDED", promulgation_date="2014-08-31", effective_date="1994-01-01",
                timeline=[("1994-01-01", "amended", "", "")],
            )
        )  # fmt: skip
        assert v.valid_from == v.valid_to == D(2014, 8, 31)
        assert not v.valid_on(D(2014, 8, 31))


def test_an_imported_document_from_the_registry_projects_to_its_public_view() -> None:
    registrar = Principal("reg", frozenset({Role.REGISTRAR}), "政府办")
    doc = Document.imported(
        id="law1",
        kind=Kind.NATIONAL_LAW,
        issuing_body="全国人民代表大会常务委员会",
        versions=[
            ImportedVersion("中华人民共和国仲裁法", "第一条 旧文。", State.AMENDED, D(2017, 9, 1), D(2017, 9, 1)),
            ImportedVersion("中华人民共和国仲裁法", "第一条 新文。", State.IN_FORCE, D(2025, 9, 12), D(2026, 3, 1)),
        ],
        principal=registrar,
        at=T0,
    )
    [(_, record)] = [pair for pair in to_records(doc, doc.pop_changes()) if pair[0].version == 2]
    change = project(CloudEvent.from_bytes(record.value), SHANGHAI)
    assert change is not None and change.version is not None
    v = change.version
    assert (v.name, v.state, v.kind, v.title) == (
        "documents/law1/versions/2",
        "IN_FORCE",
        "NATIONAL_LAW",
        "中华人民共和国仲裁法",
    )
    assert v.articles == (Article("第一条", "新文。"),)
    assert (v.valid_from, v.valid_to, v.amends) == (D(2026, 3, 1), None, "documents/law1/versions/1")


# ---- order and duplicates ---------------------------------------------------------------------------

# A log written across the release that published the messages: p1's first changes are snapshots.
EVENTS = lifecycle("p1", legacy=True)[:6] + lifecycle("p1")[6:] + lifecycle("p2")[:8]
CLEAN: dict[str, object] = {}


async def entries_after(events: list[CloudEvent], batch: int) -> dict[str, object]:
    db = Database(":memory:", META_SCHEMA)
    await db.open()
    try:
        index = SqliteFtsIndex(db)
        await index.open()
        changes = [c for e in events if (c := project(e, SHANGHAI)) is not None]
        for start in range(0, len(changes), batch):
            await index.apply(changes[start : start + batch])
        return dict(await index.entries())
    finally:
        await db.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(EVENTS),
    duplicates=st.lists(st.sampled_from(EVENTS), max_size=10),
    batch=st.integers(min_value=1, max_value=8),
)
async def test_order_and_duplicates_do_not_change_the_index(
    order: list[CloudEvent], duplicates: list[CloudEvent], batch: int
) -> None:
    if not CLEAN:
        CLEAN.update(await entries_after(EVENTS, len(EVENTS)))
        # The clean run ends where the lifecycle does: v1 amended, v2 repealed, p2's v2 a draft again.
        assert CLEAN["documents/p1/versions/2"][1].state == "REPEALED"  # type: ignore[index]
        assert CLEAN["documents/p2/versions/2"] == (8, None)
    assert await entries_after([*order, *duplicates], batch) == CLEAN
