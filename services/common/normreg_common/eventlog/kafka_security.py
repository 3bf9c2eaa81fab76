"""How our Kafka clients authenticate the brokers and themselves: TLS with a private CA, a client
certificate, SASL (PLAIN or SCRAM). One value handed to every producer, consumer and admin client."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: Protocol = "PLAINTEXT"
    # The brokers' CA; None = the system's trust store.
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    sasl_mechanism: Mechanism = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.protocol.startswith("SASL") and not (self.username and self.password):
            raise ValueError(f"Kafka {self.protocol} needs NORMREG_KAFKA_SASL_USERNAME and _PASSWORD")
        if self.protocol == "SASL_PLAINTEXT" and self.sasl_mechanism == "PLAIN":
            # A password in clear on the wire; SCRAM at least never sends it.
            raise ValueError("Kafka SASL PLAIN without TLS sends the password in clear: use SASL_SSL")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            from aiokafka.helpers import create_ssl_context

            # Checks the broker's certificate and host name against the CA.
            options["ssl_context"] = create_ssl_context(
                cafile=str(self.ca_file) if self.ca_file else None,
                certfile=str(self.cert_file) if self.cert_file else None,
                keyfile=str(self.key_file) if self.key_file else None,
            )
        if self.protocol.startswith("SASL"):
            # aiokafka takes the SCRAM credentials under the PLAIN names too.
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.username,
                sasl_plain_password=self.password,
            )
        return options


PLAINTEXT = KafkaSecurity()
