"""Growth: 100,000 more users written straight into the store, then the cookie check and login again.

Their users are spread over the whole 100,000 (a prime stride), and each figure is compared with
the same scenario on 100 users (p50 at most 1.15x): a point read by key should not feel table size.
"""

from __future__ import annotations

from ..common import COOKIE_USERS, GROWTH_STRIDE, GROWTH_USERS, SEED_USERS
from ..seeding import log_in, seed_directly
from . import cookie_check, login
from .target import Target

PREFIX = "growth-"


def growth(t: Target, scenarios: set[str], diagnostics: bool) -> None:
    # The distinct-session users, if that scenario ran, are the first of the 100,000.
    more = GROWTH_USERS - t.direct_users
    if more > 0:
        seconds = seed_directly(t.env, SEED_USERS + t.direct_users, more)
        with_sessions = f" ({GROWTH_USERS:,} with the sessions' users)" if t.direct_users else ""
        print(f"  ({t.store}: wrote {more:,} more users directly in {seconds:.1f} s{with_sessions})", flush=True)
    spread = [SEED_USERS + (k * GROWTH_STRIDE) % GROWTH_USERS for k in range(1000)]
    sessions = log_in(t.server, t.bench.workdir, spread[:COOKIE_USERS]) if "test" in scenarios else None
    if sessions:
        cookie_check.hot_sessions(t, sessions, PREFIX)
    if "login" in scenarios:
        login.logins(t, right=True, unknown=False, login_users=spread[COOKIE_USERS:], prefix=PREFIX)
    if diagnostics and sessions:
        cookie_check.uncached(t, sessions, PREFIX)
