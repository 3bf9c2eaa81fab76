"""The scheduler reads only the documents whose next clock day has come, so that day must be exact: on
every day of a document's life, the clock changes something exactly when that day has come — never
earlier (a wasted read each run) and never later (a transition missed)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from normreg_common.principal import SCHEDULER
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion

from tests.conftest import SHANGHAI
from tests.registry.test_domain_lifecycle import (
    DRAFTER,
    PROFILE,
    REGISTRAR,
    at,
    new_doc,
    promulgate,
    to_adopted,
)

YEARS = 7


def on(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=SHANGHAI)


def live_through(doc: Document, start: dt.date) -> list[tuple[dt.date, str]]:
    """Runs the clock on every day for YEARS years; returns the days it acted and what it did."""
    acted: list[tuple[dt.date, str]] = []
    day = start
    while day < start + dt.timedelta(days=365 * YEARS):
        wake = doc.next_clock_day(PROFILE)
        probe = copy.deepcopy(doc)
        changed = probe.run_clock(SCHEDULER, on(day), PROFILE)
        assert changed == (wake is not None and day >= wake), (day, wake)
        if changed:
            # A day already past when the walk starts (an imported version's filing) is due at once.
            assert wake is not None and day == max(wake, start), (day, wake)
            assert doc.run_clock(SCHEDULER, on(day), PROFILE)
            acted.append((day, ",".join(c.action for c in doc.pop_changes())))
        day += dt.timedelta(days=1)
    assert doc.next_clock_day(PROFILE) is None or doc.next_clock_day(PROFILE) >= day
    return acted


def test_a_promulgated_normative_document_wakes_on_each_day_its_clock_acts() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    doc.pop_changes()
    acted = live_through(doc, at(4).date())
    actions = [what for _, what in acted]
    # In force after 30 days, filing overdue, evaluation due before the five years end, expired.
    assert any("in_force" in a or "entered_into_force" in a for a in actions), actions
    assert any("filing_overdue" in a for a in actions), actions
    assert any("evaluation_due" in a for a in actions), actions
    assert doc.latest.state == State.EXPIRED


def test_a_comment_period_wakes_the_day_after_it_ends() -> None:
    doc = new_doc()
    start = at(0).date()
    doc.open_comment(DRAFTER, at(0), PROFILE, start, start + dt.timedelta(days=10))
    doc.pop_changes()
    acted = live_through(doc, start)
    assert [day for day, _ in acted] == [start + dt.timedelta(days=11)]
    assert doc.latest.state == State.DRAFTING


@pytest.mark.parametrize("kind", [Kind.NORMATIVE_DOCUMENT, Kind.NATIONAL_LAW])
def test_an_imported_document_wakes_for_its_later_version_and_never_as_a_missed_filing(kind: Kind) -> None:
    """Whether stock (存量) was filed before the registry knew it is not known here: it is never
    flagged overdue, as the reports count it only once a filing of it is recorded."""
    today = at(0).date()
    doc = Document.imported(
        id="imp1",
        kind=kind,
        issuing_body="赤峰市人民政府",
        versions=[
            ImportedVersion("办法", "第一条 旧文。", State.AMENDED, dt.date(2019, 1, 1), dt.date(2019, 3, 1)),
            ImportedVersion(
                "办法", "第一条 新文。", State.IN_FORCE, today, today + dt.timedelta(days=40), validity_end=None
            ),
        ],
        principal=REGISTRAR,
        at=at(0),
        profile=PROFILE,
        today=today,
    )
    doc.pop_changes()
    acted = live_through(doc, today)
    assert today + dt.timedelta(days=40) in [day for day, _ in acted]
    assert not any("filing_overdue" in what for _, what in acted)


def test_a_document_with_nothing_left_to_do_never_wakes() -> None:
    doc = to_adopted(new_doc())
    promulgate(doc, at(4))
    live_through(doc, at(4).date())
    assert doc.next_clock_day(PROFILE) is None
