"""The event log port and its adapters: an embedded SQLite log and Apache Kafka."""

from normreg_common.eventlog.port import Consumer, Delivery, EventLog, PositionLoader, Record

__all__ = ["Consumer", "Delivery", "EventLog", "PositionLoader", "Record"]
