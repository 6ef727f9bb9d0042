"""Growth: the store grown to each of --users (100,000; also 1,000,000) with users written
straight in, then the cookie check (the 16 sessions, and the distinct sessions when that scenario
ran: their users are the first of the grown store) and login again at each size.

The users are spread over the whole store (a prime stride), and each figure is compared with the
same scenario on 100 users (p50 at most 1.15x): a point read by key should not feel table size.
Seeding is bulk (seeding.seed_directly) and bounded by --seed-minutes per store: past it, the
sizes not reached are left out (saying so) and the run goes on. How long each took is printed
and kept for the report.
"""

from __future__ import annotations

import time

from ..common import COOKIE_USERS, GROWTH_STRIDE, SEED_USERS
from ..seeding import LiveSessions, SeedBudget, SeedingTooLong, log_in, seed_directly
from . import cookie_check, login
from .target import Target


def growth(t: Target, scenarios: set[str], diagnostics: bool, sizes: list[int], budget: SeedBudget,
           distinct: LiveSessions | None = None) -> None:
    for size in sorted(sizes):
        # The distinct-session users, if that scenario ran, are the first of them.
        more = size - t.direct_users
        if more > 0:
            started = time.monotonic()
            try:
                seconds = seed_directly(t.env, SEED_USERS + t.direct_users, more, deadline=budget.deadline())
            except SeedingTooLong as error:
                budget.spend(time.monotonic() - started)
                note = f"{t.store}: growing to {size:,} users: {error}; its rows and the larger sizes' are left out"
                t.bench.results.seeding.append(note)
                print(f"  ({note})", flush=True)
                return
            budget.spend(seconds)
            t.direct_users = size
            note = f"{t.store}: {more:,} users written in {seconds:.1f} s ({more / seconds:,.0f}/s), {size:,} in all"
            t.bench.results.seeding.append(note)
            print(f"  ({note})", flush=True)
        spread = [SEED_USERS + (k * GROWTH_STRIDE) % size for k in range(1000)]
        sessions = log_in(t.server, t.bench.workdir, spread[:COOKIE_USERS]) if "test" in scenarios else None
        if sessions:
            cookie_check.hot_sessions(t, sessions, size)
        if distinct:
            # The bulk write just made is more change than one look lists, so the view was emptied
            # (domain/session_view): warm it again, as after any other start.
            cookie_check.warm_view(t.bench, t.server, distinct, max(t.conns_list))
            cookie_check.distinct_rows(t, distinct, size)
        if "login" in scenarios:
            login.logins(t, right=True, unknown=False, login_users=spread[COOKIE_USERS:], grown=size)
        if diagnostics and sessions:
            cookie_check.uncached(t, sessions, size)
