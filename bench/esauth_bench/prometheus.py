"""Reading esauth's own /metrics (Prometheus text), where the server serves it to loopback.

The session view's hits and misses are what the distinct-sessions scenario is about; read before
and after a run, they give its observed hit ratio. They are any `esauth_session_*_total` samples
labelled `result="hit"` or `result="miss"` (today `esauth_session_cache_total`; a rebuilt view may
count under another name), summed; with none, the ratio is left blank and the run goes on. A server without /metrics (bare Falcon, a release before it, ESAUTH_METRICS_ALLOW=none)
answers 404 and is simply not read.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from .common import BenchError
from .loopback import http_call

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?)\s+(\S+)')


def parse(text: str) -> dict[str, float]:
    """Every sample line, keyed by name and labels as written (`name{label="v"}`)."""
    samples = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if match and not line.startswith("#"):
            try:
                samples[match.group(1)] = float(match.group(2))
            except ValueError:
                pass
    return samples


def scrape(port: int) -> dict[str, float] | None:
    """The server's samples, or None when it serves no /metrics."""
    try:
        status, _, body = http_call(port, "GET", "/metrics")
    except OSError:
        return None
    return parse(body.decode("utf-8", "replace")) if status == 200 else None


VIEW_SAMPLE = re.compile(r'^esauth_session_\w*_total\{(?:[^}]*,)?result="(hit|miss)"')


def session_cache(samples: dict[str, float] | None) -> tuple[float, float] | None:
    """(hits, misses) of the session view, if the server counts them."""
    if samples is None:
        return None
    counts = {"hit": 0.0, "miss": 0.0}
    found = False
    for name, value in samples.items():
        match = VIEW_SAMPLE.match(name)
        if match:
            counts[match.group(1)] += value
            found = True
    return (counts["hit"], counts["miss"]) if found else None


def families(samples: dict[str, float]) -> list[str]:
    """The metric names served (labels and _total/_bucket/... suffixes dropped), sorted."""
    names = {re.sub(r"_(total|bucket|count|sum|created)$", "", name.split("{", 1)[0]) for name in samples}
    return sorted(names)


def store_calls(samples: dict[str, float] | None) -> float | None:
    """Calls esauth made of its store so far (reads, writes, the session view's looks for
    changes), from its own timing of each (`esauth_store_call_duration_seconds_count`)."""
    if samples is None:
        return None
    counts = [value for key, value in samples.items() if key.startswith("esauth_store_call_duration_seconds_count{")]
    return sum(counts) if counts else None


class Scraper:
    """Scrapes /metrics at once and then every `interval_s` while a run lasts, as a Prometheus
    server would; a run during which no scrape succeeded stops the bench (it priced nothing)."""

    def __init__(self, port: int, interval_s: float) -> None:
        self.port = port
        self.interval_s = interval_s
        self.scrapes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while True:
            if scrape(self.port) is not None:
                self.scrapes += 1
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> "Scraper":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        if self.scrapes == 0 and exc[0] is None:
            raise BenchError(f"no scrape of /metrics on port {self.port} succeeded during the run")
