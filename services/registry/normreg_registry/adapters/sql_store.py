"""The registry's repository operations whose SQL reads the same on SQLite and PostgreSQL: the history
chain, idempotency keys, uniform numbers, comments and campaigns. They are written with `?`
placeholders; the PostgreSQL store marks them `%s` and adds what several replicas writing at once
need (advisory locks, FOR UPDATE) through the hooks below. Rows map to records in `rows`."""

from __future__ import annotations

from typing import Any, ClassVar

from normreg_common.errors import AlreadyExists
from normreg_registry.adapters import rows
from normreg_registry.application.ports import RegistryRepository, StoredComment
from normreg_registry.domain.cleanup import Campaign
from normreg_registry.domain.history import HistoryEntry


class SqlStore(RegistryRepository):
    conn: Any
    placeholder: ClassVar[str] = "?"
    # What the driver raises when an insert meets a taken key.
    unique_violation: ClassVar[type[Exception]] = Exception
    # How a JSON body column reads as text.
    body_text: ClassVar[str] = "body"
    # Appended to reads that a write transaction must hold until commit.
    _for_update = ""

    def _run(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        return self.conn.execute(sql if self.placeholder == "?" else sql.replace("?", self.placeholder), params)

    def _lock(self, namespace: str, *parts: object) -> None:
        """Held until commit by a store whose database other writers share; SQLite has one writer."""

    def _lock_for_write(self, namespace: str, *parts: object) -> None:
        self._lock(namespace, *parts)

    # history
    def history_head(self, document: str) -> str:
        row = self._run(
            "SELECT hash FROM history WHERE document = ? ORDER BY sequence DESC LIMIT 1", (document,)
        ).fetchone()
        return rows.history_head(row)

    def history(self, document: str) -> list[HistoryEntry]:
        found = self._run(
            f"SELECT {rows.HISTORY_COLUMNS} FROM history WHERE document = ? ORDER BY sequence",  # noqa: S608
            (document,),
        ).fetchall()
        return [rows.history_entry(row) for row in found]

    def all_ids(self) -> list[str]:
        return [r[0] for r in self._run("SELECT id FROM documents ORDER BY id").fetchall()]

    # idempotency: a retry reaching another writer waits for the first attempt, then finds its result
    def remembered(self, scope: str, request_id: str) -> str | None:
        self._lock_for_write("idempotency", scope, request_id)
        row = self._run(
            "SELECT resource FROM idempotency WHERE scope = ? AND request_id = ?", (scope, request_id)
        ).fetchone()
        return None if row is None else str(row[0])

    def remember(self, scope: str, request_id: str, resource: str) -> None:
        try:
            self._run("INSERT INTO idempotency VALUES (?, ?, ?)", (scope, request_id, resource))
        except self.unique_violation:
            raise AlreadyExists("REQUEST_ID_TAKEN", f"request {request_id} was already used") from None

    # numbers: a series (prefix, year) is chosen from under a lock held until commit
    def number_holder(self, printed: str) -> str | None:
        self._lock("held_numbers", printed)
        row = self._run("SELECT document FROM held_numbers WHERE printed = ?", (printed,)).fetchone()
        return None if row is None else str(row[0])

    def highest_sequence(self, prefix: str, year: int) -> int:
        self._lock("held_numbers", prefix, year)
        row = self._run(
            "SELECT max(sequence) FROM held_numbers WHERE prefix = ? AND year = ?", (prefix, year)
        ).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def hold_number(self, printed: str, prefix: str, year: int, sequence: int, document: str) -> None:
        self._lock("held_numbers", prefix, year)
        try:
            self._run(
                "INSERT INTO held_numbers (printed, prefix, year, sequence, document) VALUES (?, ?, ?, ?, ?)",
                (printed, prefix, year, sequence, document),
            )
        except self.unique_violation:
            raise AlreadyExists(
                "UNIFORM_NUMBER_TAKEN", f"{printed} is already held; numbers are never reused"
            ) from None

    # comments
    def comment_count(self, document: str, version: int) -> int:
        row = self._run(
            "SELECT count(*) FROM comments WHERE document = ? AND version = ?", (document, version)
        ).fetchone()
        return int(row[0])

    def comments(self, document: str, after_id: int, limit: int, version: int | None = None) -> list[StoredComment]:
        of_version, params = "", [document, after_id, limit]
        if version is not None:
            of_version, params = " AND version = ?", [document, after_id, version, limit]
        found = self._run(
            f"SELECT {rows.COMMENT_COLUMNS} FROM comments "  # noqa: S608 - constants only
            f"WHERE document = ? AND id > ?{of_version} ORDER BY id LIMIT ?",
            params,
        ).fetchall()
        return [rows.comment(row) for row in found]

    def comment(self, document: str, version: int, comment_id: int) -> StoredComment | None:
        row = self._run(
            f"SELECT {rows.COMMENT_COLUMNS} FROM comments "  # noqa: S608 - constants only
            f"WHERE document = ? AND version = ? AND id = ?{self._for_update}",
            (document, version, comment_id),
        ).fetchone()
        return None if row is None else rows.comment(row)

    def reply(self, comment_id: int, reply: str) -> None:
        self._run("UPDATE comments SET reply = ? WHERE id = ?", (reply, comment_id))

    # campaigns
    def campaign(self, campaign_id: str) -> Campaign | None:
        row = self._run(
            f"SELECT {self.body_text} FROM campaigns WHERE id = ?{self._for_update}",  # noqa: S608 - constants
            (campaign_id,),
        ).fetchone()
        return None if row is None else rows.load_campaign(row[0])

    def save_campaign(self, campaign: Campaign) -> None:
        self._run(
            "INSERT INTO campaigns (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (campaign.id, rows.dump_campaign(campaign)),
        )
