"""What esauth counts, as the code that sees it reports it; the Prometheus adapter is one reader."""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    """Events worth counting, reported where they happen; every method must cost microseconds,
    since some sit on the cookie check's path."""

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered; `route` is its template (e.g. /v1/users/{email})."""

    def throttled(self, reason: str) -> None:
        """A 429: `reason` is "login" (the account's throttle) or "client" (the per-client rate)."""

    def login(self, outcome: str) -> None:
        """A login answered: "ok", "failed", "throttled" or "inactive"."""

    def session_cache(self, hit: bool) -> None:
        """The session check found the user in this process's session view (or had to read)."""

    def store_call(self, store: str, operation: str, seconds: float, failed: bool) -> None:
        """One call of a store adapter, and whether it raised StoreUnavailable."""

    def hash_wait(self, seconds: float) -> None:
        """How long one hash waited in the pool's queue for a worker."""


class NoMetrics:
    """Counts nothing: the default wherever no one reads the figures (tests, CLI commands)."""

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        pass

    def throttled(self, reason: str) -> None:
        pass

    def login(self, outcome: str) -> None:
        pass

    def session_cache(self, hit: bool) -> None:
        pass

    def store_call(self, store: str, operation: str, seconds: float, failed: bool) -> None:
        pass

    def hash_wait(self, seconds: float) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()
