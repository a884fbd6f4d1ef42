"""The request id: one per request, in the ``X-Request-ID`` header and in every log line."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("prabayar_request_id", default="-")
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # fullmatch, never "$"


def current_request_id() -> str:
    """The id of the request being handled, ``-`` outside a request."""
    return _request_id.get()


def new_request_id(offered: str | None) -> str:
    """Keep a caller's id when it is short and harmless (for tracing across systems), else mint one."""
    if offered and _ACCEPTABLE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> object:
    """Set the id for this context; returns a token for :func:`reset_request_id`."""
    return _request_id.set(request_id)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` so every format string may use ``%(request_id)s``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def install_log_filter() -> None:
    """Attach the filter to every handler of the root and uvicorn loggers (idempotent)."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "prabayar"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                handler.addFilter(RequestIdFilter())
