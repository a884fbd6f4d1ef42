"""Logging for ``prabayar serve``: every line carries the request id."""

from __future__ import annotations

from typing import Any

from prabayar.web.context import LOG_FORMAT


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document for uvicorn and prabayar."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "prabayar.web.context.RequestIdFilter"}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
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
