"""Everything measured on one store: start the store and `esauth serve` on it, seed 100 users over
HTTP, run each scenario family (the distinct sessions' users are written straight in), the same
through nginx (--nginx), then grow the store to each of --users and run the growth scenarios. The
store and every server are stopped at the end, also on errors."""

from __future__ import annotations

import time

from . import prometheus
from .common import COOKIE_USERS, SEED_USERS
from .runner import Bench
from .scenarios import behind_nginx, cookie_check, forward_auth, large_store, login, metrics, signup
from .scenarios.target import Target
from .seeding import SeedBudget, log_in, seed_over_http
from .servers import Server, esauth_env, start_esauth
from .stores import STARTERS


def run_store(bench: Bench, store_name: str, threads: int | None, threads_n: int, conns_list: list[int],
              scenarios: set[str], growth: list[int], diagnostics: bool, distinct_sessions: int,
              nginx: bool, seed_minutes: float) -> None:
    store = STARTERS[store_name](bench.procs, bench.workdir, bench.nonce)
    seed_budget = SeedBudget(seed_minutes)
    try:
        env = esauth_env(bench.workdir / f"data-{store_name}-{threads_n}", bench.args.workers, store.env)
        server = start_esauth(bench.procs, bench.workdir, store.name, env, threads, store.pid, store.reads)
        try:
            show_metrics(bench, server)
            t = Target(bench, server, store.name, threads_n, threads, conns_list, env)
            started = time.monotonic()
            seed_over_http(server, 0, SEED_USERS)
            print(f"  ({store.name}: seeded {SEED_USERS} users over HTTP in {time.monotonic() - started:.1f} s)",
                  flush=True)
            hot = log_in(server, bench.workdir, list(range(COOKIE_USERS))) if "test" in scenarios else None
            if hot:
                cookie_check.hot_sessions(t, hot)
                cookie_check.stale_sessions(t, hot)
                if "verify" in scenarios:
                    forward_auth.verify(t, hot)
            distinct = None
            if "sessions" in scenarios:
                distinct = cookie_check.distinct_sessions(t, distinct_sessions, seed_budget)
                if "verify" in scenarios:
                    forward_auth.verify(t, distinct, distinct=True)
            if nginx and (hot or distinct):
                behind_nginx.behind_nginx(t, hot, distinct)
            if "metrics" in scenarios and hot:
                metrics.metrics_cost(t, hot)
            login.logins(t, right="login" in scenarios, unknown="unknown" in scenarios,
                         login_users=list(range(COOKIE_USERS, SEED_USERS)))
            if "signup" in scenarios:
                signup.signups(t)
            if diagnostics and hot:
                cookie_check.uncached(t, hot)
            if growth:
                large_store.growth(t, scenarios, diagnostics, growth, seed_budget, distinct)
        finally:
            bench.procs.stop(server.proc)
    finally:
        store.close()  # idempotent: stop_all calls it again at the end


def show_metrics(bench: Bench, server: Server) -> None:
    """Print (once a run) what esauth's /metrics serves, so a run shows which session-view
    counters the hit ratio could be read from, whatever they are named."""
    if bench.results.metrics_names:
        return
    samples = prometheus.scrape(server.port)
    if samples is None:
        print("  (this esauth serves no /metrics: no session view hit ratio)", flush=True)
        return
    bench.results.metrics_names = prometheus.families(samples)
    counted = prometheus.session_cache(samples) is not None
    print(f"  (/metrics serves {', '.join(bench.results.metrics_names)}; session view hits "
          f"{'counted' if counted else 'not counted under esauth_session_*_total{result=hit|miss}: that column stays blank'})",
          flush=True)
