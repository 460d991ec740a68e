"""The app's own log (loggers under `chat_app`): readable lines by default, or one JSON object a
line when LOG_FORMAT=json, for a log collector.

A line carries the request it belongs to (`request_id`, from the proxy's X-Request-ID or made
here) and what a call names with `extra=`: user_id, chat_id, reply_id, provider, status,
duration_ms and the like. Never message text, keys or tokens: only ids, names and numbers are
passed as fields.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

# What is known of the request being served: its id (set by api/request_ids.py) and, once found,
# its user. A dict, so what a handler learns in a worker thread is seen by the request's own line.
REQUEST: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("request", default=None)


def note_user(user_id: str) -> None:
    """The request being served is this person's (its log lines say so)."""
    known = REQUEST.get()
    if known is not None:
        known["user_id"] = user_id


def _about_request() -> dict[str, str]:
    return REQUEST.get() or {}


FIELDS = (
    "request_id",
    "user_id",
    "chat_id",
    "reply_id",
    "provider",
    "model",
    "kind",
    "status",
    "error_kind",
    "method",
    "path",
    "duration_ms",
    "first_token_ms",
    "input_tokens",
    "output_tokens",
)
_HANDLER_NAME = "chat_app"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_about_request())
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = {
            **_about_request(),
            **{f: getattr(record, f) for f in FIELDS if getattr(record, f, None) is not None},
        }
        named = " ".join(f"{name}={value}" for name, value in fields.items())
        return f"{text} [{named}]" if named else text


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is written (servers and test runners swap it)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(log_format: str, level: str) -> None:
    """Send the app's loggers to stderr in this format (idempotent: a reload replaces the handler)."""
    logger = logging.getLogger("chat_app")
    logger.handlers = [h for h in logger.handlers if h.get_name() != _HANDLER_NAME]
    handler = _Stderr()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        JsonLines() if log_format == "json" else _Text("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False  # one line per record, not a second from the root's handler
