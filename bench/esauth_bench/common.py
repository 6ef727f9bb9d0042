"""What every part of the bench shares: where things are, the seeded users, and BenchError."""

from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
WRK_SCRIPTS = BENCH_DIR / "wrk"

PASSWORD = "bench-password-1234"
EMAIL = "user-{}@bench.example.com"
SEED_USERS = 100
COOKIE_USERS = 16
"""Users 0..15 hold the cookies for GET /v1/test and never log in during the login scenarios
(a user keeps 10 live sessions, so logging them in again would revoke the cookies)."""
GROWTH_USERS = 100_000
LARGEST_STORE = 1_000_000
"""The store sizes --growth runs at by default (--users)."""
GROWTH_STRIDE = 9973
"""A prime stride spreads the growth scenarios' users over the whole 100,000."""
WARMUP_S = 1
RATE_LIMIT_LIFTED = 1_000_000_000
SERVER_START_TIMEOUT_S = 60
HTTP_TIMEOUT_S = 30
MiB = 1024 * 1024


class BenchError(RuntimeError):
    """A reason to stop the run, worded for the person running it."""
