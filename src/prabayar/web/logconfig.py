"""Logging for ``prabayar serve``: every line carries the request id; plain text or JSON lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from prabayar.web.context import LOG_FORMAT


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, request id, message,
    the process id (several workers share a log) and the exception text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def log_config(level: str = "INFO", *, fmt: Literal["plain", "json"] = "plain") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document for uvicorn and prabayar."""
    formatter: dict[str, Any] = (
        {"()": "prabayar.web.logconfig.JsonFormatter"} if fmt == "json" else {"format": LOG_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "prabayar.web.context.RequestIdFilter"}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["console"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            # prabayar.web.access logs each request with its id; uvicorn's own line would not.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "prabayar": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
