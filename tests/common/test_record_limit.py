"""The one limit every event log shares, held by the producers: a record larger than a log takes is
refused with its write, and a write that sets a text leaves room for the events that carry it later."""

from __future__ import annotations

import pytest
from normreg_common.errors import InvalidArgument
from normreg_common.eventlog.port import MAX_RECORD_BYTES, Record, within_record_limit


def _record(size: int) -> Record:
    return Record("t", "k", b"x" * (size - 2))


def test_a_record_a_log_takes_passes_and_one_it_would_refuse_is_invalid_argument_on_the_field() -> None:
    largest = MAX_RECORD_BYTES - 64 * 1024
    assert within_record_limit(_record(largest), "body").value == _record(largest).value
    with pytest.raises(InvalidArgument) as refused:
        within_record_limit(_record(largest + 1), "versions")
    assert refused.value.field == "versions" and "MiB" in refused.value.description


def test_a_write_that_sets_a_text_leaves_room_for_the_events_that_carry_it_later() -> None:
    headroom = 1024 * 1024
    near = MAX_RECORD_BYTES - 64 * 1024 - headroom // 2
    with pytest.raises(InvalidArgument):
        within_record_limit(_record(near), "body", headroom=headroom)
    # A later event of that size (a promulgation carrying the same text) is still published.
    assert within_record_limit(_record(near), "body") is not None
