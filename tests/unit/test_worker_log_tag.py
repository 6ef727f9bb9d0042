"""A worker's log lines say which worker wrote them, in text and in field-mapping messages."""

import logging
import os

from entrypoints.server.supervisor import WorkerLogTag


def record(msg, *args) -> logging.LogRecord:
    return logging.LogRecord("esauth", logging.INFO, __file__, 1, msg, args or None, None)


def test_a_text_message_starts_with_the_worker_and_keeps_its_arguments() -> None:
    line = record("serving on %s:%d", "127.0.0.1", 8000)
    assert WorkerLogTag(2).filter(line)
    assert line.getMessage() == f"worker=2 pid={os.getpid()} serving on 127.0.0.1:8000"


def test_a_mapping_message_gets_the_worker_as_fields_of_the_same_type() -> None:
    class Fields(dict):
        pass

    line = record(Fields(event="login_failed"))
    WorkerLogTag(1).filter(line)
    assert type(line.msg) is Fields and line.msg == {"worker": 1, "pid": os.getpid(), "event": "login_failed"}


def test_a_line_seen_by_several_handlers_is_tagged_once() -> None:
    line = record("hello")
    WorkerLogTag(1).filter(line)
    WorkerLogTag(1).filter(line)
    assert line.getMessage() == f"worker=1 pid={os.getpid()} hello"
