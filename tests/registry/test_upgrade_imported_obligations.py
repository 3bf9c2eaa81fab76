"""A registry database written while imported versions still owed a filing: opened by today's code,
the documents holding such an obligation are read once by the scheduler and keep only what they owe.
An imported version owes nothing the registry knows of; a version promulgated here before
obligations were kept per recipient still owes its one filing."""

from __future__ import annotations

import datetime as dt
import sqlite3

from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg_common.clock import FakeClock

from tests.harness import System, one_version
from tests.registry.stored import reopened_as_stored_before


async def _imported(system: System, request_id: str, title: str) -> str:
    registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
    today = system.clock.now().date()
    doc = await registrar.ImportDocument(
        one_version(
            request_id, pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT, "赤峰市人民政府", title, pb.VERSION_STATE_IN_FORCE, today
        )
    )
    return str(doc.name)


async def test_an_imported_versions_old_obligation_is_dropped_and_a_legacy_one_kept(
    system: System, clock: FakeClock
) -> None:
    imported = await _imported(system, "imp-1", "赤峰市测试管理办法甲")
    legacy = await _imported(system, "imp-2", "赤峰市测试管理办法乙")
    # The second as a version promulgated here before obligations were kept per recipient.
    await reopened_as_stored_before(system, [legacy])
    service = system.apps["registry"].service
    await service.run_scheduler()
    due = (clock.now().date() + dt.timedelta(days=30)).isoformat()
    # The first as stored before this release: its obligation to a recipient not recorded, its clock
    # asleep until then, and the upgrade not yet run.
    path = system.settings.data_dir / "registry.db"
    with sqlite3.connect(path) as conn:
        doc_id = imported.removeprefix("documents/")
        conn.execute("INSERT INTO unfiled (document, version, recipient, due) VALUES (?, 1, '', ?)", (doc_id, due))
        conn.execute("UPDATE clock SET wake_on = '2099-01-01' WHERE document = ?", (doc_id,))
        conn.execute("DELETE FROM upgrades")

    async def listed() -> list[str]:
        registrar = system.stub("registry", system.token("reg", "registrar", org="政府办"))
        page = await registrar.ListDueFilings(rpb.ListDueFilingsRequest(within_days=60))
        return sorted(f.document.rsplit("/versions/", 1)[0] for f in page.filings)

    assert await listed() == sorted([imported, legacy])
    await reopened_as_stored_before(system, [])  # opened by today's code
    await system.apps["registry"].service.run_scheduler()
    assert await listed() == [legacy]
    # Once: a later open wakes nothing again.
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM upgrades").fetchall() == [("imported_owe_nothing",)]
