"""ports.metrics as Prometheus figures (prometheus_client), on a registry of our own."""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.process_collector import ProcessCollector

REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From the cookie check (well under 1 ms) to a login that waited for the hashing pool."""
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
HASH_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What generate_latest writes, in the type every Prometheus version reads (newer clients
announce 1.0.0, which older servers do not know)."""


class PrometheusMetrics:
    """Every figure lives on `registry`, not prometheus_client's global one, so several apps (in
    tests, say) never share counts. Labelled children are looked up once and kept: label lookup
    takes a lock and builds tuples, which the cookie check should not pay per request."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU and open files of this process
        r = self.registry
        self._requests = Counter(
            "esauth_http_requests", "HTTP requests answered, by route template and status.",
            ("route", "method", "status"), registry=r,
        )
        self._latency = Histogram(
            "esauth_http_request_duration_seconds", "Time from the request reaching the app to its answer.",
            ("route", "method"), buckets=REQUEST_BUCKETS, registry=r,
        )
        self._throttled = Counter(
            "esauth_throttled", "Requests refused with 429: reason=login (the account's throttle) or client "
            "(the per-client rate limit).", ("reason",), registry=r,
        )
        self._logins = Counter("esauth_logins", "Logins answered, by outcome.", ("outcome",), registry=r)
        self._session_cache = Counter(
            "esauth_session_cache", "Session checks answered from the short-lived view (hit) or by a store read "
            "(miss).", ("result",), registry=r,
        )
        self._store_latency = Histogram(
            "esauth_store_call_duration_seconds", "Calls of the user and login-failure stores.",
            ("store", "operation"), buckets=STORE_BUCKETS, registry=r,
        )
        self._store_errors = Counter(
            "esauth_store_errors", "Store calls that failed (the store did not answer).", ("store", "operation"),
            registry=r,
        )
        self._hash_wait = Histogram(
            "esauth_hash_queue_wait_seconds", "Time a hash waited in the pool's queue for a worker.",
            buckets=HASH_WAIT_BUCKETS, registry=r,
        )
        self._hash_queue = Gauge(
            "esauth_hash_queue_depth", "Hashes waiting for a worker of the hashing pool.", registry=r
        )
        self._request_children: dict[tuple[str, str, int], tuple[Callable[[], None], Callable[[float], None]]] = {}
        self._store_children: dict[tuple[str, str], tuple[Callable[[float], None], Callable[[], None]]] = {}
        self._hits = self._session_cache.labels("hit").inc
        self._misses = self._session_cache.labels("miss").inc

    def watch_hash_queue(self, depth: Callable[[], int]) -> None:
        """Read the pool's queue depth at each scrape, costing nothing in between."""
        self._hash_queue.set_function(depth)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children[key] = (
                self._requests.labels(route, method, str(status)).inc,
                self._latency.labels(route, method).observe,
            )
        children[0]()
        children[1](seconds)

    def throttled(self, reason: str) -> None:
        self._throttled.labels(reason).inc()

    def login(self, outcome: str) -> None:
        self._logins.labels(outcome).inc()

    def session_cache(self, hit: bool) -> None:
        (self._hits if hit else self._misses)()

    def store_call(self, store: str, operation: str, seconds: float, failed: bool) -> None:
        key = (store, operation)
        children = self._store_children.get(key)
        if children is None:
            children = self._store_children[key] = (
                self._store_latency.labels(store, operation).observe,
                self._store_errors.labels(store, operation).inc,
            )
        children[0](seconds)
        if failed:
            children[1]()

    def hash_wait(self, seconds: float) -> None:
        self._hash_wait.observe(seconds)
