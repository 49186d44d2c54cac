"""Structured logging: one JSON object per line (or plain text for a terminal).

Logs never carry a reader's address or a link token: :class:`RedactPersonalData` rewrites
every record that reaches our handler (ours, SQLAlchemy's, Celery's and uvicorn's access and
error logs) before it is formatted. Database errors carry no bound parameters at all
(``hide_parameters`` in :mod:`distributor.db.session`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from distributor.config import Settings
from distributor.domain.subscribers import without_addresses

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

# Paths whose last segment is a bearer token that opens a reader's page or acts for them.
_TOKEN_PATH = re.compile(r"(/(?:preferences|confirm|unsubscribe)/)[^\s/?#\"']+")
_TOKEN_PLACEHOLDER = "[token]"  # noqa: S105 - a placeholder, not a secret
# Loggers that may write through a handler other than ours (uvicorn's own log config).
# Celery's per-task "received" and "succeeded" lines.
_ROUTINE_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")
_REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "distributor", "sqlalchemy", "celery")


def redact(text: str) -> str:
    """``text`` without email addresses and link tokens."""
    if "@" in text:
        text = without_addresses(text)
    if "/" in text:
        text = _TOKEN_PATH.sub(r"\1" + _TOKEN_PLACEHOLDER, text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactPersonalData(logging.Filter):
    """Removes addresses and link tokens from a record's message, arguments, extra fields and
    exception text. Arguments keep their shape (uvicorn's access formatter unpacks them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            cleaned = redact(record.msg)
            if cleaned.count("%") != record.msg.count("%"):
                # A placeholder went with the address ("%s@%s"): format first, then redact.
                try:
                    cleaned = redact(record.getMessage())
                except (TypeError, ValueError):
                    cleaned = redact(str(record.msg))
                record.args = ()
            record.msg = cleaned
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(value) for key, value in record.args.items()}
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # Formatters use the text; the exception object itself still quotes the address.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with its ``extra`` fields as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(settings: Settings) -> None:
    """Send logs to stderr in the configured format and level (idempotent)."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    if settings.LOG_FORMAT == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    redactor = RedactPersonalData()
    handler.addFilter(redactor)
    root.handlers = [handler]
    root.setLevel(settings.LOG_LEVEL)
    if settings.LOG_FORMAT == "text" and settings.LOG_LEVEL != "DEBUG":
        # A person reads text logs: the embedded scheduler's ticks (a task received and done
        # every few seconds) would bury what matters. Task failures are still logged.
        for name in _ROUTINE_TASK_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    for name in _REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactPersonalData) for existing in logger.filters):
            logger.addFilter(redactor)
