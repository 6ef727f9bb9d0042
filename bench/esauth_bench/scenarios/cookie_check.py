"""GET /v1/test, the login-required probe: the cost of checking a session cookie.

- `hot_sessions`: the 16 seeded users' cookies in turn, so each user makes a request every few
  milliseconds and the check meets the per-process session view (ESAUTH_SESSION_CHECK_CACHE_MS).
- `uncached`: the same cookies against a second server with the view off, which reads the store on
  every request: what a miss costs.
"""

from __future__ import annotations

from pathlib import Path

from ..servers import start_esauth
from .target import Target

GROWTH = " (100k users)"


def hot_sessions(t: Target, cookies: Path, prefix: str = "") -> None:
    growth = GROWTH if prefix else ""
    for conns in t.conns_list:
        t.bench.scenario(f"{prefix}test-{t.store}-t{t.threads}-c{conns}", f"GET /v1/test{growth}", t.store, t.threads,
                         t.server, "/v1/test", "get.lua", conns, lambda: [f"cookies={cookies}"], 200)


def uncached(t: Target, cookies: Path, prefix: str = "") -> None:
    """GET /v1/test with ESAUTH_SESSION_CHECK_CACHE_MS=0: what the per-request store read costs."""
    # The same store and secret key, with the session check reading the store on every request.
    env = {**t.env, "ESAUTH_SESSION_CHECK_CACHE_MS": "0"}
    server = start_esauth(t.bench.procs, t.bench.workdir, t.store, env, t.threads_flag, t.server.store_pid)
    growth = GROWTH if prefix else ""
    try:
        for conns in t.conns_list:
            t.bench.scenario(f"{prefix}uncached-{t.store}-t{t.threads}-c{conns}",
                             f"GET /v1/test, no session cache{growth}", t.store, t.threads, server, "/v1/test",
                             "get.lua", conns, lambda: [f"cookies={cookies}"], 200)
    finally:
        t.bench.procs.stop(server.proc)
