"""JSON log lines: one object per record, structured messages merged in, tracebacks inside."""

from __future__ import annotations

import json
import logging
import sys

from entrypoints.logs import Fields, JsonFormatter
from entrypoints.http.request_log import AccessLine


def record(msg: object, *args: object, exc_info=None, name: str = "esauth") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR if exc_info else logging.INFO, __file__, 1, msg, args, exc_info)


def test_an_ordinary_record_is_one_object_with_time_level_logger_and_message() -> None:
    line = JsonFormatter().format(record("users are kept in %s", "sqlite"))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed.pop("time").endswith("+00:00")
    assert parsed == {"level": "INFO", "logger": "esauth", "message": "users are kept in sqlite"}


def test_a_traceback_is_a_string_inside_the_object_not_lines_after_it() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        line = JsonFormatter().format(record("unhandled %s", "RuntimeError", exc_info=sys.exc_info()))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "unhandled RuntimeError"
    assert parsed["exception"].startswith("Traceback (most recent call last)")
    assert "RuntimeError: boom" in parsed["exception"]


def test_structured_messages_are_merged_as_fields_and_read_as_json_or_text_elsewhere() -> None:
    audit = Fields(time="2026-01-01T12:00:00.000Z", event="login_ok", user="ab12", client="::1", request_id="r1")
    parsed = json.loads(JsonFormatter().format(record(audit, name="esauth.audit")))
    assert parsed == {"level": "INFO", "logger": "esauth.audit", **audit}, "an object, not a string inside one"
    assert json.loads(str(audit)) == audit  # a text log keeps today's JSON audit line

    access = AccessLine(method="GET", route="/v1/test", status=200, duration_ms=0.42, request_id="r2", client="::1")
    parsed = json.loads(JsonFormatter().format(record(access, name="esauth.access")))
    assert {key: parsed[key] for key in access} == access
    assert str(access) == "GET /v1/test 200 0.42ms client=::1 request_id=r2"


def test_a_lone_surrogate_in_a_message_still_makes_valid_json() -> None:
    parsed = json.loads(JsonFormatter().format(record("field %r", "\udc80")))
    assert parsed["message"] == "field '\\udc80'"


def test_in_json_warnings_and_uncaught_exceptions_of_any_thread_are_objects_too() -> None:
    """In a process of its own: configure() leaves a root logger with handlers (pytest's) alone."""
    import subprocess
    from pathlib import Path

    program = "\n".join([
        "import logging, threading, warnings",
        "from entrypoints import logs",
        "logs.configure('INFO', 'json')",
        "logging.getLogger('esauth').info('started')",
        "thread = threading.Thread(target=lambda: 1 / 0); thread.start(); thread.join()",
        "warnings.warn('careful')",
        "raise RuntimeError('top')",
    ])
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30, cwd=Path(__file__).parents[2]
    )
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["level"], line.get("message", "")[:20]) for line in lines] == [
        ("INFO", "started"),
        ("CRITICAL", "uncaught ZeroDivisio"),
        ("WARNING", lines[2]["message"][:20]),
        ("CRITICAL", "uncaught RuntimeErro"),
    ]
    assert "UserWarning: careful" in lines[2]["message"]
    assert "ZeroDivisionError: division by zero" in lines[1]["exception"]
    assert done.returncode == 1
