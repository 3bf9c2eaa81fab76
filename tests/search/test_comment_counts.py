"""Comment counts of drafts open for comment, from the registry's comment_received events: read with
the published message, kept as the highest count whatever the order or copies of the events."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg_common.event_data import UnreadableData
from normreg_common.events import CloudEvent
from normreg_common.sqlite import Database
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import CommentCount
from normreg_search.projection import project, project_comment

from tests.search.helpers import SHANGHAI, comment_event, registry_event

DRAFT = registry_event("dogs", 1, 2, "PUBLIC_COMMENT", comment_window=("2026-03-01", "2026-03-31"))
NAME = "documents/dogs/versions/1"


def test_a_comment_event_gives_its_version_the_count() -> None:
    assert project_comment(comment_event("dogs", 1, 3)) == CommentCount(NAME, 3)
    # It is not a change of the version: the version projection leaves it alone.
    assert project(comment_event("dogs", 1, 3), SHANGHAI) is None


def test_other_events_carry_no_count() -> None:
    assert project_comment(DRAFT) is None


@pytest.mark.parametrize(
    "update",
    [
        {"dataschema": "type.googleapis.com/normreg.events.v1.ReviewDecided"},
        {"data": {"document": "documents/dogs", "version": "documents/cats/versions/1", "comment_count": 1}},
        {"data": {"document": "documents/dogs", "version": NAME, "comment_count": 0}},
        {"data": {"document": "documents/dogs", "version": NAME, "comment_count": "many"}},
    ],
)
def test_a_comment_event_that_is_not_the_published_message_is_refused(update: dict[str, object]) -> None:
    with pytest.raises(UnreadableData):
        project_comment(comment_event("dogs", 1, 1).model_copy(update=update))


async def count_after(events: list[CloudEvent], batch: int) -> tuple[dict[str, int], object]:
    db = Database(":memory:", META_SCHEMA)
    await db.open()
    try:
        index = SqliteFtsIndex(db)
        await index.open()
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            await index.apply(
                [c for e in chunk if (c := project(e, SHANGHAI)) is not None],
                comments=[c for e in chunk if (c := project_comment(e)) is not None],
            )
        return await index.comment_counts([NAME]), await index.get(NAME)
    finally:
        await db.close()


EVENTS = [DRAFT, *(comment_event("dogs", 1, n) for n in range(1, 6))]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(EVENTS),
    duplicates=st.lists(st.sampled_from(EVENTS), max_size=8),
    batch=st.integers(min_value=1, max_value=4),
)
async def test_order_and_copies_of_comment_events_do_not_change_the_count(
    order: list[CloudEvent], duplicates: list[CloudEvent], batch: int
) -> None:
    counts, version = await count_after([*order, *duplicates], batch)
    assert counts == {NAME: 5}
    assert version is not None and version.comment_count == 0  # the stored view holds no count
