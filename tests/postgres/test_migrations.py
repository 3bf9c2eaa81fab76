"""Schema migrations: ordered SQL files, each applied once, at start, by whichever replica is first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest
from normreg_common.postgres import migrations
from normreg_common.postgres.database import PostgresDatabase
from normreg_filing.adapters.postgres_store import MIGRATIONS as FILING
from normreg_registry.adapters.postgres_store import MIGRATIONS as REGISTRY
from normreg_review.adapters.postgres_store import MIGRATIONS as REVIEW


async def applied(url: str, schema: str) -> list[tuple[int, str]]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            psycopg.sql.SQL("SELECT version, name FROM {}.schema_migrations ORDER BY version").format(
                psycopg.sql.Identifier(schema)
            )
        )
        return [(int(v), str(n)) for v, n in await cursor.fetchall()]


@pytest.mark.parametrize("folder", [REGISTRY, REVIEW, FILING], ids=["registry", "review", "filing"])
async def test_replicas_starting_together_apply_each_migration_once(
    folder: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}m"
    dbs = [PostgresDatabase(postgres_url, schema, folder, pool_size=1) for _ in range(3)]
    await asyncio.gather(*(db.open() for db in dbs))
    for db in dbs:
        await db.close()
    expected = [(m.version, m.name) for m in migrations.load(folder)]
    assert await applied(postgres_url, schema) == expected


async def test_a_new_file_is_applied_at_the_next_start_and_a_changed_one_is_refused(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}evolving"
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (id int PRIMARY KEY);")
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    await db.open()
    await db.close()

    (tmp_path / "0002_second.sql").write_text("ALTER TABLE a ADD COLUMN note text NOT NULL DEFAULT '';")
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    await db.open()
    await db.transaction(lambda conn: conn.execute("INSERT INTO a (id) VALUES (1)"))
    assert await db.read(lambda conn: conn.execute("SELECT id, note FROM a").fetchall()) == [(1, "")]
    await db.close()
    assert await applied(postgres_url, schema) == [(1, "first"), (2, "second")]

    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (id bigint PRIMARY KEY);")
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    with pytest.raises(migrations.MigrationError, match=r"0001_first\.sql changed after it was applied"):
        await db.open()
    await db.close()


async def test_a_failing_migration_leaves_nothing_half_applied(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}broken"
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (id int PRIMARY KEY);\nCREATE TABLE b (id nonsense);")
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    with pytest.raises(psycopg.errors.UndefinedObject):
        await db.open()
    await db.close()
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        cursor = await conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,))
        assert await cursor.fetchone() == (0,)


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0003_c.sql").write_text("")
    with pytest.raises(migrations.MigrationError, match="without gaps"):
        migrations.load(tmp_path)
    (tmp_path / "3_c.sql").write_text("")
    with pytest.raises(migrations.MigrationError, match=r"NNNN_name\.sql"):
        migrations.load(tmp_path)


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def _table_a(folder: Path, rows: str) -> None:
    """Migration 0001: a table `a` (id, v) holding `rows` before any index on v is built."""
    _write(folder, "0001_first.sql", f"CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL);\nINSERT INTO a {rows};")


async def _index_is_valid(url: str, schema: str, name: str) -> bool | None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cursor = await conn.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            (schema, name),
        )
        row = await cursor.fetchone()
        return None if row is None else bool(row[0])


async def test_an_index_is_built_concurrently_by_a_migration_outside_a_transaction(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    # CREATE INDEX CONCURRENTLY refuses to run inside a transaction, so this migration can only
    # succeed outside one; replicas starting together still apply it once.
    schema = f"{postgres_schema_prefix}concurrent"
    _table_a(tmp_path, "SELECT g, g % 7 FROM generate_series(1, 1000) g")
    _write(
        tmp_path,
        "0002_by_v.sql",
        "-- normreg: no transaction\n-- Built without blocking writes to a.\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_by_v ON a (v);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_by_v_id ON a (v, id); -- the second\n",
    )
    dbs = [PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1) for _ in range(3)]
    await asyncio.gather(*(db.open() for db in dbs))
    for db in dbs:
        await db.close()
    assert await applied(postgres_url, schema) == [(1, "first"), (2, "by_v")]
    assert await _index_is_valid(postgres_url, schema, "a_by_v") is True
    assert await _index_is_valid(postgres_url, schema, "a_by_v_id") is True


async def test_an_index_a_cut_off_build_left_invalid_is_built_again_at_the_next_start(
    tmp_path: Path, postgres_url: str, postgres_schema_prefix: str
) -> None:
    schema = f"{postgres_schema_prefix}invalid"
    _table_a(tmp_path, "VALUES (1, 1), (2, 1)")
    _write(
        tmp_path,
        "0002_unique_v.sql",
        "-- normreg: no transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS a_unique_v ON a (v);\n",
    )
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    with pytest.raises(psycopg.errors.UniqueViolation):
        await db.open()
    await db.close()
    # The failed build leaves its index behind, invalid, and the migration unrecorded.
    assert await _index_is_valid(postgres_url, schema, "a_unique_v") is False
    assert await applied(postgres_url, schema) == [(1, "first")]

    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
        await conn.execute(psycopg.sql.SQL("DELETE FROM {}.a WHERE id = 2").format(psycopg.sql.Identifier(schema)))
    db = PostgresDatabase(postgres_url, schema, tmp_path, pool_size=1)
    await db.open()
    await db.close()
    assert await _index_is_valid(postgres_url, schema, "a_unique_v") is True
    assert await applied(postgres_url, schema) == [(1, "first"), (2, "unique_v")]


def test_a_migration_outside_a_transaction_must_be_safe_to_run_again(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "-- normreg: no transaction\nCREATE INDEX CONCURRENTLY a_v ON a (v);\n")
    with pytest.raises(migrations.MigrationError, match="IF NOT EXISTS or IF EXISTS"):
        migrations.load(tmp_path)
    _write(tmp_path, "0001_a.sql", "-- normreg: no transaction\n-- nothing\n")
    with pytest.raises(migrations.MigrationError, match="holds no statement"):
        migrations.load(tmp_path)
    _write(
        tmp_path,
        "0001_a.sql",
        "-- normreg: no transaction\n"
        "DROP FUNCTION IF EXISTS f; CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n",
    )
    with pytest.raises(migrations.MigrationError, match=r"cannot hold \$\$"):
        migrations.load(tmp_path)
    # The marker only counts on the first line: anywhere else, the file runs in a transaction as before.
    _write(tmp_path, "0001_a.sql", "CREATE TABLE a (v int);\n-- normreg: no transaction\n")
    (loaded,) = migrations.load(tmp_path)
    assert loaded.in_transaction
