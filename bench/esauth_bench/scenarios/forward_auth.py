"""GET /v1/auth/verify, the answer a proxy (nginx auth_request, Traefik, Caddy) asks for before
each request it lets through (issue 10). Its cost should be the cookie check's, so each row is
read against GET /v1/test's at the same store, sessions and connections. An esauth without the
route (404) gets no rows, and the run says so.
"""

from __future__ import annotations

from ..common import BenchError
from ..loopback import http_call
from ..seeding import LiveSessions
from .target import Target

PATH = "/v1/auth/verify"


def verify(t: Target, sessions: LiveSessions, distinct: bool = False) -> None:
    cookie = sessions.file().read_text().splitlines()[0]
    status, _, body = http_call(t.server.port, "GET", PATH, cookie=cookie)
    if status == 404:
        print(f"  (this esauth has no {PATH}: its rows are left out)", flush=True)
        return
    if status != 200:
        raise BenchError(f"GET {PATH} with a live cookie answered {status} {body[:200]!r}")
    kind, label = ("verifysessions", f"GET {PATH}, {sessions.count:,} sessions") if distinct else ("verify", f"GET {PATH}")
    for conns in t.conns_list:
        t.bench.scenario(f"{kind}-{t.store}-t{t.threads}-c{conns}", label, t.store, t.threads, t.server, PATH,
                         "get.lua", conns, lambda: [f"cookies={sessions.file()}"], 200)
