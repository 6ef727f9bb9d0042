"""Do the email verification and change routes tell whether an account exists? Prints medians and ratios.

The way bench/login_timing.py measures login, through the whole app (composition root, SQLite,
argon2 with the configured defaults), the cases of each pair taking turns so machine noise hits
both alike:
- `POST /v1/auth/verify-email/resend`: an unverified account's address against an unknown one;
- `POST /v1/auth/password-reset` (it now shares the per-address message cooldown): known against unknown;
- `POST /v1/users/me/email`: a new address that has an account against a free one;
- `POST /v1/auth/login` with ESAUTH_EMAIL_VERIFICATION=required: unknown address against a wrong
  password (the 403 for an unverified account comes only after the right password).

    .venv/bin/python bench/email_timing.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from falcon.testing import TestClient

from entrypoints.bootstrap import build_app, build_services
from entrypoints.config import Settings

PASSWORD = "correct horse battery"
COOKIE = "__Host-session"


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def pair(rounds: int, first: Callable[[int], object], second: Callable[[int], object]) -> tuple[float, float]:
    a, b = [], []
    for n in range(rounds):
        a.append(timed(lambda: first(n)))
        b.append(timed(lambda: second(n)))
    return statistics.median(a), statistics.median(b)


def expect(status: int, result) -> None:
    assert result.status_code == status, (result.status_code, result.text)


def report(name: str, first: str, second: str, medians: tuple[float, float]) -> None:
    a, b = medians
    print(f"{name}: {first} {a * 1000:.2f} ms, {second} {b * 1000:.2f} ms, ratio {a / b:.3f}  (target: within 0.80-1.20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    rounds = parser.parse_args().rounds

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), secret_keys=("k" * 48,), client_requests_per_minute=1_000_000)
        services = build_services(settings)
        client = TestClient(build_app(settings, services))
        for n in range(rounds):
            expect(201, client.simulate_post("/v1/users", json={"email_address": f"user{n}@example.com", "password": PASSWORD}))

        def post(path: str, body: dict, status: int, **kwargs) -> Callable[[int], object]:
            return lambda n: expect(status, client.simulate_post(path, json={k: v.format(n=n) for k, v in body.items()}, **kwargs))

        resend = "/v1/auth/verify-email/resend"
        report("resend", "unverified account", "unknown address", pair(
            rounds, post(resend, {"email_address": "user{n}@example.com"}, 202), post(resend, {"email_address": "nobody{n}@example.com"}, 202),
        ))
        reset = "/v1/auth/password-reset"
        report("reset request", "known", "unknown", pair(
            rounds, post(reset, {"email_address": "user{n}@example.com"}, 202), post(reset, {"email_address": "nobody{n}@example.com"}, 202),
        ))

        expect(201, client.simulate_post("/v1/users", json={"email_address": "me@example.com", "password": PASSWORD}))
        login = client.simulate_post("/v1/auth/login", json={"email_address": "me@example.com", "password": PASSWORD})
        expect(200, login)
        cookies = {COOKIE: login.cookies[COOKIE].value}
        change = "/v1/users/me/email"
        report("email change", "taken new address", "free new address", pair(
            rounds,
            post(change, {"current_password": PASSWORD, "new_email_address": "user{n}@example.com"}, 202, cookies=cookies),
            post(change, {"current_password": PASSWORD, "new_email_address": "free{n}@example.com"}, 202, cookies=cookies),
        ))
        services.close()  # the messages are written before the directory goes

    with tempfile.TemporaryDirectory() as data_dir:
        required = Settings(
            data_dir=Path(data_dir), secret_keys=("k" * 48,), client_requests_per_minute=1_000_000, email_verification="required"
        )
        services = build_services(required)
        client = TestClient(build_app(required, services))
        for n in range(rounds):
            expect(201, client.simulate_post("/v1/users", json={"email_address": f"user{n}@example.com", "password": PASSWORD}))
        login = "/v1/auth/login"
        report("login, verification required", "unknown email", "wrong password", pair(
            rounds,
            post(login, {"email_address": "nobody{n}@example.com", "password": PASSWORD}, 400),
            post(login, {"email_address": "user{n}@example.com", "password": PASSWORD + "!"}, 400),
        ))
        services.close()
    print(f"argon2 t={settings.argon2_time_cost} m={settings.argon2_memory_kib} KiB p={settings.argon2_parallelism}, {rounds} rounds each")


if __name__ == "__main__":
    main()
