"""`normreg dead-letters list|retry` against the registry's consumer and the filing service's peer consumers."""

from __future__ import annotations

from pathlib import Path

from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, REVIEWS_TOPIC
from normreg_registry.domain.lifecycle import Kind

from tests.cli.conftest import Cli, cli_for
from tests.filing.test_filing_review_service import REVIEWER
from tests.filing.test_subordinate_streams import CHIFENG, PROVINCE_OF_TWO_CITIES, WUHAI, signed
from tests.harness import System
from tests.registry.test_domain_lifecycle import at

ADMIN = "admin:root@市政府"


async def test_dead_letters_are_listed_and_retried_through_the_cli(registry: System, cli: Cli) -> None:
    await registry.event_log.publish([Record(REVIEWS_TOPIC, "documents/x", b"not json")])
    await registry.pump()
    listed = await cli.ok("--as", ADMIN, "dead-letters", "list", "--service", "registry")
    lines = listed.out.splitlines()
    assert lines[0].split()[:6] == ["service", "consumer", "dead", "letter", "stage", "attempts"]
    assert lines[2].split()[:6] == [
        "registry",
        "registry",
        "deadLetters/normreg.reviews:0:0",
        "decode",
        "1",
        "documents/x",
    ]
    as_json = (await cli.ok("--as", ADMIN, "--json", "dead-letters", "list", "--service", "registry")).json()
    assert [d["name"] for d in as_json["dead_letters"]] == ["deadLetters/normreg.reviews:0:0"]
    again = await cli("--as", ADMIN, "dead-letters", "retry", "--service", "registry", "normreg.reviews:0:0")
    assert again.code == 1 and "failed again" in again.out
    listed = await cli.ok("--as", ADMIN, "dead-letters", "list", "--service", "registry")
    assert listed.out.splitlines()[2].split()[4] == "2"


async def test_the_filing_services_dead_letters_name_the_peer_and_nothing_of_them_is_applied(tmp_path: Path) -> None:
    """A peer's stream carries a forged promulgation (signed with another city's key) and a record no
    consumer can read: both are listed for the filing service with their reasons and the peer's
    consumer, a retry leaves them set aside, and only the signed document reached the province."""
    province = System(
        tmp_path,
        FakeClock(at(12)),
        services=("filing",),
        settings=PROVINCE_OF_TWO_CITIES,
    )
    await province.start()
    chifeng = SqliteEventLog(tmp_path / "eventlog.db", topic_prefix="chifeng.")
    await chifeng.start()
    try:
        await chifeng.publish(signed(Kind.NORMATIVE_DOCUMENT, "forged", WUHAI, "chifeng", "赤峰市人民政府"))
        await chifeng.publish([Record(DOCUMENTS_TOPIC, "documents/junk", b"not json")])
        await chifeng.publish(signed(Kind.NORMATIVE_DOCUMENT, "real", CHIFENG, "chifeng", "赤峰市人民政府"))
        await province.pump()
        cli = cli_for(province, tmp_path / "cli")
        letters = (await cli.ok("--as", ADMIN, "--json", "dead-letters", "list", "--service", "filing")).json()
        by_key = {d["key"]: d for d in letters["dead_letters"]}
        assert set(by_key) == {"documents/forged", "documents/junk"}
        assert {d["consumer"] for d in letters["dead_letters"]} == {"filing:chifeng"}
        assert all(d["topic"] == "chifeng.normreg.documents" for d in letters["dead_letters"])
        assert "BAD_SIGNATURE" in by_key["documents/forged"]["error"]
        assert by_key["documents/junk"]["stage"] == "decode"
        table = await cli.ok("--as", ADMIN, "dead-letters", "list", "--service", "filing")
        assert table.out.splitlines()[0].split()[:3] == ["service", "consumer", "dead"]
        assert all(line.split()[:2] == ["filing", "filing:chifeng"] for line in table.out.splitlines()[2:])
        # Nothing of either was applied: the province saw the signed document only.
        missing = await province.apps["filing"].service.missing(REVIEWER)
        assert [m.promulgation.document for m in missing] == ["documents/real/versions/1"]
        # Still forged on a retry: it stays set aside, one attempt more, and is still not applied.
        forged = by_key["documents/forged"]["name"]
        again = await cli("--as", ADMIN, "dead-letters", "retry", "--service", "filing", forged)
        assert again.code == 1 and "BAD_SIGNATURE" in again.out
        after = (await cli.ok("--as", ADMIN, "--json", "dead-letters", "list", "--service", "filing")).json()
        kept = {d["name"]: d for d in after["dead_letters"]}
        assert kept[forged]["attempts"] == 2 and len(kept) == 2
        missing = await province.apps["filing"].service.missing(REVIEWER)
        assert [m.promulgation.document for m in missing] == ["documents/real/versions/1"]
        # Administrators only, as on every service.
        refused = await cli("--as", "reviewer:wu@内蒙古自治区司法厅", "dead-letters", "list", "--service", "filing")
        assert refused.code == 1 and "ROLE_NOT_ALLOWED" in refused.err
    finally:
        await chifeng.close()
        await province.stop()
