import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st
from normreg_common.proto_times import rfc3339, timestamp

# Offsets a zone can have (±24 h exclusive), to the second, and none (naive: UTC).
zones = st.one_of(
    st.none(),
    st.integers(min_value=-86399, max_value=86399).map(lambda s: dt.timezone(dt.timedelta(seconds=s))),
)
# Away from the ends of datetime's range, where converting to UTC leaves it.
instants = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),  # noqa: DTZ001
    zones,
)


def _protobuf(at: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


@given(instants)
def test_the_json_text_is_protobufs_own(at: dt.datetime) -> None:
    assert rfc3339(at) == _protobuf(at).ToJsonString()


@given(instants)
def test_the_timestamp_is_protobufs_own(at: dt.datetime) -> None:
    assert timestamp(at) == _protobuf(at)


def test_fractions_use_as_few_digits_as_are_exact() -> None:
    base = dt.datetime(2026, 11, 30, 12, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert rfc3339(base) == "2026-11-30T04:00:05Z"
    assert rfc3339(base.replace(microsecond=120000)) == "2026-11-30T04:00:05.120Z"
    assert rfc3339(base.replace(microsecond=120001)) == "2026-11-30T04:00:05.120001Z"
