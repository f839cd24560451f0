"""Logging: one JSON object a line by default (structured logs), or plain text.

No log line carries a destination's secret: the HTTP client's request logging is off (see
:func:`configure`) and the delivery engine logs failures masked by :mod:`headwater.destinations`'
redactor.

>>> configure(level="info", form="json")
>>> logging.getLogger("headwater").warning("commit failed", extra={"requests": 3})
{"time": "2026-11-23T10:00:00.000Z", "level": "warning", "logger": "headwater", ...}
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

__all__ = ["LogFormat", "configure"]

LogFormat = Literal["json", "text"]

# Attributes every LogRecord has; anything else came in through ``extra=`` and is kept
# (except uvicorn's terminal-coloured copy of the message).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "color_message",
}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry, enc_hook=str).decode()


def configure(*, level: str, form: LogFormat) -> None:
    """Route every logger (uvicorn's too) through one handler on stderr."""
    handler = logging.StreamHandler()
    if form == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The HTTP client logs each request's full URL (at info) and its traffic (at debug): a
    # destination's URL can be its credential (Slack) or carry one (GA4's api_secret), so its
    # own logging stays off at every level. Deliveries are reported by the engine, masked.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
