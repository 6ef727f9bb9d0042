"""Log lines as text for a terminal or as one JSON object each, for a log pipeline."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import datetime, timezone
from typing import Any, Mapping


class Fields(dict):
    """A log message that is also data: a JSON log merges it into the line's object, a text log
    shows it as a JSON line (what the audit trail has always been)."""

    def __str__(self) -> str:
        return json.dumps(self, default=str)


class JsonFormatter(logging.Formatter):
    """Every record one JSON object on one line: `time`, `level`, `logger`, then the message's
    fields (or `message`), and a traceback as the string `exception`, newlines escaped."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if isinstance(record.msg, Mapping) and not record.args:
            line.update(record.msg)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def json_line(level: int, logger: str, message: str) -> str:
    """One line as JsonFormatter writes it, for what is said outside logging (a CLI failure)."""
    record = logging.makeLogRecord({"name": logger, "levelno": level, "levelname": logging.getLevelName(level), "msg": message})
    return JsonFormatter().format(record)


def configure(level: str, log_format: str) -> None:
    """The root handler on stderr in the chosen format. Like logging.basicConfig, it leaves a
    root logger that already has handlers alone (a host application's, or pytest's).

    In JSON, warnings and uncaught exceptions (of any thread) go through logging too, so no
    bare traceback breaks the stream of objects."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    if log_format == "json":
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
        threading.excepthook = lambda hook: _log_uncaught(hook.exc_type, hook.exc_value, hook.exc_traceback)


def _log_uncaught(exc_type, exc_value, exc_traceback) -> None:  # type: ignore[no-untyped-def]
    logging.getLogger("esauth").critical("uncaught %s", exc_type.__name__, exc_info=(exc_type, exc_value, exc_traceback))
