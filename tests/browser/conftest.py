"""A real Chromium (Debian's, installed with apt-get when missing) driven by Playwright, through the
nginx deployment of deploy/nginx (tests/e2e/deployment.py) over HTTPS.

Playwright's own browser downloads cannot work here and are never used: the browser is
/usr/bin/chromium, started headless once per module, a fresh context (no cookies, no cache) per
test. It trusts the module's test CA for real: Chromium on Linux reads the trust anchors a user
added from the NSS database in $HOME/.pki/nssdb, so the browser runs with a HOME of its own whose
database holds that CA (certutil, from Debian's libnss3-tools). No certificate error is ignored.
"""

from __future__ import annotations

import http.server
import os
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.deployment import PUBLIC_HOST, Deployment, run_deployment
from tests.e2e.harness import HOST, StartServer, start_server
from tests.tools.debian import ensure_installed
from tests.tools.tls import CertificateFiles, make_test_ca

__all__ = ["start_server"]

CHROMIUM = "/usr/bin/chromium"
CERTUTIL = "/usr/bin/certutil"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
WAIT_MS = 15_000
"""The bound on every wait for a page, a navigation or an element."""
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    """The module's CA: made before the browser starts, since the browser trusts it at start."""
    return make_test_ca(tmp_path_factory.mktemp("tls"))


def trusting_home(home: Path, ca: CertificateFiles) -> Path:
    """A HOME whose NSS database trusts `ca` to identify web servers (and nothing else)."""
    certutil = ensure_installed(CERTUTIL, "libnss3-tools")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    subprocess.run([certutil, "-N", "-d", f"sql:{database}", "--empty-password"], check=True, timeout=30)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{database}", "-n", "esauth test CA", "-t", "C,,", "-i", str(ca.ca_cert)],
        check=True, timeout=30,
    )
    return home


@pytest.fixture(scope="module")
def browser(test_ca: CertificateFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = ensure_installed(CHROMIUM, "chromium")
    home = trusting_home(tmp_path_factory.mktemp("browser-home"), test_ca)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, timeout=WAIT_MS, env={**os.environ, "HOME": str(home)},
        )
        try:
            yield launched
        finally:
            launched.close()


def new_context(browser: Browser) -> BrowserContext:
    """A fresh profile: no cookies, no cache; a phone-sized window."""
    made = browser.new_context(viewport={"width": 420, "height": 760})
    made.set_default_timeout(WAIT_MS)
    made.set_default_navigation_timeout(WAIT_MS)
    return made


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = new_context(browser)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def deployment(start_server: StartServer, tmp_path: Path, test_ca: CertificateFiles) -> Iterator[Deployment]:
    """nginx + esauth + the echo app, fresh for each test, under the module's CA. A test's
    messages (the sign-up's confirmation, then a reset) follow each other within seconds, so the
    per-address message cooldown is off here (tests/unit and tests/http test it)."""
    with run_deployment(
        start_server, tmp_path, certs=test_ca, ESAUTH_ARGON2_MEMORY_KIB="19456", ESAUTH_EMAIL_COOLDOWN="0"
    ) as running:
        yield running


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Saves a full-page PNG under tests/browser/artifacts/<test>/<name>.png (gitignored)."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class _OnePage(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_origin(test_ca: CertificateFiles) -> Iterator[Callable[..., str]]:
    """`serve(html, same_site=True) -> url`: a page on a second origin, stopped afterwards.

    same_site: https://localhost on another port, which browsers count as the same site (ports
    do not make sites), so SameSite=Lax cookies go with its requests and only esauth's checks
    stand in the way; else http://127.0.0.1, another site altogether."""
    servers: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def serve(html: str, same_site: bool = True) -> str:
        handler = type("Page", (_OnePage,), {"body": html.encode()})
        server = http.server.ThreadingHTTPServer((HOST, 0), handler)
        if same_site:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(test_ca.server_chain, test_ca.server_key)
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        port = server.server_address[1]
        return f"https://{PUBLIC_HOST}:{port}/" if same_site else f"http://{HOST}:{port}/"

    try:
        yield serve
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
