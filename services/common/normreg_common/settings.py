"""Configuration from the environment (NORMREG_*). Unset backends mean the embedded defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal, Self

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from normreg_common import federation
from normreg_common.auth import Authenticator, TokenCodec, load_or_create_key
from normreg_common.checkpoints import CheckpointSigner
from normreg_common.eventlog.kafka_security import KafkaSecurity
from normreg_common.files import write_new_private
from normreg_common.profile import JurisdictionProfile, get_profile
from normreg_common.tls import ClientTls, ServerTls


def _path(text: str) -> Path | None:
    return Path(text) if text else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NORMREG_", extra="ignore")

    data_dir: Path = Path("var")
    # host:port[,host:port]; empty = the embedded event log under data_dir.
    kafka_bootstrap: str = ""
    # Namespaces the topics of the event log, Kafka or embedded, e.g. "chifeng." ->
    # chifeng.normreg.documents: deployments sharing one cluster (or one embedded log file) keep
    # apart by it, and read each other's streams under the other's prefix.
    topic_prefix: str = ""
    # The older name of topic_prefix, from when only Kafka had one; used when topic_prefix is unset.
    kafka_topic_prefix: str = ""
    # The embedded event log's file; empty = data_dir/eventlog.db. Several deployments on one
    # machine may share one file (each under its own topic_prefix).
    event_log_file: str = ""
    # http://host:port; empty = the embedded index under data_dir.
    elasticsearch_url: str = ""
    # Name of the alias in front of the versioned indices ({name}-v{n}); empty = normreg-documents.
    elasticsearch_index_prefix: str = ""
    # Signing key for bearer tokens; empty = a development key kept in data_dir/dev-jwt.key.
    jwt_key: str = Field(default="", repr=False)
    # Signs the history checkpoints the registry publishes (≥ 32 characters); empty = a development
    # key in data_dir/checkpoint.key. Keep it apart from the database: whoever holds both can sign
    # a rewritten history, though never unwitness what was already witnessed.
    checkpoint_key: str = Field(default="", repr=False)
    profile: str = "chifeng"
    # This jurisdiction's Ed25519 key, base64 of the 32 raw private bytes: it signs every event that
    # crosses to another jurisdiction. Empty = a development key kept in data_dir/federation.key.
    federation_key: str = Field(default="", repr=False)
    # Other jurisdictions' public keys, `name=KEY[ KEY…],name=KEY…`, added to those the profile lists:
    # events on their streams are believed only when signed with one of them.
    federation_keys: str = ""
    # The other deployments on the shared event log and their topic prefixes, `name=prefix,…`
    # (`chifeng=chifeng.,wuhai=wuhai.`): the filing service reads their registries' streams for the
    # promulgations and filings addressed to this jurisdiction's bodies.
    federation_peers: str = ""
    registry_addr: str = "127.0.0.1:50051"
    review_addr: str = "127.0.0.1:50052"
    search_addr: str = "127.0.0.1:50053"
    # The filing review service (the recipient's side of filing).
    filing_addr: str = "127.0.0.1:50054"
    # Review suggestions a client without a token may submit per window, counted per client
    # address (the portal, which limits each of its own clients, counts as one).
    filing_suggestion_limit: int = Field(default=30, ge=1)
    filing_suggestion_window_s: float = Field(default=60.0, gt=0)
    # How many processes serve search_addr together (SO_REUSEPORT): one of them consumes the events
    # and writes the index, the others only read it. 0 = one per core this process may run on.
    search_processes: int = Field(default=1, ge=0, le=64)
    # Set by the search service for the processes it starts; not for operators:
    # "writer" consumes and writes, "reader" only reads and hands writes to search_writer_addr.
    search_role: Literal["", "writer", "reader"] = ""
    search_writer_addr: str = ""
    # Each such process's own loopback port, for the supervisor's health checks (and, the writer's,
    # for the readers).
    search_private_addr: str = ""
    # Seconds one search may run (never longer than the caller's own deadline); past it the search
    # is stopped inside the index and refused with RESOURCE_EXHAUSTED / SEARCH_TOO_LONG.
    search_time_budget_s: float = Field(default=5.0, gt=0, le=600)
    # Seconds between scheduler runs (time-driven transitions).
    scheduler_interval_s: float = 60.0
    reviewing_office: str = "司法局"
    # FULL: an acknowledged write survives power loss. NORMAL (in WAL mode) survives a crash of the
    # process but may lose the last transactions if the machine itself goes down.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # host:port of each service's Prometheus /metrics endpoint; empty = none (`make run` sets
    # 127.0.0.1:9461-9463 when unset).
    registry_metrics_addr: str = ""
    review_metrics_addr: str = ""
    search_metrics_addr: str = ""
    filing_metrics_addr: str = ""
    # Seconds between refreshes of the gauges that need a query (outbox backlog, consumer lag).
    metrics_interval_s: float = 5.0
    # OTLP/gRPC collector for traces, e.g. http://otel-collector:4317; empty = no tracing at all.
    otlp_endpoint: str = ""
    # Share of new traces kept (a caller's sampled traceparent is always followed).
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # "json": one JSON object per line with trace and span ids; "text": the plain format.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # postgresql://user:password@host:port/database; empty = SQLite files under data_dir. The registry
    # and review services then keep their data in PostgreSQL, each in its own schema, and several
    # replicas of each may run over one database.
    postgres_url: str = Field(default="", repr=False)
    # Prefix of the schema names ({prefix}registry, {prefix}review), to share one database.
    postgres_schema_prefix: str = ""
    # Connections per process for use cases (the relay and consumers take a few more).
    postgres_pool_size: int = Field(default=8, ge=1, le=100)

    # --- Transport security of our own ports (gRPC, HTTP). Unset: plaintext. ---
    # This service's certificate chain and private key (PEM); both set = every server port speaks TLS.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Mutual TLS: servers require a client certificate signed by this CA ...
    tls_client_ca_file: str = ""
    # ... and, when set, whose common name is one of these (comma-separated service identities).
    tls_allowed_clients: str = ""
    # Clients (CLI, web portal, service to service): trust this CA (a private CA); setting it turns TLS on.
    tls_ca_file: str = ""
    # Clients: TLS even without tls_ca_file, checking servers against the system's trust store.
    tls: bool = False
    # Clients: the certificate they present where servers require mutual TLS.
    tls_client_cert_file: str = ""
    tls_client_key_file: str = ""

    # --- Kafka security (aiokafka). ---
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    # CA that signed the brokers' certificates; empty = tls_ca_file, else the system's trust store.
    kafka_ssl_ca_file: str = ""
    # Client certificate, where the brokers require one (ssl.client.auth=required).
    kafka_ssl_cert_file: str = ""
    kafka_ssl_key_file: str = ""
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = Field(default="", repr=False)

    # --- Elasticsearch security (an https:// URL turns TLS on). ---
    # CA that signed the cluster's certificate; empty = tls_ca_file, else the system's trust store.
    elasticsearch_ca_file: str = ""
    # Either an API key (the base64 "id:key" form Elasticsearch returns as `encoded`) ...
    elasticsearch_api_key: str = Field(default="", repr=False)
    # ... or basic authentication.
    elasticsearch_username: str = ""
    elasticsearch_password: str = Field(default="", repr=False)

    # --- Single sign-on (OpenID Connect). Unset: HS256 tokens signed with jwt_key (development). ---
    # The provider's issuer URL; set = only RS256/ES256 tokens from this issuer are accepted.
    oidc_issuer: str = ""
    # The audience our tokens must name (the `aud` claim); required with oidc_issuer.
    oidc_audience: str = ""
    # Where roles and the organisation are found: a claim name, dotted for nested claims
    # (realm_access.roles); a list of strings or a space-separated string.
    oidc_roles_claim: str = "roles"
    # Only values with this prefix count as roles, the prefix removed (e.g. "normreg:" in a scope list).
    oidc_role_prefix: str = ""
    oidc_org_claim: str = "org"
    oidc_org_prefix: str = ""
    oidc_subject_claim: str = "sub"
    # CA that signed the provider's HTTPS certificate; empty = tls_ca_file, else the system's trust store.
    oidc_ca_file: str = ""
    # How long fetched signing keys are used before they are fetched again (seconds).
    oidc_jwks_max_age_s: float = 300.0
    # A token signed by an unknown key makes us fetch the keys again, at most this often (seconds).
    oidc_jwks_min_refresh_s: float = 10.0
    # Tolerated clock difference with the provider for exp/nbf/iat (seconds).
    oidc_leeway_s: float = 30.0

    @model_validator(mode="after")
    def _federation(self) -> Self:
        # Refused at start rather than at the first event from a jurisdiction.
        federation.parse_keys(self.federation_keys)
        federation.parse_peers(self.federation_peers)
        if self.federation_key:
            federation.private_key_from_text(self.federation_key)
        return self

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        for cert, key in (
            ("tls_cert_file", "tls_key_file"),
            ("tls_client_cert_file", "tls_client_key_file"),
            ("kafka_ssl_cert_file", "kafka_ssl_key_file"),
        ):
            if bool(getattr(self, cert)) != bool(getattr(self, key)):
                raise ValueError(f"NORMREG_{cert.upper()} and NORMREG_{key.upper()} are set together or not at all")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("NORMREG_TLS_CLIENT_CA_FILE (mutual TLS) needs NORMREG_TLS_CERT_FILE and _KEY_FILE")
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("NORMREG_OIDC_ISSUER needs NORMREG_OIDC_AUDIENCE: the aud our tokens must carry")
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"NORMREG_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                "NORMREG_KAFKA_SASL_USERNAME and NORMREG_KAFKA_SASL_PASSWORD"
            )
        if self.elasticsearch_api_key and self.elasticsearch_username:
            raise ValueError("set NORMREG_ELASTICSEARCH_API_KEY or NORMREG_ELASTICSEARCH_USERNAME, not both")
        return self

    def server_tls(self) -> ServerTls | None:
        """TLS for this service's server ports; None = plaintext."""
        if not self.tls_cert_file:
            return None
        allowed = frozenset(n.strip() for n in self.tls_allowed_clients.split(",") if n.strip())
        return ServerTls(Path(self.tls_cert_file), Path(self.tls_key_file), _path(self.tls_client_ca_file), allowed)

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            ca_file=_path(self.kafka_ssl_ca_file or self.tls_ca_file),
            cert_file=_path(self.kafka_ssl_cert_file),
            key_file=_path(self.kafka_ssl_key_file),
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password,
        )

    def elasticsearch_options(self) -> dict[str, Any]:
        """Keyword arguments for AsyncElasticsearch: the CA of an https:// cluster and the credentials."""
        options: dict[str, Any] = {}
        ca_file = self.elasticsearch_ca_file or self.tls_ca_file
        if ca_file and self.elasticsearch_url.startswith("https:"):
            options["ca_certs"] = ca_file
        if self.elasticsearch_api_key:
            options["api_key"] = self.elasticsearch_api_key
        elif self.elasticsearch_username:
            options["basic_auth"] = (self.elasticsearch_username, self.elasticsearch_password)
        return options

    def client_tls(self) -> ClientTls | None:
        """TLS for calls to our own services; None = plaintext."""
        if not (self.tls or self.tls_ca_file):
            return None
        return ClientTls(_path(self.tls_ca_file), _path(self.tls_client_cert_file), _path(self.tls_client_key_file))

    @property
    def event_log_path(self) -> Path:
        return Path(self.event_log_file) if self.event_log_file else self.data_dir / "eventlog.db"

    @property
    def topics_prefix(self) -> str:
        return self.topic_prefix or self.kafka_topic_prefix

    def metrics_addr(self, service: str) -> str:
        return str(getattr(self, f"{service}_metrics_addr"))

    def checkpoint_signer(self) -> CheckpointSigner:
        # The development key is made like the token key: random, created 0600, kept across restarts.
        key = self.checkpoint_key or load_or_create_key(self.data_dir / "checkpoint.key")
        return CheckpointSigner(key.encode())

    def federation_signer(self) -> Ed25519PrivateKey:
        if self.federation_key:
            return federation.private_key_from_text(self.federation_key)
        path = self.data_dir / "federation.key"
        if not path.exists():
            write_new_private(path, federation.private_key_text(Ed25519PrivateKey.generate()) + "\n")
        return federation.private_key_from_text(path.read_text())

    def peers(self) -> tuple[tuple[str, str], ...]:
        """(jurisdiction, topic prefix) of each other deployment on the shared log."""
        return federation.parse_peers(self.federation_peers)

    def jurisdiction_profile(self) -> JurisdictionProfile:
        """The profile named by `profile`, with the keys of `federation_keys` beside those it lists."""
        profile = get_profile(self.profile)
        extra = federation.parse_keys(self.federation_keys)
        if not extra:
            return profile
        merged = {name: list(keys) for name, keys in profile.federation_keys}
        for name, keys in extra:
            merged.setdefault(name, []).extend(k for k in keys if k not in merged.get(name, []))
        return dataclasses.replace(profile, federation_keys=tuple((n, tuple(k)) for n, k in merged.items()))

    def token_codec(self) -> TokenCodec:
        key = self.jwt_key or load_or_create_key(self.data_dir / "dev-jwt.key")
        return TokenCodec(key)

    def authenticator(self) -> Authenticator:
        """Who checks bearer tokens: the OpenID provider's keys when configured, else the development key."""
        if self.oidc_issuer:
            from normreg_common.oidc import OidcConfig, OidcVerifier

            return OidcVerifier(
                OidcConfig(
                    issuer=self.oidc_issuer,
                    audience=self.oidc_audience,
                    roles_claim=self.oidc_roles_claim,
                    role_prefix=self.oidc_role_prefix,
                    org_claim=self.oidc_org_claim,
                    org_prefix=self.oidc_org_prefix,
                    subject_claim=self.oidc_subject_claim,
                    jwks_max_age_s=self.oidc_jwks_max_age_s,
                    jwks_min_refresh_s=self.oidc_jwks_min_refresh_s,
                    leeway_s=self.oidc_leeway_s,
                ),
                ca_file=_path(self.oidc_ca_file or self.tls_ca_file),
            )
        return self.token_codec()
