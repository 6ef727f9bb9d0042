"""In-process cost of the forward-auth check against the login-required probe.

    .venv/bin/python bench/verify_cost.py [--requests 20000]

Builds the app as `esauth serve` does (SQLite in a temporary directory), logs one user in, makes a
bearer token, then calls the WSGI app directly (no sockets, no HTTP parsing) and prints CPU
microseconds per request for GET /v1/test, GET and HEAD /v1/auth/verify with the cookie, and GET
/v1/auth/verify with the token. The store is read at most once a second either way (the session
check's view), so this is the cost of the check itself.

The last row replays a cookie older than the re-issue interval, as a service that never stores
the Set-Cookie it is sent does: the server's clock is moved on past the interval (injected, no
sleep), so every request weighs whether that session is due a new cookie again.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from entrypoints.bootstrap import build_app, build_services  # noqa: E402
from entrypoints.config import Settings  # noqa: E402
from infrastructure.clock import utc_now  # noqa: E402

EMAIL = "bench@example.com"
PASSWORD = "correct horse battery staple"
ROUNDS = 5
REISSUE_INTERVAL_PASSED = timedelta(minutes=2)
"""Past SessionPolicy.refresh_after (a minute), well inside the idle timeout."""


def call(app, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[str, list, bytes]:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json" if body else "",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer: dict[str, object] = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = status, response_headers

    chunks = app(environ, start_response)
    data = b"".join(chunks)
    getattr(chunks, "close", lambda: None)()
    return str(answer["status"]), list(answer["headers"]), data


def per_request_us(app, method: str, path: str, headers: dict[str, str], n: int) -> float:
    status, _, _ = call(app, method, path, headers)
    assert status.startswith("200"), (path, status)
    started = time.process_time()
    for _ in range(n):
        call(app, method, path, headers)
    return (time.process_time() - started) / n * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings.from_env({
            "ESAUTH_DATA_DIR": data_dir, "ESAUTH_SECRET_KEY": "bench-signing-key-0123456789abcdef0123",
            "ESAUTH_COOKIE_SECURE": "false",
        })
        moved = timedelta(0)  # how far the server's clock is ahead: each row sets it (the loop below)

        def clock():
            return utc_now() + moved

        services = build_services(settings, clock)
        try:
            app = build_app(settings, services, clock)
            services.auth.register(EMAIL, PASSWORD)
            login = json.dumps({"email_address": EMAIL, "password": PASSWORD}).encode()
            _, headers, _ = call(app, "POST", "/v1/auth/login", {}, login)
            cookie = next(value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie")
            with_cookie = {"Cookie": cookie}
            token = None
            status, _, body = call(app, "POST", "/v1/users/me/tokens", with_cookie, json.dumps({"name": "bench", "current_password": PASSWORD}).encode())
            if status.startswith("201"):
                token = json.loads(body)["data"]["token"]
            unmoved = timedelta(0)
            rows = [
                ("GET /v1/test (cookie)", "GET", "/v1/test", with_cookie, unmoved),
                ("GET /v1/auth/verify (cookie)", "GET", "/v1/auth/verify", with_cookie, unmoved),
                ("HEAD /v1/auth/verify (cookie)", "HEAD", "/v1/auth/verify", with_cookie, unmoved),
            ]
            if token is not None:
                rows.append(("GET /v1/auth/verify (bearer)", "GET", "/v1/auth/verify", {"Authorization": f"Bearer {token}"}, unmoved))
            rows.append(("GET /v1/test (stale cookie replayed)", "GET", "/v1/test", with_cookie, REISSUE_INTERVAL_PASSED))
            # Rounds interleaved and the best of each kept: the machine is shared, and what is
            # measured is the work a request costs, not what else ran meanwhile.
            best = [float("inf")] * len(rows)
            for _ in range(ROUNDS):
                for index, (_, method, path, headers, moved) in enumerate(rows):
                    best[index] = min(best[index], per_request_us(app, method, path, headers, args.requests // ROUNDS))
            for (label, *_), cost in zip(rows, best):
                print(f"{label:38} {cost:7.1f} us CPU per request  ({cost / best[0]:.2f} of GET /v1/test)")
        finally:
            services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
