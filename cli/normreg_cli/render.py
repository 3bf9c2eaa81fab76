"""Terminal output: aligned tables and label/value blocks that count CJK characters as two columns,
and protobuf messages as JSON for scripts."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from zoneinfo import ZoneInfo

from google.protobuf import json_format, message, timestamp_pb2

GAP = "  "
ELLIPSIS = "…"


def display_width(text: str) -> int:
    """Columns the text takes on a terminal: wide and full-width characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def one_line(text: str) -> str:
    """Cells are one line: newlines, tabs and other control characters become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()


def clip(text: str, width: int) -> str:
    """At most `width` columns, with an ellipsis when something was cut."""
    if display_width(text) <= width:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        w = display_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + ELLIPSIS


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    max_width: int = 48,
    empty: str = "",
    optional: Collection[str] = (),
) -> str:
    """Columns padded to their widest cell (cells clipped to max_width), no trailing spaces.

    `empty` is printed instead when there are no rows; `optional` columns are left out when every
    cell in them is empty.
    """
    cells = [[clip(one_line(str(c)), max_width) for c in row] for row in rows]
    if not cells and empty:
        return empty
    keep = [i for i, h in enumerate(headers) if h not in optional or any(row[i] for row in cells)]
    if len(keep) < len(headers):
        headers = [headers[i] for i in keep]
        cells = [[row[i] for i in keep] for row in cells]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))
    rule = ["-" * w for w in widths]
    lines = [_line(list(headers), widths), _line(rule, widths)]
    lines += [_line(row, widths) for row in cells]
    return "\n".join(lines)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return GAP.join(pad(c, w) for c, w in zip(cells, widths, strict=True)).rstrip()


def fields(pairs: Iterable[tuple[str, str]]) -> str:
    """`label  value` lines with the values aligned; pairs with an empty value are left out."""
    kept = [(label, value) for label, value in pairs if value]
    if not kept:
        return ""
    width = max(display_width(label) for label, _ in kept)
    lines = []
    for label, value in kept:
        first, *rest = value.splitlines() or [""]
        lines.append(f"{pad(label, width)}{GAP}{first}".rstrip())
        lines += [f"{' ' * width}{GAP}{line}".rstrip() for line in rest]
    return "\n".join(lines)


def to_json(msg: message.Message) -> str:
    """The message as proto3 JSON: field names as in the .proto, every field present, text unescaped."""
    return json_format.MessageToJson(
        msg, ensure_ascii=False, preserving_proto_field_name=True, always_print_fields_with_no_presence=True, indent=2
    )


def timestamp(ts: timestamp_pb2.Timestamp, tz: ZoneInfo) -> str:
    """`2026-03-02 09:00` in the jurisdiction's time zone; empty when unset."""
    if ts.seconds == 0 and ts.nanos == 0:
        return ""
    return ts.ToDatetime(tzinfo=dt.UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def span(start: str, end: str) -> str:
    """`2026-03-03 – 2026-03-17`, or empty when neither end is set."""
    if not start and not end:
        return ""
    return f"{start} – {end}"


def sections(*parts: str) -> str:
    """Blocks separated by a blank line, empty ones left out."""
    return "\n\n".join(p for p in parts if p)


def titled(title: str, body: str) -> str:
    return f"{title}:\n{body}" if body else ""


def with_hint(body: str, hint: str) -> str:
    return f"{body}\n{hint}" if hint else body
