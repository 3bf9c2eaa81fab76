"""Configuration from the environment (NORMREG_*). Unset backends mean the embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from normreg_common.auth import TokenCodec, load_or_create_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NORMREG_", extra="ignore")

    data_dir: Path = Path("var")
    # host:port[,host:port]; empty = the embedded event log under data_dir.
    kafka_bootstrap: str = ""
    # Namespaces the Kafka topics, e.g. "chifeng." -> chifeng.normreg.documents.
    kafka_topic_prefix: str = ""
    # http://host:port; empty = the embedded index under data_dir.
    elasticsearch_url: str = ""
    # Name of the alias in front of the versioned indices ({name}-v{n}); empty = normreg-documents.
    elasticsearch_index_prefix: str = ""
    # Signing key for bearer tokens; empty = a development key kept in data_dir/dev-jwt.key.
    jwt_key: str = Field(default="", repr=False)
    profile: str = "chifeng"
    registry_addr: str = "127.0.0.1:50051"
    review_addr: str = "127.0.0.1:50052"
    search_addr: str = "127.0.0.1:50053"
    # Seconds between scheduler runs (time-driven transitions).
    scheduler_interval_s: float = 60.0
    reviewing_office: str = "司法局"
    # FULL: an acknowledged write survives power loss. NORMAL (in WAL mode) survives a crash of the
    # process but may lose the last transactions if the machine itself goes down.
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"

    @property
    def event_log_path(self) -> Path:
        return self.data_dir / "eventlog.db"

    def token_codec(self) -> TokenCodec:
        key = self.jwt_key or load_or_create_key(self.data_dir / "dev-jwt.key")
        return TokenCodec(key)
