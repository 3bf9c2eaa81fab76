"""The direct reading of plain proto3 JSON gives json_format.ParseDict's result exactly: the same
message, or the same refusal, whatever the data holds; and the registry's own events take it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events, proto_json
from normreg_common.event_data import dataschema
from normreg_common.events import REGISTRY_SOURCE, CloudEvent

TEXT = st.one_of(
    st.text(max_size=8),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Lo", "Ll"]), max_size=4),
    st.sampled_from(["第一条", "\ud83d\ude00", "\ud800", "documents/x/versions/1", ""]),
)
TIMES = st.sampled_from(
    ["2026-03-02T09:00:00Z", "2026-03-02T09:00:00.123456+08:00", "2026-03-02", "9999-99-99T00:00:00Z"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2026, 2**31 - 1, 2**31, -(2**31) - 1]),
    st.floats(allow_nan=True),
    st.sampled_from([1.0, 2.5, "12", " 1", "true"]),
    TEXT,
    TIMES,
)
KEYS = st.sampled_from(
    [
        *[
            "change",
            "document",
            "version",
            "name",
            "number",
            "state",
            "title",
            "body",
            "articles",
            "label",
            "text",
            "timeline",
            "date",
            "event",
            "note",
        ],
        *[
            "related",
            "promulgation",
            "uniform_number",
            "promulgation_date",
            "effective_date",
            "validity_end_date",
            "year",
            "month",
        ],
        *[
            "day",
            "comment_window",
            "start_date",
            "end_date",
            "create_time",
            "update_time",
            "amends",
            "amended_by",
            "repealed_by",
        ],
        *[
            "version_number",
            "from_state",
            "to_state",
            "actor",
            "reason",
            "kind",
            "issuing_body",
            "provisional",
            "version_count",
        ],
        *[
            "revision",
            "number_prefix",
            "drafting_org",
            "versionNumber",
            "updateTime",
            "issuingBody",
            "amendedBy",
            "[x.y]",
            "unknown",
        ],
    ]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=12,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=8)


def outcome(parse: Any, data: Any, ignore_unknown: bool) -> tuple[str, object]:
    try:
        return "read", parse(data, dev.DocumentEvent(), ignore_unknown_fields=ignore_unknown)
    except Exception as exc:  # json_format refuses some data with TypeError or ValueError, not ParseError
        return "refused", f"{type(exc).__name__}: {exc}"


def snapshot(n: int) -> dict[str, Any]:
    """An event's data as the registry writes it (every field present, proto names)."""
    date = {"year": 2024, "month": 1, "day": 10}
    return {
        "change": {"version_number": n, "from_state": "", "to_state": "IN_FORCE", "actor": "bench", "reason": ""},
        "document": {
            "name": "documents/a",
            "kind": "NORMATIVE_DOCUMENT",
            "issuing_body": "赤峰市人民政府",
            "number_prefix": "",
            "drafting_org": "",
            "provisional": False,
            "version_count": n,
        },
        "version": {
            "name": f"documents/a/versions/{n}",
            "number": n,
            "state": "IN_FORCE",
            "title": "赤峰市行政规范性文件管理办法",
            "body": "第一条 为了规范行政规范性文件管理，制定本办法。",
            "articles": [{"label": "第一条", "text": "为了规范行政规范性文件管理，制定本办法。"}],
            "revision": 1,
            "comment_window": {},
            "timeline": [{"date": date, "event": "promulgated", "note": "", "related": ""}],
            "amends": "",
            "amended_by": "",
            "repealed_by": "",
            "create_time": "2026-11-30T05:54:21.217597Z",
            "update_time": "2026-11-30T05:54:21Z",
            "promulgation": {
                "uniform_number": "赤政规〔2024〕1号",
                "registration_number": "",
                "promulgation_date": date,
                "effective_date": {"year": 2024, "month": 2, "day": 10},
                "validity_end_date": {"year": 2029, "month": 2, "day": 10},
            },
        },
        "versions": n,
        "filing_required": True,
    }


@settings(max_examples=400, deadline=None)
@given(
    data=st.one_of(
        OBJECTS,
        st.fixed_dictionaries({"change": OBJECTS, "document": OBJECTS, "version": OBJECTS}),
        st.builds(
            lambda part, extra: {**snapshot(1), part: {**snapshot(1)[part], **extra}},
            st.sampled_from(["change", "document", "version"]),
            OBJECTS,
        ),
        VALUES,
    ),
    ignore_unknown=st.booleans(),
)
def test_any_data_reads_as_json_format_reads_it(data: Any, ignore_unknown: bool) -> None:
    assert outcome(proto_json.parse_dict, data, ignore_unknown) == outcome(json_format.ParseDict, data, ignore_unknown)


def test_the_registry_s_events_are_read_without_json_format(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [json_format.ParseDict(snapshot(n), dev.DocumentEvent(), ignore_unknown_fields=True) for n in (1, 2)]

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("json_format was asked to read plain data")

    monkeypatch.setattr(json_format, "ParseDict", refused)
    read = [proto_json.parse_dict(snapshot(n), dev.DocumentEvent(), ignore_unknown_fields=True) for n in (1, 2)]
    assert read == expected
    assert read[0].version.HasField("comment_window") and read[0].version.update_time.seconds > 0
    event = CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1.promulgated",
        subject="documents/a",
        time=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
        sequence=1,
        dataschema=dataschema(dev.DocumentPromulgated),
        data=snapshot(1),
    )
    assert document_events.read_common(event) == expected[0]
