"""What metrics and the access log cost the cookie check, in-process (no waitress, no sockets).

    .venv/bin/python bench/metrics_cost.py [--calls 20000] [--rounds 7]

Calls the WSGI app directly with GET /v1/test and a valid session cookie, as built by the
composition root over SQLite in a temporary directory, and prints CPU microseconds per request
(the best of several rounds, the cases taking turns) for: bare Falcon (bench/bare_app.py), esauth with metrics off
(ESAUTH_METRICS_ALLOW=none) and the access log off, metrics on, and metrics plus the access
log (written to a file). The ratios are "requests per CPU second" against metrics off and
against bare Falcon, like make bench's.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import falcon
import falcon.testing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bare_app import bare_app  # noqa: E402
from entrypoints.bootstrap import build_app, build_services  # noqa: E402
from entrypoints.config import Settings  # noqa: E402
from entrypoints.logs import TEXT_FORMAT  # noqa: E402

PASSWORD = "correct horse battery"


def one_round_us(app: Callable, environ_for: Callable[[], dict], calls: int) -> float:
    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        assert status.startswith("200"), status

    environs = [environ_for() for _ in range(calls)]
    started = time.process_time()
    for environ in environs:
        for _chunk in app(environ, start_response):
            pass
    return (time.process_time() - started) / calls * 1e6


def esauth_case(settings: Settings) -> tuple[Callable, Callable[[], dict], Callable[[], None]]:
    services = build_services(settings)
    app = build_app(settings, services)
    client = falcon.testing.TestClient(app)
    client.simulate_post("/v1/users/new", json={"email_address": "bench@example.com", "password": PASSWORD})
    login = client.simulate_post("/v1/auth/login", json={"email_address": "bench@example.com", "password": PASSWORD})
    assert login.status_code == 200, login.text
    cookie = f"session={login.cookies['session'].value}"
    return app, lambda: falcon.testing.create_environ("/v1/test", headers={"Cookie": cookie}), services.close


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = logging.getLogger()
        root.setLevel(logging.INFO)
        handler = logging.FileHandler(Path(tmp) / "access.log")
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
        root.addHandler(handler)
        base = Settings(data_dir=Path(tmp), secret_keys=("k" * 48,), cookie_secure=False, access_log=False)
        logging.getLogger("esauth").setLevel(logging.WARNING)  # start-up lines; esauth.access is set below
        cases = {
            "bare Falcon": (bare_app(), lambda: falcon.testing.create_environ("/v1/test"), lambda: None),
            "metrics off": esauth_case(replace(base, metrics_allow=())),
            "metrics on": esauth_case(base),
            "metrics + access log": esauth_case(replace(base, access_log=True)),
        }
        logging.getLogger("esauth.access").setLevel(logging.INFO)
        results = {name: float("inf") for name in cases}
        try:
            for _ in range(args.rounds):  # cases take turns, so a busy moment hits them all alike
                for name, (app, environ_for, _) in cases.items():
                    results[name] = min(results[name], one_round_us(app, environ_for, args.calls))
        finally:
            for _, _, close in cases.values():
                close()
            root.removeHandler(handler)
            handler.close()
    off, bare = results["metrics off"], results["bare Falcon"]
    print(f"GET /v1/test with a valid cookie, CPU per request (best of {args.rounds} x {args.calls}):")
    for name, us in results.items():
        print(f"  {name:22s} {us:6.1f} us   {off / us:5.2f} of metrics off   {bare / us:5.2f} of bare Falcon")
    return 0


if __name__ == "__main__":
    sys.exit(main())
