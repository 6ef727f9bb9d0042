"""The esauth benchmark: every endpoint against its physical limit, measured in one run.

    .venv/bin/python bench/run.py            # full run (about 25 min), writes BENCHMARKS.md
    .venv/bin/python bench/run.py --quick    # 1 run of 2 s per figure, prints only
    .venv/bin/python bench/run.py --quick --nginx --peers all --users 100000   # a quick look at those too

It starts `esauth serve` on a free loopback port on each store of --stores: the embedded SQLite
store, Elasticsearch (an osmem-server it starts) and a real OpenSearch node (tests/opensearch/
node.py starts it from Maven Central), seeds 100 users over HTTP, and drives every scenario with
wrk (a separate process, Lua scripts in bench/wrk/) at 16 and 64 connections: GET /v1/test with
16 users' cookies in turn, GET /v1/test with --sessions (10,000) distinct users' cookies in turn
(written straight into the store, cookies minted with the server's key), login with the right
password, login with an unknown email, and sign-up; with --nginx, the cookie checks,
/v1/auth/verify and an auth_request-protected app through deploy/nginx's config (beside bare
Falcon behind it). Then it grows the store to each of --users (100,000 and 1,000,000; written
straight in, in bulk, with one shared argon2 hash, bounded by --seed-minutes) and runs GET
/v1/test and login again. With --peers, Flask-Login, fastapi-users and Django's auth are measured
in the same run, each in a venv of its own the bench builds (bench/peers/, peer_envs). The baselines are
measured in the same run with the same waitress settings: a bare Falcon app (bench/bare_app.py)
and raw argon2 hash/verify with esauth's parameters and thread count (bench/argon2_baseline.py).
A diagnostic runs GET /v1/test again with ESAUTH_SESSION_CHECK_CACHE_MS=0, pricing the
per-request store read.

The server gets ESAUTH_COOKIE_SECURE=false, a temp ESAUTH_DATA_DIR, a random ESAUTH_SECRET_KEY
and the per-client rate limit lifted (wrk is one client); ESAUTH_ARGON2_*, ESAUTH_SESSION_*
and ESAUTH_LOG_* pass through from the caller. Each figure is the median of --runs runs of
--duration seconds, after a 1 s warm-up; a run during which other jobs on the machine used
more than --max-other-load cores is measured again (within --noise-budget). Login with the
right password and with an unknown email (same store and connections) are measured in turns,
a run of one then a run of the other, so the machine's drift hits both alike. Everything is on
127.0.0.1, and every process it starts is stopped at the end, also on errors and Ctrl-C.
--quick leaves nginx, the peers and the large stores out unless their flags ask for them.

wrk: found on PATH (or --wrk PATH); if missing, installed with `apt-get install wrk` when
running as root on Debian/Ubuntu (--no-install to forbid); otherwise the run stops and says how.

The code is the package bench/esauth_bench/ (its __init__ says which module holds what); this
file is only its entry point.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # esauth's packages and tests.opensearch

from esauth_bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
