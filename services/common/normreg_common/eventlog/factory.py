"""Chooses the event log adapter from settings."""

from __future__ import annotations

from normreg_common.eventlog.port import EventLog
from normreg_common.settings import Settings


def event_log_from_settings(settings: Settings, client_id: str, *, topic_prefix: str | None = None) -> EventLog:
    """The deployment's log; with `topic_prefix`, the same cluster or file under another deployment's
    prefix (to read a subordinate's stream)."""
    prefix = settings.topics_prefix if topic_prefix is None else topic_prefix
    if settings.kafka_bootstrap:
        from normreg_common.eventlog.kafka_log import KafkaEventLog

        return KafkaEventLog(
            settings.kafka_bootstrap,
            client_id=client_id,
            topic_prefix=prefix,
            security=settings.kafka_security(),
        )
    from normreg_common.eventlog.sqlite_log import SqliteEventLog

    return SqliteEventLog(settings.event_log_path, topic_prefix=prefix)
