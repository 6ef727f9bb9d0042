"""A PasswordHasher that does its hashing on a few dedicated threads, one per core by default."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from ports.hasher import PasswordHasher
from ports.metrics import NO_METRICS, Metrics

T = TypeVar("T")


def cores_available() -> int:
    """The cores this process may run on (its CPU affinity), which can be fewer than the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_for_worker(total: int, workers: int, worker: int) -> int:
    """Worker `worker`'s (1-based) share of `total` hashing threads split over `workers`
    processes: as even as can be, the first ones taking the remainder, and never below one,
    so all workers together run `max(total, workers)` hashes at once."""
    if not 1 <= worker <= workers:
        raise ValueError(f"worker {worker} is not one of 1..{workers}")
    return max(1, total // workers + (1 if worker <= total % workers else 0))


class PooledHasher:
    """Runs `hash` and `verify` of another PasswordHasher on `workers` threads; callers wait.

    Why not on the request threads: glibc gives every thread that allocates its own malloc arena,
    and each arena keeps the last argon2 buffer it held, so with 8 request threads the server kept
    8 x 19 MiB resident after its first busy minute (measured: 166 MiB peak for raw verifies on
    8 threads, 52 MiB through a pool of 2). And more hashes at once than cores only time-slice
    against each other: a pool of one per core verified as fast or faster on this 2-core machine.
    The wait is fair (FIFO), so a known and an unknown email still cost the same.
    """

    def __init__(self, inner: PasswordHasher, workers: int, metrics: Metrics = NO_METRICS) -> None:
        if workers < 1:
            raise ValueError("at least one hashing worker is required")
        self.inner = inner
        self.workers = workers
        self._metrics = metrics
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="esauth-hash")
        self._waiting = 0
        self._lock = threading.Lock()

    @property
    def queue_depth(self) -> int:
        """Hashes submitted that no worker has started yet: what a new one waits behind."""
        return self._waiting

    def saturated(self, limit: int) -> bool:
        """True when at least `limit` hashes wait for a worker: a new login would wait for
        `limit / workers` hashes before its own, on top of it."""
        return self._waiting >= limit

    def hash(self, password: str) -> str:
        return self._run(self.inner.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self._run(self.inner.verify, password_hash, password)

    def _run(self, work: Callable[..., T], *args: str) -> T:
        queued_at = time.perf_counter()
        with self._lock:
            self._waiting += 1

        def started() -> T:
            with self._lock:
                self._waiting -= 1
            self._metrics.hash_wait(time.perf_counter() - queued_at)
            return work(*args)

        try:
            future = self._pool.submit(started)
        except BaseException:
            with self._lock:
                self._waiting -= 1
            raise
        return future.result()

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)  # reads the parameters out of the hash: no work

    def close(self) -> None:
        """Finish the hashes under way; later calls raise RuntimeError."""
        self._pool.shutdown(wait=True)
