"""Store calls seen from outside the adapters: timed for the metrics, and outages logged once."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from domain.errors import StoreUnavailable
from ports.metrics import Metrics

log = logging.getLogger("esauth.store")

OPERATIONS = ("get", "add", "update", "move", "delete", "search", "changes_since", "check", "put", "purge")
READS = frozenset({"get", "search", "changes_since"})
MAX_CAUSE_CHARS = 300


class OutageLog:
    """One line when the store stops answering (its cause, no traceback), one when it answers
    again (how long, how many requests failed); nothing per request in between.

    Reads, writes and the health check can fail apart (a full disk still reads), and threads
    can see the store differently for a moment (each holds its own connection), so an outage
    ends only when every kind of call that failed has worked again and nothing has failed for
    QUIET_S: a read that works during a write outage neither ends it nor starts another.
    """

    QUIET_S = 1.0

    def __init__(self, store: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._down = False
        self._failing: set[str] = set()
        self._since = self._last_failure = 0.0
        self._failed_requests = 0
        self._failed_calls = 0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._down

    def call_failed(self, operation: str, error: StoreUnavailable) -> None:
        now = self._clock()
        with self._lock:
            starting = not self._down
            if starting:
                self._down, self._since, self._failed_requests, self._failed_calls = True, now, 0, 0
            self._failing.add(_kind(operation))
            self._last_failure = now
            self._failed_calls += 1
        if starting:
            log.error("the %s store is not answering (%s): requests needing it get 503", self.store, _cause(error))

    def call_succeeded(self, operation: str) -> None:
        if not self._down:  # the usual case, without the lock
            return
        now = self._clock()
        with self._lock:
            self._failing.discard(_kind(operation))
            ending = self._down and not self._failing and now - self._last_failure >= self.QUIET_S
            if ending:
                self._down = False
            lasted, requests, calls = now - self._since, self._failed_requests, self._failed_calls
        if ending:
            log.warning(
                "the %s store answers again after %.1f s; %d requests failed meanwhile (%d failed store calls)",
                self.store, lasted, requests, calls,
            )

    def request_failed(self) -> None:
        """A request answered 503; counted while an outage lasts."""
        if self._down:
            with self._lock:
                self._failed_requests += 1


class ObservedStore:
    """Wraps a store adapter (users or login failures): each call of its port is timed for the
    metrics and reported to the outage log; anything else passes straight to the adapter."""

    def __init__(self, inner: Any, metrics: Metrics, outages: OutageLog) -> None:
        self.inner = inner
        for name in OPERATIONS:
            method = getattr(inner, name, None)
            if method is not None:
                setattr(self, name, _observed(name, method, metrics, outages))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _observed(name: str, method: Callable[..., Any], metrics: Metrics, outages: OutageLog) -> Callable[..., Any]:
    store = outages.store

    def call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = method(*args, **kwargs)
        except StoreUnavailable as error:
            metrics.store_call(store, name, time.perf_counter() - started, True)
            outages.call_failed(name, error)
            raise
        except Exception:  # the store answered (a conflict, a duplicate, a bad cursor)
            metrics.store_call(store, name, time.perf_counter() - started, False)
            outages.call_succeeded(name)
            raise
        metrics.store_call(store, name, time.perf_counter() - started, False)
        outages.call_succeeded(name)
        return result

    call.__name__ = name
    return call


def _kind(operation: str) -> str:
    """read, write, or check (the store's own health check, which may test both)."""
    if operation == "check":
        return "check"
    return "read" if operation in READS else "write"


def _cause(error: StoreUnavailable) -> str:
    """The domain's message and the driver's own words, on one line and bounded."""
    cause = str(error)
    driver = str(error.__cause__) if error.__cause__ is not None else ""
    if driver and driver not in cause:
        cause = f"{cause}: {driver}"
    cause = " ".join(cause.split())
    return cause if len(cause) <= MAX_CAUSE_CHARS else cause[: MAX_CAUSE_CHARS - 3] + "..."
