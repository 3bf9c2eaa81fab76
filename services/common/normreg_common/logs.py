"""Service logs: the plain format by default, or one JSON object per line (NORMREG_LOG_FORMAT=json)
carrying the trace and span ids of the request or event being handled, for log stores that join
logs to traces."""

from __future__ import annotations

import datetime as dt
import json
import logging

from opentelemetry import trace

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class TraceContextFilter(logging.Filter):
    """Stamps each record with the current trace and span ids, where the record is made (the
    formatter may run later, elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("trace_id", "span_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(handler: logging.Handler, *, service: str, fmt: str) -> None:
    """Gives `handler` the chosen format; JSON lines carry trace ids."""
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
        handler.addFilter(TraceContextFilter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
