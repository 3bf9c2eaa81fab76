"""The embedded index's listing (no text, no date filter) reads its facets from counts kept with every
write and its first pages from an index in listing order. Whatever writes came before (new versions,
changes of state, kind, issuing body or date, versions hidden again, rebuilds, a file written before
the counts were kept), the listing must say exactly what counting the versions themselves says."""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from normreg_common.sqlite import Database
from normreg_search.index.sqlite_fts import META_SCHEMA, SqliteFtsIndex
from normreg_search.model import PublicVersion, VersionChange, Visibility
from normreg_search.query import DateRange, SearchQuery, Sort

from tests.search.helpers import change, hidden, public

STATES = ("IN_FORCE", "AMENDED", "REPEALED", "PUBLIC_COMMENT", "DRAFTING")
KINDS = ("GOVERNMENT_RULE", "NORMATIVE_DOCUMENT", "LOCAL_REGULATION")
BODIES = ("赤峰市人民政府", "赤峰市人民政府办公室", "赤峰市人民代表大会常务委员会")
DATES = (None, dt.date(2019, 5, 1), dt.date(2021, 3, 1), dt.date(2021, 3, 1), dt.date(2024, 1, 10))

version = st.builds(
    lambda doc, number, state, kind, body, day: public(
        f"d{doc}", number, state=state, kind=kind, issuing_body=body, promulgated=day, effective=day
    ),
    st.integers(0, 5),
    st.integers(1, 2),
    st.sampled_from(STATES),
    st.sampled_from(KINDS),
    st.sampled_from(BODIES),
    st.sampled_from(DATES),
)
write = st.one_of(
    version.map(lambda v: (v.name, v)),
    st.tuples(st.integers(0, 5), st.integers(1, 2)).map(lambda dn: (f"documents/d{dn[0]}/versions/{dn[1]}", None)),
)
FILTERS = (
    SearchQuery(),
    SearchQuery(kinds=frozenset({"GOVERNMENT_RULE"})),
    SearchQuery(states=frozenset({"AMENDED", "REPEALED"}), issuing_bodies=frozenset({"赤峰市人民政府"})),
    SearchQuery(sort=Sort.EFFECTIVE_DATE_DESC, limit=3),
    SearchQuery(offset=2, limit=2),
)


def expected(versions: Sequence[PublicVersion], query: SearchQuery) -> tuple[int, dict[str, dict[str, int]], list[str]]:
    """Total, facets and the page's names, counted from the versions themselves."""
    states = query.states or frozenset({"IN_FORCE"})
    shown = [v for v in versions if v.visibility is Visibility.SEARCHABLE]

    def passes(v: PublicVersion, leave_out: str) -> bool:
        return (
            (leave_out == "states" or v.state in states)
            and (leave_out == "kinds" or not query.kinds or v.kind in query.kinds)
            and (leave_out == "issuing_bodies" or not query.issuing_bodies or v.issuing_body in query.issuing_bodies)
        )

    facets = {
        "states": Counter(v.state for v in shown if passes(v, "states")),
        "kinds": Counter(v.kind for v in shown if passes(v, "kinds")),
        "issuing_bodies": Counter(v.issuing_body for v in shown if passes(v, "issuing_bodies")),
        "years": Counter(str(v.year) for v in shown if passes(v, "") and v.year),
    }
    matching = [v for v in shown if passes(v, "")]
    field = "effective_date" if query.sort is Sort.EFFECTIVE_DATE_DESC else "promulgation_date"

    def order(v: PublicVersion) -> tuple[bool, int, str]:
        day = getattr(v, field)
        return (day is None, -(day.toordinal() if day else 0), v.name)

    page = [v.name for v in sorted(matching, key=order)][query.offset : query.offset + query.limit]
    return len(matching), {k: dict(c) for k, c in facets.items()}, page


async def check(index: SqliteFtsIndex) -> None:
    versions = [v for _, v in (await index.entries()).values() if v is not None]
    for query in FILTERS:
        result = await index.search(query)
        facets = {name: dict(values) for name, values in result.facets.items()}
        assert (result.total, facets, [h.version.name for h in result.hits]) == expected(versions, query)
    # A date filter leaves the kept counts aside: the rows are counted, and agree.
    dated = SearchQuery(promulgation=DateRange(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))
    with_dates = [v for v in versions if v.promulgation_date is not None]
    result = await index.search(dated)
    assert result.total == expected(with_dates, dated)[0]


def changes_of(writes: Sequence[tuple[str, PublicVersion | None]], start: int) -> list[VersionChange]:
    out = []
    for i, (name, v) in enumerate(writes, start):
        if v is None:
            doc, number = name.split("/")[1], int(name.rsplit("/", 1)[1])
            out.append(hidden(doc, number, i))
        else:
            out.append(change(v, i))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(write, min_size=1, max_size=8), min_size=1, max_size=5), rebuild=st.booleans())
async def test_the_listing_counts_what_the_versions_say_after_any_writes(
    batches: list[list[tuple[str, PublicVersion | None]]], rebuild: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "search.db", META_SCHEMA)
        await db.open()
        index = SqliteFtsIndex(db)
        await index.open()
        try:
            sequence = 1
            for batch in batches:
                await index.apply(changes_of(batch, sequence))
                sequence += len(batch)
                await check(index)
            if rebuild:
                kept = [c for _, c in sorted((await index.entries()).items())]
                build = await index.begin_rebuild()
                await build.apply([change(v, s) for s, v in kept if v is not None])
                await build.switch()
                await check(index)
        finally:
            await db.close()


async def test_a_file_written_before_the_counts_were_kept_is_counted_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "search.db"
    db = Database(path, META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    days = (dt.date(2020, 1, 1), dt.date(2021, 1, 1), None)
    await index.apply(
        [
            change(public(f"d{i}", state=STATES[i % 3], kind=KINDS[i % 2], promulgated=days[i % 3]), i + 1)
            for i in range(12)
        ]
    )
    await db.close()
    with sqlite3.connect(path) as conn:  # as an earlier release left it: no counts, no triggers
        conn.execute("DROP TABLE g1_facets")
    reader = Database(path, META_SCHEMA, read_only=True)
    await reader.open()
    following = SqliteFtsIndex(reader)
    await following.open_for_reading()
    await check(following)  # a reader that finds no counts counts the rows
    db = Database(path, META_SCHEMA)
    await db.open()
    index = SqliteFtsIndex(db)
    await index.open()
    try:
        await check(index)
        await index.apply([change(public("d0", state="REPEALED", kind="LOCAL_REGULATION"), 100), hidden("d1", 1, 101)])
        await check(index)
        await check(following)
    finally:
        await db.close()
        await reader.close()
