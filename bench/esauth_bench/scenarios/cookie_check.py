"""GET /v1/test, the login-required probe: the cost of checking a session cookie.

- `hot_sessions`: the 16 seeded users' sessions in turn, so each user makes a request every few
  milliseconds and the check meets the per-process session view (ESAUTH_SESSION_CHECK_CACHE_MS).
- `distinct_sessions`: --sessions (10,000) users, each with one live session, taking turns: each
  request comes from another user, and each user comes back only every N / (req/s) seconds
  (issue 14's production shape). Every session is checked once first (warm_up), as in production
  every user has been seen before; the session view then serves it until it changes.
- `stale_sessions`: the same 16 sessions with cookies a minute past their re-issue, replayed as a
  client that never stores the new cookie does: each session is re-issued once per interval on
  each worker, every other answer only weighs it.
- `uncached`: the 16 sessions against a second server with the view off, which reads the store on
  every request: what a miss costs.

Every cookie file is a seeding.LiveSessions, minted afresh before a run once it is 30 s old, so
no answer re-issues the cookie (which would price a re-sign per request instead).
"""

from __future__ import annotations

import time

from infrastructure.prometheus_metrics import SNAPSHOT_EVERY_S

from .. import prometheus
from ..common import SEED_USERS, BenchError
from ..loopback import http_call
from ..seeding import LiveSessions, SeedBudget, seed_directly
from ..runner import Bench
from ..servers import Server, start_esauth
from .target import Target, growth_label, growth_prefix

def hot_sessions(t: Target, sessions: LiveSessions, grown: int = 0) -> None:
    prefix, growth = growth_prefix(grown), growth_label(grown)
    for conns in t.conns_list:
        t.bench.scenario(f"{prefix}test-{t.store}-t{t.threads}-c{conns}", f"GET /v1/test{growth}", t.store, t.threads,
                         t.server, "/v1/test", "get.lua", conns, lambda: [f"cookies={sessions.file()}"], 200)


def stale_sessions(t: Target, sessions: LiveSessions) -> None:
    """GET /v1/test with the 16 sessions' cookies as a client replays them that never stores a
    re-issued one (seeding.LiveSessions.stale): read against the fresh cookies' row, since
    issue 14 asks that such a client cost no more than a fresh one."""
    stale = sessions.stale()
    for conns in t.conns_list:
        t.bench.scenario(f"stale-{t.store}-t{t.threads}-c{conns}", "GET /v1/test, stale cookies replayed", t.store,
                         t.threads, t.server, "/v1/test", "get.lua", conns, lambda: [f"cookies={stale.file()}"], 200)


def distinct_sessions(t: Target, count: int, budget: SeedBudget | None = None) -> LiveSessions:
    """GET /v1/test from `count` users in turn (get.lua: each wrk thread takes every other line).

    The users (numbers SEED_USERS on: the first of the growth range) are written straight into
    the store, each holding one live session id, and their cookies are minted for those ids with
    the server's key.
    """
    from domain.auth import new_session_id

    ids = {SEED_USERS + k: new_session_id() for k in range(count)}
    seconds = seed_directly(t.env, SEED_USERS, count, session_ids=lambda i: (ids[i],),
                            deadline=budget.deadline() if budget else None)
    if budget:
        budget.spend(seconds)
    t.direct_users = count
    print(f"  ({t.store}: wrote {count:,} users with a live session each directly in {seconds:.1f} s)", flush=True)
    sessions = LiveSessions(t.env, t.bench.workdir, ids)
    lines = sessions.file().read_text().splitlines()
    for line in (lines[0], lines[len(lines) // 2], lines[-1]):
        status, _, body = http_call(t.server.port, "GET", "/v1/test", cookie=line)
        if status != 200:
            raise BenchError(f"GET /v1/test with a minted cookie answered {status} {body[:200]!r}")
    warm_view(t.bench, t.server, sessions, max(t.conns_list))
    distinct_rows(t, sessions)
    return sessions


def warm_view(bench: Bench, server: Server, sessions: LiveSessions, conns: int) -> None:
    """Every distinct session checked before the runs, on every worker: after the server starts,
    and after anything that empties its view (a bulk write the change feed cannot list)."""
    warm_up(server.port, sessions.file().read_text().splitlines(), 4 * bench.args.workers)
    warm_every_worker(bench, server, sessions, conns)


WARM_PASSES = 8
"""Turns through the distinct sessions that warm_every_worker aims at: a user each worker has not
met yet is left with odds of about 2^-8 on two workers."""


def warm_every_worker(bench: Bench, server: Server, sessions: LiveSessions, conns: int) -> None:
    """With several workers, the single pass of warm_up meets each user on one worker only (the
    kernel hands each connection to one of them): wrk then walks the sessions WARM_PASSES times
    over many connections, unmeasured, so every worker's view holds nearly every user before the
    runs. (In the 2026-12-02 run without it, the first run of each distinct-session row on two
    workers read 10-12% of its users from the store and measured 0.3-0.5 of the next two.)"""
    if bench.args.workers == 1:
        return
    seconds = max(2, round(WARM_PASSES * sessions.count / 5000))  # at the ~5,000 req/s a cold worker manages
    bench.wrk_once(server, "/v1/test", "get.lua", conns, seconds, [f"cookies={sessions.file()}"], 200)
    # The kernel may still have given one worker most of those connections, leaving the other
    # some users it never met (3-4% of the checks of the first row after it, in the runs on
    # a5cde1f). So more passes, each over every session, until one reads (almost) nothing.
    for _ in range(MORE_WARM_PASSES):
        before = view_misses(server)
        if before is None:
            return  # a server that does not count them: the passes above are all it gets
        bench.wrk_once(server, "/v1/test", "get.lua", conns, max(2, round(2 * sessions.count / 5000)),
                       [f"cookies={sessions.file()}"], 200)
        after = view_misses(server)
        if after is None or after - before <= sessions.count * WARM_ENOUGH:
            return


MORE_WARM_PASSES = 4
WARM_ENOUGH = 0.001
"""Misses per distinct session in one more pass under which the view counts as warm."""


def view_misses(server: Server) -> float | None:
    """The session view's misses so far, all workers', read once every worker's last snapshot of
    its figures is newer than the pass before (they are written once a second)."""
    time.sleep(SNAPSHOT_EVERY_S + 0.2)
    counts = prometheus.session_cache(prometheus.scrape(server.port))
    return counts[1] if counts else None


def distinct_rows(t: Target, sessions: LiveSessions, grown: int = 0) -> None:
    """GET /v1/test from the distinct sessions in turn; on a grown store (`grown` users), the same
    sessions again, they being the first of its users."""
    from entrypoints.config import Settings

    view_ms = Settings.from_env(t.env).session_check_cache_ms
    prefix, growth = growth_prefix(grown), growth_label(grown)
    for conns in t.conns_list:
        row = t.bench.scenario(f"{prefix}sessions-{t.store}-t{t.threads}-c{conns}",
                               f"GET /v1/test, {sessions.count:,} sessions{growth}", t.store, t.threads, t.server,
                               "/v1/test", "get.lua", conns, lambda: [f"cookies={sessions.file()}"], 200)
        row.sessions, row.session_view_ms, row.workers = sessions.count, view_ms, t.bench.args.workers


def warm_up(port: int, cookies: list[str], connections: int) -> None:
    """Every session checked once before the runs, from several keep-alive connections in turn
    (so each worker meets most of them): production's steady state, where every user has been
    seen before and comes back. A run of a few seconds over 10,000 users would otherwise price
    mostly first visits, which the session view cannot serve. (A worker that missed a user reads
    it once during the runs; the observed hit ratio says how many did.)"""
    import http.client

    pool = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(connections)]
    try:
        for turn, cookie in enumerate(cookies):
            connection = pool[turn % connections]
            connection.request("GET", "/v1/test", headers={"Cookie": cookie})
            with connection.getresponse() as answer:
                answer.read()
                if answer.status != 200:
                    raise BenchError(f"warming up the session view: GET /v1/test answered {answer.status}")
    finally:
        for connection in pool:
            connection.close()


def uncached(t: Target, sessions: LiveSessions, grown: int = 0) -> None:
    """GET /v1/test with ESAUTH_SESSION_CHECK_CACHE_MS=0: what the per-request store read costs."""
    # The same store and secret key, with the session check reading the store on every request.
    env = {**t.env, "ESAUTH_SESSION_CHECK_CACHE_MS": "0"}
    server = start_esauth(t.bench.procs, t.bench.workdir, t.store, env, t.threads_flag, t.server.store_pid,
                          t.server.store_reads)
    prefix, growth = growth_prefix(grown), growth_label(grown)
    try:
        for conns in t.conns_list:
            t.bench.scenario(f"{prefix}uncached-{t.store}-t{t.threads}-c{conns}",
                             f"GET /v1/test, no session cache{growth}", t.store, t.threads, server, "/v1/test",
                             "get.lua", conns, lambda: [f"cookies={sessions.file()}"], 200)
    finally:
        t.bench.procs.stop(server.proc)
