"""`normreg dead-letters list|retry` against the registry's consumer."""

from __future__ import annotations

from normreg_common.eventlog.port import Record
from normreg_common.events import REVIEWS_TOPIC

from tests.cli.conftest import Cli
from tests.harness import System

ADMIN = "admin:root@市政府"


async def test_dead_letters_are_listed_and_retried_through_the_cli(registry: System, cli: Cli) -> None:
    await registry.event_log.publish([Record(REVIEWS_TOPIC, "documents/x", b"not json")])
    await registry.pump()
    listed = await cli.ok("--as", ADMIN, "dead-letters", "list", "--service", "registry")
    lines = listed.out.splitlines()
    assert lines[0].split()[:5] == ["service", "dead", "letter", "stage", "attempts"]
    assert lines[2].split()[:5] == ["registry", "deadLetters/normreg.reviews:0:0", "decode", "1", "documents/x"]
    as_json = (await cli.ok("--as", ADMIN, "--json", "dead-letters", "list", "--service", "registry")).json()
    assert [d["name"] for d in as_json["dead_letters"]] == ["deadLetters/normreg.reviews:0:0"]
    again = await cli("--as", ADMIN, "dead-letters", "retry", "--service", "registry", "normreg.reviews:0:0")
    assert again.code == 1 and "failed again" in again.out
    listed = await cli.ok("--as", ADMIN, "dead-letters", "list", "--service", "registry")
    assert listed.out.splitlines()[2].split()[3] == "2"
