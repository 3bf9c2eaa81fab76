"""The event log on a real Kafka broker over TLS, and over TLS with SCRAM: the whole event log
contract passes; a client that does not trust the broker's CA, a wrong password or plaintext on a
TLS port get nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from normreg_common.eventlog.kafka_log import KafkaEventLog
from normreg_common.eventlog.kafka_security import KafkaSecurity
from normreg_common.eventlog.port import EventLog, Record
from normreg_common.settings import Settings

from tests.common.test_eventlog_contract import EventLogContract, Positions, collect
from tests.infra_servers import KafkaTls

pytestmark = pytest.mark.kafka


def scram(kafka_tls: KafkaTls, **overrides: Any) -> KafkaSecurity:
    values: dict[str, Any] = {
        "protocol": "SASL_SSL",
        "ca_file": kafka_tls.ca_file,
        "sasl_mechanism": kafka_tls.mechanism,
        "username": kafka_tls.username,
        "password": kafka_tls.password,
    }
    return KafkaSecurity(**{**values, **overrides})


class TestKafkaOverTlsWithScram(EventLogContract):
    @pytest.fixture
    async def log(self, tmp_path: Path, kafka_tls: KafkaTls) -> AsyncIterator[EventLog]:
        log = KafkaEventLog(
            kafka_tls.sasl_ssl_bootstrap, client_id="contract-sasl-ssl", partitions=3, security=scram(kafka_tls)
        )
        await log.start()
        yield log
        await log.close()

    @pytest.fixture
    def prefixed(self, kafka_tls: KafkaTls) -> Callable[[str], EventLog]:
        return lambda prefix: KafkaEventLog(
            kafka_tls.sasl_ssl_bootstrap,
            client_id="prefix-sasl-ssl",
            partitions=1,
            security=scram(kafka_tls),
            topic_prefix=prefix,
        )


async def round_trip(bootstrap: str, security: KafkaSecurity) -> list[bytes]:
    log = KafkaEventLog(bootstrap, client_id="tls-test", partitions=1, security=security)
    topic = f"tls.{uuid.uuid4().hex[:10]}"
    await log.start()
    try:
        await log.ensure_topics([topic])
        await log.publish([Record(topic, "k", b"over tls")])
        consumer = log.consumer([topic], f"g-{uuid.uuid4().hex[:8]}", Positions().load)
        await consumer.start()
        try:
            return [d.value for d in await collect(consumer, 1)]
        finally:
            await consumer.close()
    finally:
        await log.close()


async def test_the_event_log_works_over_tls_with_the_private_ca(kafka_tls: KafkaTls) -> None:
    security = KafkaSecurity(protocol="SSL", ca_file=kafka_tls.ca_file)
    assert await round_trip(kafka_tls.ssl_bootstrap, security) == [b"over tls"]


async def test_settings_give_the_services_the_same_security(kafka_tls: KafkaTls) -> None:
    settings = Settings(
        kafka_bootstrap=kafka_tls.sasl_ssl_bootstrap,
        kafka_security_protocol="SASL_SSL",
        tls_ca_file=str(kafka_tls.ca_file),  # the private CA, shared with our own ports
        kafka_sasl_mechanism=kafka_tls.mechanism,  # type: ignore[arg-type]
        kafka_sasl_username=kafka_tls.username,
        kafka_sasl_password=kafka_tls.password,
    )
    assert await round_trip(settings.kafka_bootstrap, settings.kafka_security()) == [b"over tls"]


async def test_a_client_that_does_not_trust_the_brokers_ca_is_refused(kafka_tls: KafkaTls) -> None:
    log = KafkaEventLog(kafka_tls.ssl_bootstrap, client_id="tls-no-ca", security=KafkaSecurity(protocol="SSL"))
    with pytest.raises(Exception, match=r"(?i)unable to bootstrap|certificate|ssl"):
        await log.start()
    await log.close()


async def test_a_wrong_scram_password_is_refused(kafka_tls: KafkaTls) -> None:
    log = KafkaEventLog(
        kafka_tls.sasl_ssl_bootstrap, client_id="tls-bad-password", security=scram(kafka_tls, password="not-it")
    )
    with pytest.raises(Exception, match=r"(?i)authentication|sasl|unable to bootstrap"):
        await log.start()
    await log.close()


async def test_plaintext_is_not_spoken_on_the_tls_port(kafka_tls: KafkaTls) -> None:
    log = KafkaEventLog(kafka_tls.ssl_bootstrap, client_id="tls-plaintext")
    with pytest.raises(Exception, match=r"(?i)unable to bootstrap|connect|timeout"):
        await log.start()
    await log.close()
