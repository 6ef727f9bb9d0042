"""Workers of one server answer /metrics with everyone's figures: counters summed, gauges of the
live ones only (infrastructure.prometheus_metrics.WorkerSnapshots)."""

from __future__ import annotations

import json
import re
import time

from infrastructure.prometheus_metrics import LIVE_FOR_S, PrometheusMetrics


def sample(text: str, line_start: str) -> float:
    (value,) = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start)]
    return value


def test_counts_sum_over_workers_and_a_stale_worker_keeps_its_counts_but_not_its_gauges(tmp_path) -> None:
    here, there = PrometheusMetrics(shared_dir=tmp_path), PrometheusMetrics(shared_dir=tmp_path)
    try:
        for _ in range(2):
            here.request("/v1/test", "GET", 200, 0.001)
        for _ in range(3):
            there.request("/v1/test", "GET", 200, 0.002)
        here.watch_hash_queue(lambda: 1)
        there.watch_hash_queue(lambda: 4)
    finally:
        there.close()  # writes its last snapshot, as a worker that stops does
    try:
        text = here.exposition().decode()
        assert sample(text, 'esauth_http_requests_total{method="GET",route="/v1/test",status="200"}') == 5
        assert sample(text, 'esauth_http_request_duration_seconds_count{method="GET",route="/v1/test"}') == 5
        assert sample(text, 'esauth_http_request_duration_seconds_sum{method="GET",route="/v1/test"}') == 0.008
        assert sample(text, "esauth_hash_queue_depth ") == 5
        assert len(re.findall(r"^# TYPE esauth_http_requests_total counter$", text, re.M)) == 1
        assert sample(text, "process_resident_memory_bytes ") > 0  # the answering worker's own

        for snapshot in tmp_path.glob("worker-*.json"):  # `here` answers from memory, not its file
            stale = json.loads(snapshot.read_text())
            stale["at"] -= LIVE_FOR_S + 1
            snapshot.write_text(json.dumps(stale))
        text = here.exposition().decode()
        assert sample(text, 'esauth_http_requests_total{method="GET",route="/v1/test",status="200"}') == 5
        assert sample(text, "esauth_hash_queue_depth ") == 1
    finally:
        here.close()


def test_a_collector_failing_once_does_not_end_the_workers_snapshots(tmp_path) -> None:
    """The snapshot thread is all the other workers see of this one: an error from one collect
    (a bug, say) is logged and the next second's snapshot is written as usual."""
    from prometheus_client.core import GaugeMetricFamily

    class FailsOnce:
        calls = 0

        def collect(self):
            FailsOnce.calls += 1
            if FailsOnce.calls == 1:
                raise KeyError("a collector's bug")
            yield GaugeMetricFamily("esauth_test_alive", "Written after the failure.", value=FailsOnce.calls)

    metrics = PrometheusMetrics(shared_dir=tmp_path)
    try:
        metrics.registry.register(FailsOnce())
        deadline, names = time.monotonic() + 10, []
        while time.monotonic() < deadline and "esauth_test_alive" not in names:
            time.sleep(0.05)
            for snapshot in tmp_path.glob("worker-*.json"):
                try:
                    names = [family[0] for family in json.loads(snapshot.read_text())["families"]]
                except ValueError:
                    pass
        assert FailsOnce.calls >= 2 and "esauth_test_alive" in names, "no snapshot after the failing collect"
    finally:
        metrics.close()
