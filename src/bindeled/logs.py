"""Structured application logs: one JSON object per line, with the request id of the current request.

The application log is operational, not evidence (that is the audit trail's job), and it is never a
place for personal data: records carry ids and codes, not CPR numbers, names or resource bodies. As
a last line of defence, :class:`RedactingFilter` masks anything shaped like a CPR number or a bearer
token before a record is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging", "request_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("bindeled_request_id", default=None)
"""The id of the HTTP request being handled (also sent back as ``X-Request-Id``)."""

_CPR = re.compile(r"(?<!\d)\d{6}-?\d{4}(?!\d)")
_BEARER = re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """Mask CPR-shaped numbers and tokens."""
    text = _BEARER.sub("Bearer [redacted]", text)
    text = _JWT.sub("[redacted-token]", text)
    return _CPR.sub("[redacted-cpr]", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record's message so no CPR number or token leaves the process."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as a single JSON line with time, level, logger, message and context."""

    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            out["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in self._skip and not key.startswith("_"):
                out[key] = value if isinstance(value, int | float | bool) or value is None else redact(str(value))
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO", as_json: bool = True) -> None:
    """Route all logging (ours, uvicorn's, asyncpg's) through one redacting handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
