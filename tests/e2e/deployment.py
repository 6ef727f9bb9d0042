"""deploy/nginx as shipped, run for real: nginx + `esauth serve` + an app that echoes who it was told
is asking, over HTTPS with a test CA, on loopback. Used by tests/e2e/test_deployment.py (HTTP
clients) and tests/browser (Chromium), so both test one deployment.

Usage::

    with run_deployment(start_server, tmp_path) as deployment:
        deployment.https("GET", "/app/page")   # a request to nginx over TLS, trusting the test CA
        deployment.url                         # https://localhost:<nginx port>, ESAUTH_PUBLIC_URL too
        deployment.esauth                      # the EsauthServer behind it
"""

from __future__ import annotations

import http.client
import http.server
import json
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.e2e.harness import HOST, EsauthServer, StartServer
from tests.tools.nginx import render_deploy_template, run_nginx
from tests.tools.ports import free_port
from tests.tools.tls import CertificateFiles, make_test_ca

LOGIN_PATH = "/ui/login"
"""Where nginx sends a browser without a login: esauth's own sign-in page."""
PUBLIC_HOST = "localhost"
"""The name the test certificate and the browser use (a host name, so the cookies are a site's)."""
IDENTITY = ("x-auth-request-user", "x-auth-request-email", "x-auth-request-admin")
APP_CACHE_CONTROL = "public, max-age=600"


class EchoApp(http.server.BaseHTTPRequestHandler):
    """The protected app: answers JSON naming the identity headers (and Authorization and Cookie)
    it got, and says its pages may be cached by anyone (as a careless app would)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        seen = {name: self.headers.get_all(name) for name in (*IDENTITY, "authorization", "cookie", "x-forwarded-for")}
        body = json.dumps({"path": self.path, "headers": seen}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", APP_CACHE_CONTROL)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def echo_app(port: int) -> Iterator[None]:
    server = http.server.ThreadingHTTPServer((HOST, port), EchoApp)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class Https:
    """Requests to nginx over TLS, trusting only the test CA, each on its own connection."""

    def __init__(self, port: int, ca: Path) -> None:
        self.port = port
        self.context = ssl.create_default_context(cafile=str(ca))

    def connect(self, timeout_s: float = 10) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(PUBLIC_HOST, self.port, context=self.context, timeout=timeout_s)

    def __call__(self, method: str, path: str, body: object = None, **headers: str) -> tuple[int, dict[str, str], bytes]:
        connection = self.connect()
        try:
            data = None if body is None else json.dumps(body).encode()
            if data is not None:
                headers.setdefault("Content-Type", "application/json")
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            found = {name.lower(): value for name, value in response.getheaders() if name.lower() != "set-cookie"}
            cookies = [value for name, value in response.getheaders() if name.lower() == "set-cookie"]
            if cookies:
                found["set-cookie"] = "\n".join(cookies)
            return response.status, found, answer
        finally:
            connection.close()


@dataclass(frozen=True)
class Deployment:
    https: Https
    esauth: EsauthServer
    certs: CertificateFiles
    url: str


@contextmanager
def run_deployment(
    start_server: StartServer, workdir: Path, certs: CertificateFiles | None = None, **esauth_env: str
) -> Iterator[Deployment]:
    """The shipped template, filled in for loopback, in front of a fresh `esauth serve` (Secure
    cookies, one trusted proxy, ESAUTH_PUBLIC_URL the nginx URL) and the echo app.

    `certs` from make_test_ca, for a caller that must trust the CA before (a browser); else a new
    CA in `workdir`."""
    certs = certs or make_test_ca(workdir / "tls")
    app_port, nginx_port = free_port(), free_port()
    url = f"https://{PUBLIC_HOST}:{nginx_port}"
    esauth = start_server(
        ESAUTH_COOKIE_SECURE="true", ESAUTH_TRUSTED_PROXIES="1", ESAUTH_PUBLIC_URL=url, **esauth_env
    )
    config = render_deploy_template({
        "ESAUTH_LISTEN": f"{HOST}:{nginx_port}",
        "ESAUTH_SERVER_NAME": PUBLIC_HOST,
        "ESAUTH_TLS_CERT": str(certs.server_chain),
        "ESAUTH_TLS_KEY": str(certs.server_key),
        "ESAUTH_UPSTREAM": f"{HOST}:{esauth.port}",
        "ESAUTH_APP_UPSTREAM": f"{HOST}:{app_port}",
        "ESAUTH_LOGIN_PATH": LOGIN_PATH,
    })
    with echo_app(app_port), run_nginx(config, ports=[nginx_port], workdir=workdir / "nginx", worker_connections=2048):
        yield Deployment(Https(nginx_port, certs.ca_cert), esauth, certs, url)
