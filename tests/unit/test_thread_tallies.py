"""The request figures counted per thread (infrastructure.thread_tallies) read exactly as
prometheus_client's own Counter and Histogram read for the same requests, from any number of
threads, and none is lost."""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from infrastructure.prometheus_metrics import REQUEST_BUCKETS
from infrastructure.thread_tallies import ThreadTallies

REQUESTS = [
    ("/v1/test", "GET", 200, 0.0004),
    ("/v1/test", "GET", 200, 0.0005),  # on a bound: counted in that bucket (le is <=)
    ("/v1/test", "GET", 401, 0.003),
    ("/v1/auth/login", "POST", 200, 0.07),
    ("/v1/auth/login", "POST", 429, 11.0),  # past the last bound: +Inf only
    ("unmatched", "GET", 404, 0.0001),
]


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple], float]:
    """Every sample but the creation times, which differ between any two collectors."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
        if not s.name.endswith("_created")
    }


def reference(requests: list[tuple[str, str, int, float]], views: list[bool]) -> CollectorRegistry:
    registry = CollectorRegistry()
    count = Counter("esauth_http_requests", "HTTP requests answered, by route template and status.",
                    ("route", "method", "status"), registry=registry)
    latency = Histogram("esauth_http_request_duration_seconds", "Time from the request reaching the app to its answer.",
                        ("route", "method"), buckets=REQUEST_BUCKETS, registry=registry)
    cache = Counter("esauth_session_cache", "Session checks answered from the session view (hit) or by a store "
                    "read (miss).", ("result",), registry=registry)
    cache.labels("hit")
    cache.labels("miss")
    for route, method, status, seconds in requests:
        count.labels(route, method, str(status)).inc()
        latency.labels(route, method).observe(seconds)
    for hit in views:
        cache.labels("hit" if hit else "miss").inc()
    return registry


def tallied(tallies: ThreadTallies) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(tallies)
    return registry


def test_the_exposition_equals_prometheus_clients_for_the_same_requests() -> None:
    tallies = ThreadTallies(REQUEST_BUCKETS)
    for request in REQUESTS:
        tallies.request(*request)
    views = [True, True, False]
    for hit in views:
        tallies.session_check(hit)
    assert samples(tallied(tallies)) == samples(reference(REQUESTS, views))


def test_nothing_counted_yet_reads_as_prometheus_client_with_no_requests() -> None:
    assert samples(tallied(ThreadTallies(REQUEST_BUCKETS))) == samples(reference([], []))


def test_counts_from_many_threads_sum_exactly_and_outlive_their_threads() -> None:
    tallies = ThreadTallies(REQUEST_BUCKETS)
    threads, per_thread = 8, 5000
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for i in range(per_thread):
            tallies.request("/v1/test", "GET", 200, 0.0004)
            tallies.session_check(i % 2 == 0)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()  # the threads are gone; what they counted stays
    got = samples(tallied(tallies))
    total = threads * per_thread
    assert got[("esauth_http_requests_total", (("method", "GET"), ("route", "/v1/test"), ("status", "200")))] == total
    assert got[("esauth_http_request_duration_seconds_bucket",
                (("le", "0.0005"), ("method", "GET"), ("route", "/v1/test")))] == total
    assert got[("esauth_session_cache_total", (("result", "hit"),))] == total / 2
    assert got[("esauth_session_cache_total", (("result", "miss"),))] == total / 2


def test_a_scrape_while_threads_count_sees_no_error_and_never_a_count_going_down() -> None:
    tallies = ThreadTallies(REQUEST_BUCKETS)

    def work(n: int) -> None:
        for i in range(20000):
            tallies.request(f"/route/{(n + i) % 50}", "GET", 200 + i % 3, 0.001)  # new keys keep appearing

    workers = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    seen, scrapes = 0.0, 0
    while True:
        running = any(worker.is_alive() for worker in workers)
        got = samples(tallied(tallies))
        total = sum(v for (name, _), v in got.items() if name == "esauth_http_requests_total")
        assert total >= seen
        seen, scrapes = total, scrapes + 1
        if not running:
            break
    for worker in workers:
        worker.join()
    final = samples(tallied(tallies))
    assert sum(v for (name, _), v in final.items() if name == "esauth_http_requests_total") == 40000


def test_a_scrape_between_a_new_keys_creation_and_its_first_count_finds_its_creation_time() -> None:
    """The clock is read as a request meets a key no thread has seen: a scrape at that very moment
    (here made inside the clock, deterministically) must not find the key without its time."""
    scrapes: list[dict] = []

    def clock_that_scrapes() -> float:
        if tallies_ready:
            scrapes.append(samples(tallied(tallies)))
        return 1_800_000_000.0

    tallies_ready = False
    tallies = ThreadTallies(REQUEST_BUCKETS, wall_clock=clock_that_scrapes)
    tallies_ready = True
    tallies.request("/v1/test", "GET", 500, 0.002)
    assert scrapes, "the clock was not read at the new key"
    got = samples(tallied(tallies))
    assert got[("esauth_http_requests_total", (("method", "GET"), ("route", "/v1/test"), ("status", "500")))] == 1
