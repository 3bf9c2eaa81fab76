"""The filing service reads every peer deployment's stream on the shared log under the peer's prefix,
and only what the peer signed."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg.v1 import dead_letter_service_pb2 as dpb
from normreg.v1 import dead_letter_service_pb2_grpc as dgrpc
from normreg_common.clock import FakeClock
from normreg_common.eventlog.port import Record
from normreg_common.eventlog.sqlite_log import SqliteEventLog
from normreg_common.events import DOCUMENTS_TOPIC, CloudEvent
from normreg_common.federation import public_key_text, sign
from normreg_common.settings import Settings
from normreg_common.sqlite import Database
from normreg_filing.adapters.sqlite_store import SCHEMA, SqliteFilingStore
from normreg_filing.application.service import FilingReviewService
from normreg_filing.entrypoints.subordinate_events import subordinate_consumers
from normreg_registry.application.events import to_records
from normreg_registry.domain.lifecycle import Kind

from tests.filing.test_filing_review_service import PROVINCE_KEY, REVIEWER, city_document
from tests.harness import Stub, System
from tests.registry.test_domain_lifecycle import at

CHIFENG = Ed25519PrivateKey.generate()
WUHAI = Ed25519PrivateKey.generate()
# The province of the federation tests, reading the streams of Chifeng and Wuhai with their keys.
PROVINCE_OF_TWO_CITIES = {
    "profile": "neimenggu",
    "federation_peers": "chifeng=chifeng.,wuhai=wuhai.",
    "federation_keys": f"chifeng={public_key_text(CHIFENG)},wuhai={public_key_text(WUHAI)}",
}


def signed(kind: Kind, id: str, key: Ed25519PrivateKey, jurisdiction: str, issuing_body: str) -> list[Record]:
    doc = city_document(id, kind, issuing_body)
    return [
        Record(r.topic, r.key, sign(CloudEvent.from_bytes(r.value), jurisdiction, key).to_bytes())
        for _, r in to_records(doc, doc.pop_changes())
    ]


async def test_the_province_reads_each_citys_stream_under_its_prefix_and_believes_only_its_key(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "eventlog.db"
    settings = Settings(
        data_dir=tmp_path / "neimenggu",
        profile="neimenggu",
        event_log_file=str(shared),
        topic_prefix="neimenggu.",
        federation_peers="chifeng=chifeng.,wuhai=wuhai.,neimenggu=neimenggu.",
        federation_keys=f"chifeng={public_key_text(CHIFENG)},wuhai={public_key_text(WUHAI)}",
    )
    profile = settings.jurisdiction_profile()
    (tmp_path / "neimenggu").mkdir()
    db = Database(tmp_path / "neimenggu" / "filing.db", SCHEMA)
    await db.open()
    chifeng, wuhai = SqliteEventLog(shared, topic_prefix="chifeng."), SqliteEventLog(shared, topic_prefix="wuhai.")
    await chifeng.start()
    await wuhai.start()
    try:
        service = FilingReviewService(SqliteFilingStore(db), FakeClock(at(12)), profile, key=PROVINCE_KEY)
        consumers = subordinate_consumers(settings, service, db, profile)
        # Its own stream is not among them.
        assert [runner.name for _, runner in consumers] == ["filing:chifeng", "filing:wuhai"]
        await chifeng.publish(signed(Kind.NORMATIVE_DOCUMENT, "nd1", CHIFENG, "chifeng", "赤峰市人民政府"))
        # A rule of any city body goes to both of the province's bodies. A record on wuhai's stream
        # signed with chifeng's key claims wuhai in vain.
        await wuhai.publish(signed(Kind.GOVERNMENT_RULE, "r2", CHIFENG, "wuhai", "乌海市人民政府"))
        await wuhai.publish(signed(Kind.GOVERNMENT_RULE, "r3", WUHAI, "wuhai", "乌海市人民政府"))
        for _, runner in consumers:
            await runner.start()
            await runner.drain()
        missing = await service.missing(REVIEWER)
        assert {(m.promulgation.sender, m.promulgation.document) for m in missing} == {
            ("chifeng", "documents/nd1/versions/1"),
            ("wuhai", "documents/r3/versions/1"),
        }
        wuhai_handler = consumers[1][0]
        letters = await wuhai_handler.dead_letters.list(100)
        assert letters and all("BAD_SIGNATURE" in letter.error for letter in letters)
        assert {letter.key for letter in letters} == {"documents/r2"}
        # Named by the stream they came from, so each subordinate's are told apart.
        assert {letter.topic for letter in letters} == {"wuhai.normreg.documents"}
        for _, runner in consumers:
            await runner.close()
    finally:
        await chifeng.close()
        await wuhai.close()
        await db.close()


def test_a_peer_without_a_known_key_is_refused_at_start(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, profile="neimenggu", federation_peers="chifeng=chifeng.")
    profile = settings.jurisdiction_profile()
    service = FilingReviewService(
        SqliteFilingStore(Database(tmp_path / "f.db", SCHEMA)), FakeClock(at(1)), profile, key=PROVINCE_KEY
    )
    with pytest.raises(ValueError, match="NORMREG_FEDERATION_KEYS"):
        subordinate_consumers(settings, service, Database(tmp_path / "f.db", SCHEMA), profile)


@pytest.mark.parametrize("bad", ["chifeng", "=x.", "chifeng=a.,chifeng=b."])
def test_a_malformed_peer_list_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Settings(federation_peers=bad)


async def test_an_administrator_lists_and_retries_the_filing_services_dead_letters_per_stream(tmp_path: Path) -> None:
    from normreg_filing.bootstrap import create_app

    from tests.cli.conftest import Cli
    from tests.conftest import TEST_KEY

    shared = tmp_path / "eventlog.db"
    settings = Settings(
        data_dir=tmp_path / "neimenggu",
        profile="neimenggu",
        jwt_key=TEST_KEY,
        filing_addr="127.0.0.1:0",
        event_log_file=str(shared),
        topic_prefix="neimenggu.",
        federation_peers="chifeng=chifeng.,wuhai=wuhai.",
        federation_keys=f"chifeng={public_key_text(CHIFENG)},wuhai={public_key_text(WUHAI)}",
    )
    chifeng = SqliteEventLog(shared, topic_prefix="chifeng.")
    await chifeng.start()
    app = await create_app(settings, clock=FakeClock(at(12)), background=False)
    await app.start()
    try:
        # A record on chifeng's stream signed by wuhai: set aside, named as chifeng's.
        await chifeng.publish(signed(Kind.GOVERNMENT_RULE, "r9", WUHAI, "chifeng", "赤峰市人民政府"))
        await app.sync()
        cli = Cli(tmp_path / "cli", {"filing": f"127.0.0.1:{app.port}"})
        listed = (await cli.ok("--as", "admin:root", "--json", "dead-letters", "list", "--service", "filing")).json()
        letters = listed["dead_letters"]
        assert letters and {d["topic"] for d in letters} == {"chifeng.normreg.documents"}
        assert {d["consumer"] for d in letters} == {"filing:chifeng"}
        assert all("BAD_SIGNATURE" in d["error"] for d in letters)
        # Retried, it is still not chifeng's: it stays set aside, nothing applied.
        first = letters[0]["name"]
        again = await cli("--as", "admin:root", "dead-letters", "retry", "--service", "filing", first)
        assert again.code == 1 and "BAD_SIGNATURE" in again.out
        assert await app.service.missing(REVIEWER) == []
    finally:
        await app.stop(0)
        await chifeng.close()


async def test_dead_letters_of_every_peer_page_together_and_retry_on_the_peer_that_set_them_aside(
    tmp_path: Path,
) -> None:
    province = System(
        tmp_path,
        FakeClock(at(12)),
        services=("filing",),
        settings=PROVINCE_OF_TWO_CITIES,
    )
    await province.start()
    chifeng, wuhai = (SqliteEventLog(tmp_path / "eventlog.db", topic_prefix=p) for p in ("chifeng.", "wuhai."))
    await chifeng.start()
    await wuhai.start()
    try:
        # The same position on each peer's stream: two records, two dead letters of their own.
        await chifeng.publish([Record(DOCUMENTS_TOPIC, "documents/c1", b"{"), Record(DOCUMENTS_TOPIC, "c2", b"[")])
        await wuhai.publish([Record(DOCUMENTS_TOPIC, "documents/w1", b"{")])
        await province.pump()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{province.apps['filing'].port}")
        stub = Stub(dgrpc.DeadLetterServiceStub(channel), province.token("root", "admin", org="内蒙古自治区司法厅"))
        whole = (await stub.ListDeadLetters(dpb.ListDeadLettersRequest())).dead_letters
        assert [(d.consumer, d.name, d.key) for d in whole] == [
            ("filing:chifeng", "deadLetters/chifeng.normreg.documents:0:0", "documents/c1"),
            ("filing:chifeng", "deadLetters/chifeng.normreg.documents:0:1", "c2"),
            ("filing:wuhai", "deadLetters/wuhai.normreg.documents:0:0", "documents/w1"),
        ]
        paged, token = [], ""
        while True:
            page = await stub.ListDeadLetters(dpb.ListDeadLettersRequest(page_size=1, page_token=token))
            assert len(page.dead_letters) == 1
            paged.extend(page.dead_letters)
            token = page.next_page_token
            if not token:
                break
        assert paged == list(whole)
        again = await stub.RetryDeadLetter(dpb.RetryDeadLetterRequest(name=whole[2].name))
        assert not again.applied and again.dead_letter.consumer == "filing:wuhai"
        after = (await stub.ListDeadLetters(dpb.ListDeadLettersRequest())).dead_letters
        assert [d.attempts for d in after] == [1, 1, 2]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.RetryDeadLetter(dpb.RetryDeadLetterRequest(name="deadLetters/normreg.documents:0:0"))
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        await channel.close()
    finally:
        await chifeng.close()
        await wuhai.close()
        await province.stop()
