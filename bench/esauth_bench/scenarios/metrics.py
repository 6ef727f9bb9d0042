"""What /metrics costs the cookie check (issue 12: keep it at 0.75 of bare Falcon or more).

GET /v1/test with the 16 hot sessions, measured in turns on three servers sharing the store:
metrics off (ESAUTH_METRICS_ALLOW=none: no route, nothing counted), metrics on (the default, as
every other row runs), and metrics on with /metrics scraped every second while the run lasts
(Prometheus scrapes every 15 s by default; 1 s bounds that from above). An esauth without
/metrics gets no rows, and the run says so.
"""

from __future__ import annotations

from .. import prometheus
from ..common import BenchError
from ..runner import Spec
from ..seeding import LiveSessions
from ..servers import start_esauth
from .target import Target

SCRAPE_INTERVAL_S = 1.0


def metrics_cost(t: Target, sessions: LiveSessions) -> None:
    if prometheus.scrape(t.server.port) is None:
        print("  (this esauth serves no /metrics: the metrics rows are left out)", flush=True)
        return
    env = {**t.env, "ESAUTH_METRICS_ALLOW": "none"}
    off = start_esauth(t.bench.procs, t.bench.workdir, t.store, env, t.threads_flag, t.server.store_pid,
                       t.server.store_reads)
    try:
        if prometheus.scrape(off.port) is not None:
            raise BenchError("ESAUTH_METRICS_ALLOW=none still serves /metrics")
        args = lambda: [f"cookies={sessions.file()}"]  # noqa: E731
        scraped = lambda: prometheus.Scraper(t.server.port, SCRAPE_INTERVAL_S)  # noqa: E731
        for conns in t.conns_list:
            common = dict(store=t.store, threads=t.threads, path="/v1/test", script="get.lua", conns=conns,
                          script_args=args, expected=200)
            suffix = f"{t.store}-t{t.threads}-c{conns}"
            t.bench.interleaved([
                Spec(f"metricsoff-{suffix}", "GET /v1/test, metrics off", server=off, **common),
                Spec(f"metricson-{suffix}", "GET /v1/test, metrics on", server=t.server, **common),
                Spec(f"scraped-{suffix}", f"GET /v1/test, /metrics scraped every {SCRAPE_INTERVAL_S:g} s",
                     server=t.server, alongside=scraped, **common),
            ])
    finally:
        t.bench.procs.stop(off.proc)
