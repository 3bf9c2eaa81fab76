"""A sender's yearly report reads the filings and suggestions of that year, found through an index of
the sender and the day that places them in it, not every one the sender ever sent (a province's
archive holds decades of them). Asked of each store's query planner, with the report's own queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from normreg_common.postgres.database import Conn, PostgresDatabase
from normreg_common.sqlite import Database
from normreg_filing.adapters import postgres_store, sqlite_store

YEAR = ("chifeng", "2026-01-01", "2026-12-31")


async def test_a_sqlite_report_reads_the_years_filings_and_suggestions_by_their_index(tmp_path: Path) -> None:
    db = Database(tmp_path / "filing.db", sqlite_store.SCHEMA)
    await db.open()
    try:
        for query, index in (
            (sqlite_store._FILING_COUNTS, "received_filings_by_year"),
            (sqlite_store._SUGGESTION_COUNTS, "review_suggestions_by_day"),
        ):

            def explain(conn: sqlite3.Connection, q: str = query) -> list[str]:
                return [str(r[3]) for r in conn.execute("EXPLAIN QUERY PLAN " + q, YEAR).fetchall()]

            steps = await db.read(explain)
            assert any(f"USING INDEX {index} (sender=? AND <expr>>? AND <expr><?)" in s for s in steps), steps
    finally:
        await db.close()


async def test_a_postgres_report_reads_the_years_filings_and_suggestions_by_their_index(
    postgres_url: str, postgres_schema_prefix: str
) -> None:
    db = PostgresDatabase(postgres_url, f"{postgres_schema_prefix}filing", postgres_store.MIGRATIONS, pool_size=1)
    await db.open()
    try:
        for query, index, day in (
            (postgres_store._FILING_COUNTS, "received_filings_by_year", "promulgation_date"),
            (postgres_store._SUGGESTION_COUNTS, "review_suggestions_by_day", "submitted_on"),
        ):

            def explain(conn: Conn, q: str = query) -> list[str]:
                # An empty table is cheapest read whole: ask whether the index can answer the range.
                conn.execute("SET LOCAL enable_seqscan = off")
                return [str(r[0]) for r in conn.execute("EXPLAIN " + q, YEAR).fetchall()]

            plan = "\n".join(await db.read(explain))
            assert index in plan, plan
            assert "Index Cond" in plan, plan
            condition = plan.split("Index Cond", 1)[1].split("\n", 1)[0]
            assert "sender" in condition and day in condition, plan
    finally:
        await db.close()
