"""Documents as a registry stored them before today's code: edited in its SQLite database, then the
registry reopened on it, as after an upgrade."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from normreg_common.packing import unpack_text
from normreg_registry.bootstrap import create_app

from tests.harness import System


async def reopened_as_stored_before(
    system: System, names: list[str], edit: Callable[[str, dict[str, Any]], None] | None = None
) -> None:
    """Marks the first version of each document `names` as promulgated here (adopted at deliberation)
    before obligations were kept per recipient, with `edit` applied to its stored form as well, and
    without the schedule and obligation rows kept since; then reopens the registry, which schedules
    such documents as it opens. An imported document becomes one such version owing one filing to a
    recipient not recorded, without going through drafting, review and deliberation."""
    conn = sqlite3.connect(system.settings.data_dir / "registry.db")
    try:
        for name in names:
            doc_id = name.removeprefix("documents/")
            (body,) = conn.execute("SELECT body FROM documents WHERE id = ?", (doc_id,)).fetchone()
            stored = json.loads(unpack_text(body))
            stored["versions"][0]["deliberated"] = True
            if edit is not None:
                edit(name, stored)
            conn.execute("UPDATE documents SET body = ? WHERE id = ?", (json.dumps(stored, ensure_ascii=False), doc_id))
            conn.execute("DELETE FROM clock WHERE document = ?", (doc_id,))
            conn.execute("DELETE FROM unfiled WHERE document = ?", (doc_id,))
        conn.commit()
    finally:
        conn.close()
    await system.apps["registry"].stop(0)
    system.apps["registry"] = await create_app(
        system.settings, clock=system.clock, event_log=system.event_log, background=False, codec=system.codec
    )
    await system.apps["registry"].start()
