"""A real Chromium (Debian's, installed with apt-get when missing) driven by Playwright, against a
real `esauth serve` on loopback over plain http (Secure cookies off: the nginx + TLS test tools
are not on this branch yet).

Playwright's own browser downloads cannot work here and are never used: the browser is
/usr/bin/chromium, started headless with a fresh profile (a new context per test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.e2e.harness import HOST, EsauthServer, StartServer, free_port, start_server

__all__ = ["start_server"]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
WAIT_MS = 15_000
"""The bound on every wait for a page, a navigation or an element."""
ARTIFACTS = Path(__file__).parent / "artifacts"


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (as bench installs wrk)."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(f"{CHROMIUM} is missing and this run cannot install it (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=True, timeout=900)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"apt-get install chromium did not provide {CHROMIUM}")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile: no cookies, no cache; a phone-sized window."""
    made = browser.new_context(viewport={"width": 420, "height": 760})
    made.set_default_timeout(WAIT_MS)
    made.set_default_navigation_timeout(WAIT_MS)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def esauth(start_server: StartServer, tmp_path: Path) -> EsauthServer:
    port = free_port()
    return start_server(
        port=port,
        ESAUTH_PUBLIC_URL=f"http://{HOST}:{port}",
        ESAUTH_ARGON2_MEMORY_KIB="19456",
        # A test's messages (the sign-up's confirmation, then a reset) follow each other within
        # seconds; the per-address cooldown itself is tested in tests/unit and tests/http.
        ESAUTH_EMAIL_COOLDOWN="0",
    )


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):
    """Saves a full-page PNG under tests/browser/artifacts/<test>/<name>.png (gitignored)."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class _OnePage(BaseHTTPRequestHandler):
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
def other_origin() -> Iterator[callable]:
    """`serve(html) -> url`: a page on a second loopback origin (another port), stopped afterwards."""
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def serve(html: str) -> str:
        handler = type("Page", (_OnePage,), {"body": html.encode()})
        server = ThreadingHTTPServer((HOST, 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://{HOST}:{server.server_address[1]}/"

    try:
        yield serve
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
