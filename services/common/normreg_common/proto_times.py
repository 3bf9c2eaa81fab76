"""Instants as protobuf writes them: `google.protobuf.Timestamp` and its proto3 JSON text, computed
straight from a datetime. They equal `Timestamp.FromDatetime` and `ToJsonString` (a naive datetime is
UTC, an aware one is converted) at a fraction of their cost: every write builds several of them, for
its event and for its reply."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose: compared with naive UTC


def _utc_naive(at: dt.datetime) -> dt.datetime:
    offset = at.utcoffset()
    naive = at.replace(tzinfo=None)
    return naive - offset if offset else naive


def timestamp(at: dt.datetime) -> Timestamp:
    delta = _utc_naive(at) - _EPOCH
    return Timestamp(seconds=delta.days * 86400 + delta.seconds, nanos=at.microsecond * 1000)


def rfc3339(at: dt.datetime) -> str:
    """`at` in UTC with 0, 3 or 6 fractional digits, as few as represent it exactly, and a Z."""
    utc = _utc_naive(at)
    if not 1 <= utc.year <= 9999:
        raise ValueError(f"{at} is outside the range of a Timestamp")
    whole = utc.replace(microsecond=0).isoformat()
    micros = utc.microsecond
    if micros == 0:
        return whole + "Z"
    if micros % 1000 == 0:
        return f"{whole}.{micros // 1000:03d}Z"
    return f"{whole}.{micros:06d}Z"
