"""The background worker: runs tasks in order off the caller's thread, survives failures, drains on close."""

import logging
import threading

from infrastructure.background import BackgroundWorker


def test_tasks_run_on_another_thread_in_order_and_close_drains_them():
    worker = BackgroundWorker("test-worker")
    done: list[tuple[int, str]] = []
    gate = threading.Event()
    worker.submit(lambda: gate.wait(5))
    for n in range(3):
        worker.submit(lambda n=n: done.append((n, threading.current_thread().name)))
    assert done == []  # the caller did not wait for them
    gate.set()
    worker.close()
    assert done == [(0, "test-worker"), (1, "test-worker"), (2, "test-worker")]
    assert not [t for t in threading.enumerate() if t.name == "test-worker"]


def test_a_failing_task_is_logged_by_type_and_the_next_one_runs(caplog):
    worker = BackgroundWorker("test-worker")
    done = []

    def fail():
        raise ValueError("secret-token-123")

    worker.submit(fail)
    worker.submit(lambda: done.append(1))
    with caplog.at_level(logging.ERROR, logger="esauth.background"):
        worker.close()
    assert done == [1]
    assert "ValueError" in caplog.text and "secret-token-123" not in caplog.text


def test_a_full_queue_drops_with_a_warning(caplog):
    worker = BackgroundWorker("test-worker", queue_size=1)
    gate = threading.Event()
    started = threading.Event()
    worker.submit(lambda: (started.set(), gate.wait(5)))
    assert started.wait(5)
    worker.submit(lambda: None)  # fills the queue
    with caplog.at_level(logging.WARNING, logger="esauth.background"):
        worker.submit(lambda: None)
    assert "queue full" in caplog.text
    gate.set()
    worker.close()
