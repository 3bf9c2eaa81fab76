"""What writing a change as its published event (normreg.events.v1.Document{Action}) costs the
registry per change, against a floor measured in the same run: the same version dumped as the
registry's own record and serialised, which is what the events were before their messages were
published. Versions of 1,000, 10,000 and 100,000 characters; the figure is the median of several
rounds with their range. A write's own cost (its transaction, history and outbox row) is in
`python -m bench --only write_path`; this isolates the encoding, which that cannot resolve.

    python -m bench.event_encoding
"""

from __future__ import annotations

import datetime as dt
import functools
import statistics
import time
from collections.abc import Callable
from typing import Any

from normreg_common.events import REGISTRY_SOURCE, CloudEvent
from normreg_common.principal import Principal, Role
from normreg_registry.application.events import to_records
from normreg_registry.domain.lifecycle import Kind
from normreg_registry.domain.model import Change, Document, Version
from pydantic import TypeAdapter

ROUNDS = 7
SIZES = (1_000, 10_000, 100_000)
DRAFTER = Principal(subject="zhang", roles=frozenset({Role.DRAFTER}), org="市城管局")
AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
_record = TypeAdapter(Version)


def _document(chars: int) -> tuple[Document, list[Change]]:
    article = "规范性文件应当依法制定，不得违法减损公民、法人和其他组织的合法权益。"
    lines, total, n = [], 0, 1
    while total < chars:
        line = f"第{n}条 {article}"
        lines.append(line)
        total += len(line) + 1
        n += 1
    doc = Document.create(
        id="bench",
        kind=Kind.NORMATIVE_DOCUMENT,
        title="赤峰市互联网租赁自行车管理办法",
        body="\n".join(lines),
        issuing_body="赤峰市人民政府",
        number_prefix="赤政规",
        provisional=False,
        principal=DRAFTER,
        at=AT,
    )
    doc.pop_changes()
    doc.update_draft(DRAFTER, AT, title=None, body=doc.latest.body + "。", etag="")
    return doc, doc.pop_changes()


def _record_dump(doc: Document, changes: list[Change]) -> bytes:
    """The floor: the version as the registry's own record, with its articles, serialised."""
    change = changes[0]
    v = doc.version(change.version)
    version: dict[str, Any] = _record.dump_python(v, mode="json")
    version["articles"] = [{"label": a.label, "text": a.text} for a in v.articles]
    event = CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1." + change.action,
        subject=doc.name,
        time=change.at,
        sequence=change.sequence,
        data={"details": change.details, "version": version},
    )
    return event.to_bytes()


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    for chars in SIZES:
        doc, changes = _document(chars)
        calls = max(20, 200_000 // chars)
        published: list[float] = []
        floor: list[float] = []
        for _ in range(ROUNDS):
            published.append(_per_call_us(functools.partial(to_records, doc, changes), calls))
            floor.append(_per_call_us(functools.partial(_record_dump, doc, changes), calls))
        ratios = [p / f for p, f in zip(published, floor, strict=True)]
        print(
            f"{chars:>7,} chars: published event {statistics.median(published):8.1f} µs, "
            f"record dump (floor) {statistics.median(floor):8.1f} µs, "
            f"ratio {statistics.median(ratios):.2f} [{min(ratios):.2f}..{max(ratios):.2f}] "
            f"(median of {ROUNDS} rounds × {calls})"
        )


if __name__ == "__main__":
    main()
