"""Growth: 100,000 more users written straight into the store, then the cookie check and login again.

Their users are spread over the whole 100,000 (a prime stride), and each figure is compared with
the same scenario on 100 users (p50 at most 1.15x): a point read by key should not feel table size.
"""

from __future__ import annotations

from ..common import COOKIE_USERS, GROWTH_STRIDE, GROWTH_USERS, SEED_USERS
from ..seeding import cookies_for, seed_directly
from . import cookie_check, login
from .target import Target

PREFIX = "growth-"


def growth(t: Target, scenarios: set[str], diagnostics: bool) -> None:
    seconds = seed_directly(t.env, SEED_USERS, GROWTH_USERS)
    print(f"  ({t.store}: wrote {GROWTH_USERS:,} more users directly in {seconds:.1f} s)", flush=True)
    spread = [SEED_USERS + (k * GROWTH_STRIDE) % GROWTH_USERS for k in range(1000)]
    cookies = cookies_for(t.server, t.bench.workdir, spread[:COOKIE_USERS]) if "test" in scenarios else None
    if cookies:
        cookie_check.hot_sessions(t, cookies, PREFIX)
    if "login" in scenarios:
        login.logins(t, right=True, unknown=False, login_users=spread[COOKIE_USERS:], prefix=PREFIX)
    if diagnostics and cookies:
        cookie_check.uncached(t, cookies, PREFIX)
