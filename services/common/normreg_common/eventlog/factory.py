"""Chooses the event log adapter from settings."""

from __future__ import annotations

from normreg_common.eventlog.port import EventLog
from normreg_common.settings import Settings


def event_log_from_settings(settings: Settings, client_id: str) -> EventLog:
    if settings.kafka_bootstrap:
        from normreg_common.eventlog.kafka_log import KafkaEventLog

        return KafkaEventLog(
            settings.kafka_bootstrap,
            client_id=client_id,
            topic_prefix=settings.kafka_topic_prefix,
            security=settings.kafka_security(),
        )
    from normreg_common.eventlog.sqlite_log import SqliteEventLog

    return SqliteEventLog(settings.event_log_path)
