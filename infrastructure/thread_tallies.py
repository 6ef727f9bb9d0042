"""The figures every request adds to, counted per thread and summed when scraped.

prometheus_client's Counter and Histogram take a lock on each value they change: a request's
count, its latency bucket and its sum, and the session view's hit, four lock round trips on
every GET /v1/test. In process they cost 6-13 us of a check that costs 35 us with no figures
at all (bench/metrics_cost.py). Here each request thread adds to tallies of its own, which
no other thread writes, so no increment takes a lock and none is lost; a scrape copies every
thread's tallies (each copy one C call under the GIL) and yields the same families, names and
labels prometheus_client would, so what Prometheus reads is unchanged.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from typing import Callable, Iterator, Sequence

from prometheus_client.core import Metric
from prometheus_client.utils import floatToGoString

REQUESTS = ("esauth_http_requests", "HTTP requests answered, by route template and status.")
LATENCY = ("esauth_http_request_duration_seconds", "Time from the request reaching the app to its answer.")
SESSION_VIEW = (
    "esauth_session_cache",
    "Session checks answered from the session view (hit) or by a store read (miss).",
)


class _Shard:
    """One thread's tallies: only that thread writes them."""

    __slots__ = ("requests", "hits", "misses")

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], list[float]] = {}
        """(route, method, status) -> a count per latency bucket (the last is +Inf), then the sum."""
        self.hits = 0
        self.misses = 0


class ThreadTallies:
    """A prometheus_client collector (register it on a registry) that the hot path adds to."""

    def __init__(self, buckets: Sequence[float], wall_clock: Callable[[], float] = time.time) -> None:
        self._bounds = tuple(buckets)
        self._wall_clock = wall_clock
        self._created_at = wall_clock()
        self._local = threading.local()
        self._shards: list[_Shard] = []
        self._lock = threading.Lock()  # taken once per thread, at its first count, and by scrapes
        self._created: dict[tuple[str, str, int], float] = {}

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        shard = self._shard()
        key = (route, method, status)
        tally = shard.requests.get(key)
        if tally is None:
            # Its creation time first: a scrape that finds the key must find that too.
            self._created.setdefault(key, self._wall_clock())
            tally = shard.requests[key] = [0] * (len(self._bounds) + 1) + [0.0]
        tally[bisect_left(self._bounds, seconds)] += 1  # the first bucket whose bound is >= seconds
        tally[-1] += seconds

    def session_check(self, hit: bool) -> None:
        shard = self._shard()
        if hit:
            shard.hits += 1
        else:
            shard.misses += 1

    def _shard(self) -> _Shard:
        try:
            return self._local.shard
        except AttributeError:
            shard = self._local.shard = _Shard()
            with self._lock:
                self._shards.append(shard)  # kept after its thread ends: a count never goes down
            return shard

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            shards = list(self._shards)
        totals: dict[tuple[str, str, int], list[float]] = {}
        hits = misses = 0
        for shard in shards:
            for key, tally in shard.requests.copy().items():
                counts = tally.copy()
                total = totals.setdefault(key, [0] * len(counts))
                for i, value in enumerate(counts):
                    total[i] += value
            hits += shard.hits
            misses += shard.misses
        yield self._requests(totals)
        yield self._latency(totals)
        views = Metric(*SESSION_VIEW, "counter")
        for result, count in (("hit", hits), ("miss", misses)):
            views.add_sample(f"{SESSION_VIEW[0]}_total", {"result": result}, count)
            views.add_sample(f"{SESSION_VIEW[0]}_created", {"result": result}, self._created_at)
        yield views

    def _requests(self, totals: dict[tuple[str, str, int], list[float]]) -> Metric:
        family = Metric(*REQUESTS, "counter")
        for (route, method, status), tally in totals.items():
            labels = {"route": route, "method": method, "status": str(status)}
            family.add_sample(f"{REQUESTS[0]}_total", labels, sum(tally[:-1]))
            family.add_sample(f"{REQUESTS[0]}_created", labels, self._created[(route, method, status)])
        return family

    def _latency(self, totals: dict[tuple[str, str, int], list[float]]) -> Metric:
        """One histogram per route and method, whatever the status (as the Histogram was)."""
        by_route: dict[tuple[str, str], tuple[list[float], float]] = {}
        for (route, method, status), tally in totals.items():
            summed, created = by_route.get((route, method), ([0] * len(tally), float("inf")))
            by_route[(route, method)] = (
                [a + b for a, b in zip(summed, tally)], min(created, self._created[(route, method, status)]),
            )
        family = Metric(*LATENCY, "histogram")
        name = LATENCY[0]
        for (route, method), (tally, created) in by_route.items():
            labels = {"route": route, "method": method}
            cumulative = 0
            for bound, count in zip((*self._bounds, float("inf")), tally[:-1]):
                cumulative += count
                family.add_sample(f"{name}_bucket", {**labels, "le": floatToGoString(bound)}, cumulative)
            family.add_sample(f"{name}_count", labels, cumulative)
            family.add_sample(f"{name}_sum", labels, tally[-1])
            family.add_sample(f"{name}_created", labels, created)
        return family
