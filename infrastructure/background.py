"""One background thread for work whose duration must not show in an answer's timing."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Callable

log = logging.getLogger("esauth.background")

_STOP = object()


class BackgroundWorker:
    """A single daemon thread fed by a bounded queue; tasks that raise are logged (type only)
    and the worker goes on. When the queue is full, new tasks are dropped with a warning."""

    def __init__(self, name: str, queue_size: int = 1000) -> None:
        self._name = name
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task: Callable[[], None]) -> None:
        self._start()
        try:
            self._queue.put_nowait(task)
        except queue.Full:
            log.warning("%s: queue full, a task was dropped", self._name)

    def close(self, timeout: float = 10.0) -> None:
        """Run what is queued, then stop."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(_STOP)
        thread.join(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            task = self._queue.get()
            if task is _STOP:
                return
            try:
                task()  # type: ignore[operator]
            except Exception as error:  # noqa: BLE001 - a background task must not kill the worker
                log.error("%s: a task failed with %s", self._name, type(error).__name__)
