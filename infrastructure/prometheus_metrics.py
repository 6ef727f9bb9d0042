"""ports.metrics as Prometheus figures (prometheus_client), on a registry of our own."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.process_collector import ProcessCollector

from infrastructure.thread_tallies import ThreadTallies

log = logging.getLogger("esauth.metrics")

REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""From the cookie check (well under 1 ms) to a login that waited for the hashing pool."""
STORE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
HASH_WAIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What generate_latest writes, in the type every Prometheus version reads (newer clients
announce 1.0.0, which older servers do not know)."""


class PrometheusMetrics:
    """Every figure lives on `registry`, not prometheus_client's global one, so several apps (in
    tests, say) never share counts. What every request adds to (its count and latency, the
    session view's hit) is tallied per thread (infrastructure.thread_tallies); the rest is rare
    enough for prometheus_client's own Counter and Histogram, whose store children are looked up
    once and kept (label lookup takes a lock and builds tuples)."""

    def __init__(self, registry: CollectorRegistry | None = None, shared_dir: Path | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)  # memory, CPU and open files of this process
        r = self.registry
        # The figures every request adds to: counted per thread, without prometheus_client's locks.
        self._tallies = ThreadTallies(REQUEST_BUCKETS)
        r.register(self._tallies)
        self._throttled = Counter(
            "esauth_throttled", "Requests refused with 429: reason=login (the account's throttle) or client "
            "(the per-client rate limit).", ("reason",), registry=r,
        )
        self._logins = Counter("esauth_logins", "Logins answered, by outcome.", ("outcome",), registry=r)
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
        self._store_children: dict[tuple[str, str], tuple[Callable[[float], None], Callable[[], None]]] = {}
        self._shared = WorkerSnapshots(self.registry, shared_dir) if shared_dir is not None else None

    def watch_hash_queue(self, depth: Callable[[], int]) -> None:
        """Read the pool's queue depth at each scrape, costing nothing in between."""
        self._hash_queue.set_function(depth)

    def exposition(self) -> bytes:
        return self._shared.exposition() if self._shared is not None else generate_latest(self.registry)

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._tallies.request(route, method, status, seconds)

    def throttled(self, reason: str) -> None:
        self._throttled.labels(reason).inc()

    def login(self, outcome: str) -> None:
        self._logins.labels(outcome).inc()

    def session_cache(self, hit: bool) -> None:
        self._tallies.session_check(hit)

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


SNAPSHOT_EVERY_S = 1.0
LIVE_FOR_S = 5.0
"""A worker's gauges count while its snapshot is this fresh; its counters count for good."""


class WorkerSnapshots:
    """The figures of a server of several worker processes, whichever worker a scrape reaches.

    Each worker writes its own figures to `directory` once a second (a background thread, an
    atomic rename) and answers /metrics with its live figures plus every other worker's last
    snapshot, counters and histograms summed by labels. A worker that died leaves its counts
    in, so sums never go down; its gauges drop out once its snapshot is stale. process_* stay
    the answering worker's own. Why not prometheus_client's multiprocess mode: it writes an
    mmap file under one process-wide lock on every increment, on the cookie check's path.
    """

    def __init__(self, registry: CollectorRegistry, directory: Path) -> None:
        self._registry = registry
        self._directory = directory
        self._path = directory / f"worker-{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep_writing, name="esauth-metrics", daemon=True)
        self._thread.start()

    def exposition(self) -> bytes:
        merged: dict[str, tuple[str, str, dict[tuple[str, tuple], float]]] = {}
        now = time.time()
        _merge(merged, self._families(), live=True)
        for path in self._directory.glob("worker-*.json"):
            if path == self._path:
                continue
            try:
                snapshot = json.loads(path.read_text())
            except (OSError, ValueError):  # gone, or being replaced: the next scrape has it
                continue
            _merge(merged, snapshot["families"], live=now - snapshot["at"] < LIVE_FOR_S)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Merged(merged, self._registry))
        return generate_latest(registry)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._write()  # the last counts, for the sums of the workers that go on

    def _families(self) -> list[list[Any]]:
        return [
            [family.name, family.documentation, family.type, [[s.name, s.labels, s.value] for s in family.samples]]
            for family in self._registry.collect()
            if not family.name.startswith("process_")
        ]

    def _keep_writing(self) -> None:
        while not self._stop.wait(SNAPSHOT_EVERY_S):
            try:
                self._write()
            except Exception:  # a collector's fault must not end the snapshots: the next second tries again
                log.exception("cannot take this worker's metrics snapshot")

    def _write(self) -> None:
        try:
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"at": time.time(), "families": self._families()}))
            os.replace(temporary, self._path)
        except OSError as error:
            log.warning("cannot write this worker's metrics to %s: %s", self._directory, error.strerror)


def _merge(merged: dict, families: list[list[Any]], live: bool) -> None:
    for name, documentation, kind, samples in families:
        if kind == "gauge" and not live:
            continue
        values = merged.setdefault(name, (documentation, kind, {}))[2]
        for sample_name, labels, value in samples:
            key = (sample_name, tuple(sorted(labels.items())))
            if key not in values:
                values[key] = value
            elif sample_name.endswith("_created"):
                values[key] = min(values[key], value)  # a creation time is the earliest, not a sum
            else:
                values[key] += value


class _Merged:
    """A collector of the merged figures, and of the answering worker's process_* figures."""

    def __init__(self, merged: dict, own: CollectorRegistry) -> None:
        self._merged = merged
        self._own = own

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, kind, values) in self._merged.items():
            metric = Metric(name, documentation, kind)
            for (sample_name, labels), value in values.items():
                metric.add_sample(sample_name, dict(labels), value)
            yield metric
        yield from (family for family in self._own.collect() if family.name.startswith("process_"))
