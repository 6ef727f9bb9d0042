"""The nginx deployment: deploy/nginx/esauth.conf.template rendered as the e2e test renders it
(tests/tools/nginx.py, TLS with a test CA, Debian's nginx installed with apt-get when missing),
in front of `esauth serve` (ESAUTH_TRUSTED_PROXIES=1, as the template says), with bare Falcon
behind the same config as the baseline.

The config is served as shipped but for its per-client budgets (50 requests/s, 20 connections
per address): wrk is one client, so they are lifted here as ESAUTH_CLIENT_REQUESTS_PER_MINUTE
is for esauth. Rows, at each connection count, over HTTPS with keep-alive:
- `nginxbare`: GET /v1/test of bare Falcon through nginx (measured once per run);
- `nginxtest`, `nginxsessions`: esauth's GET /v1/test with the 16 hot sessions and with the
  --sessions distinct ones;
- `nginxverifysessions`: GET /v1/auth/verify, the distinct sessions;
- `nginxapp`: GET /app, an app (bare Falcon) protected by auth_request: nginx asks esauth's
  /v1/auth/verify for each request, then proxies to the app. This is the forward-auth shape.
"""

from __future__ import annotations

import http.client
import ssl
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from ..common import HTTP_TIMEOUT_S, BenchError
from ..measure import process_tree
from ..loopback import free_port
from ..seeding import LiveSessions
from ..servers import Server, esauth_env, start_bare_falcon, start_esauth
from .cookie_check import warm_view
from .target import Target

LIFTED = {
    "rate=2r/s;": "rate=1000000r/s;",
    "rate=50r/s;": "rate=1000000r/s;",
    "limit_conn esauth_connections 20;": "limit_conn esauth_connections 60000;",
}
"""The template's per-client budgets and what the bench serves instead (wrk is one client)."""
WORKER_CONNECTIONS = 4096
"""What the template's header asks nginx's events block for."""
APP_PATH = "/app"


@dataclass
class BehindNginx(Server):
    """A server (esauth or bare Falcon) as wrk reaches it: through nginx over TLS. Its CPU and
    /metrics are still the server's own (port); the load meter counts nginx's and the protected
    app's too (the app's own work under auth_request is the bench's, not another job's)."""
    nginx_port: int = 0
    nginx_pid: int = 0
    app_pid: int = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.nginx_port}"

    @property
    def pids(self) -> list[int]:
        app = process_tree(self.app_pid) if self.app_pid and self.app_pid != self.proc.pid else []
        return super().pids + process_tree(self.nginx_pid) + app


def lifted(config: str) -> str:
    for shipped, bench in LIFTED.items():
        if shipped not in config:
            raise BenchError(f"deploy/nginx's template has no `{shipped}` any more: update LIFTED in {__name__}")
        config = config.replace(shipped, bench)
    return config


def front(stack: ExitStack, workdir: Path, server: Server, app: Server) -> BehindNginx:
    """nginx in front of `server`, protecting `app`, its files in `workdir`, until `stack` closes."""
    from tests.tools.nginx import NginxError, render_deploy_template, run_nginx
    from tests.tools.tls import make_test_ca

    certs = make_test_ca(workdir / "tls")
    port = free_port()
    config = lifted(render_deploy_template({
        "ESAUTH_LISTEN": f"127.0.0.1:{port}",
        "ESAUTH_SERVER_NAME": "localhost",
        "ESAUTH_TLS_CERT": str(certs.server_chain),
        "ESAUTH_TLS_KEY": str(certs.server_key),
        "ESAUTH_UPSTREAM": f"127.0.0.1:{server.port}",
        "ESAUTH_APP_UPSTREAM": f"127.0.0.1:{app.port}",
        "ESAUTH_LOGIN_PATH": "/login",
    }))
    try:
        nginx = stack.enter_context(run_nginx(config, ports=[port], workdir=workdir / "run",
                                              worker_connections=WORKER_CONNECTIONS))
    except NginxError as error:
        raise BenchError(f"nginx: {error}") from None
    return BehindNginx(f"{server.name} behind nginx", server.proc, server.port, server.log_path, server.env,
                       server.store_pid, server.store_reads, server.counts_sessions, port, nginx.process.pid,
                       app.proc.pid)


def answers(front: BehindNginx, path: str, cookie: str) -> None:
    """One request through nginx with a live cookie is let in, and one without is not: the rows
    price the deployment working, not its error pages."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the bench's own test CA, loopback
    for sent, expected in ((cookie, 200), (None, 401)):
        connection = http.client.HTTPSConnection("127.0.0.1", front.nginx_port, context=context,
                                                 timeout=HTTP_TIMEOUT_S)
        try:
            connection.request("GET", path, headers={"Cookie": sent} if sent else {})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != expected:
            raise BenchError(f"GET {path} through nginx {'with' if sent else 'without'} a live cookie answered "
                             f"{response.status}, not {expected}: {body[:200]!r}")


def behind_nginx(t: Target, hot: LiveSessions | None, distinct: LiveSessions | None) -> None:
    bench = t.bench
    with ExitStack() as stack:
        bare = start_bare_falcon(bench.procs, bench.workdir, esauth_env(bench.workdir / "bare-nginx",
                                                                        bench.args.workers), t.threads_flag)
        stack.callback(bench.procs.stop, bare.proc)
        if any(bench.results.get(f"nginxbare-t{t.threads}-c{c}") is None for c in t.conns_list):
            bare_front = front(stack, bench.workdir / "nginx-bare", bare, bare)
            for conns in t.conns_list:
                bench.scenario(f"nginxbare-t{t.threads}-c{conns}", "bare Falcon GET behind nginx (baseline)", "—",
                               t.threads, bare_front, "/v1/test", "get.lua", conns, lambda: [], 200)
        # The same secret key and cookie settings as the server the cookies were minted for.
        env = {**t.env, "ESAUTH_TRUSTED_PROXIES": "1"}
        esauth = start_esauth(bench.procs, bench.workdir, t.store, env, t.threads_flag, t.server.store_pid,
                              t.server.store_reads)
        stack.callback(bench.procs.stop, esauth.proc)
        served = front(stack, bench.workdir / f"nginx-{t.store}", esauth, bare)
        rows = []
        if hot:
            rows.append(("nginxtest", "GET /v1/test behind nginx", "/v1/test", hot))
        if distinct:
            n = f"{distinct.count:,} sessions"
            rows += [("nginxsessions", f"GET /v1/test behind nginx, {n}", "/v1/test", distinct),
                     ("nginxverifysessions", f"GET /v1/auth/verify behind nginx, {n}", "/v1/auth/verify", distinct),
                     ("nginxapp", f"GET {APP_PATH} via auth_request, {n}", APP_PATH, distinct)]
        if distinct:  # a new server: each session checked once first, as the direct rows do
            warm_view(bench, esauth, distinct, max(t.conns_list))
        for kind, label, path, sessions in rows:
            answers(served, path, sessions.file().read_text().splitlines()[0])
            for conns in t.conns_list:
                row = bench.scenario(f"{kind}-{t.store}-t{t.threads}-c{conns}", label, t.store, t.threads, served,
                                     path, "get.lua", conns, lambda sessions=sessions: [f"cookies={sessions.file()}"],
                                     200)
                row.sessions, row.workers = sessions.count, bench.args.workers
